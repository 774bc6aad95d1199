//! `courier-bridge links`: the keys are created, rotated keeping the previous one, and a
//! link made by hand opens only what it names, until two rotations later.

use crate::support::TestStack;
use cli::error::exit;
use domain::ports::Secrets;
use links::{LinkRefused, LinkSecret, Purpose};

const SHIPMENT: &str = "shopify:acme:9007199254740993:1";

async fn stored(stack: &TestStack) -> LinkSecret {
    let store = aws::secrets::SecretStore::new(
        aws_sdk_secretsmanager::Client::new(&stack.sdk),
        "courier-bridge/",
        std::time::Duration::ZERO,
    );
    let text = store.text(links::SECRET_NAME).await.expect("the link keys");
    serde_json::from_str(&text).expect("link keys JSON")
}

fn token(link: &str) -> &str {
    link.strip_prefix("https://pages.example/t/")
        .unwrap_or_else(|| panic!("a link under the base URL: {link}"))
}

#[tokio::test]
async fn link_keys_are_created_then_rotated_and_links_live_through_one_rotation() {
    let stack = TestStack::create("cli-links").await;
    // The keys live under the deployment's prefix; start from none.
    let _ = aws_sdk_secretsmanager::Client::new(&stack.sdk)
        .delete_secret()
        .secret_id("courier-bridge/links")
        .force_delete_without_recovery(true)
        .send()
        .await;
    let track = [
        "links",
        "track",
        "--shipment",
        SHIPMENT,
        "--base-url",
        "https://pages.example/",
    ];
    let err = stack.run(&track).await.unwrap_err();
    assert_eq!(err.exit_code(), exit::REFUSED, "{err}");
    assert!(err.to_string().contains("links rotate"), "{err}");

    let said = stack.run(&["links", "rotate"]).await.unwrap();
    assert!(said.starts_with("link keys created"), "{said}");
    let first = stored(&stack).await;
    assert_eq!(first.previous, None);

    let link = stack.run(&track).await.unwrap();
    let now_s = domain::clock::now_ms() / 1000;
    let shipment = SHIPMENT.parse().unwrap();
    let keys = first.keys().unwrap();
    assert_eq!(
        keys.verify(token(&link), Purpose::Track, now_s),
        Ok(shipment)
    );
    // Thirty days by default.
    assert_eq!(
        keys.verify(token(&link), Purpose::Track, now_s + 30 * 86_400 + 5),
        Err(LinkRefused::Expired)
    );

    let said = stack.run(&["links", "rotate"]).await.unwrap();
    assert!(said.starts_with("link keys rotated"), "{said}");
    let second = stored(&stack).await;
    assert_eq!(second.previous.as_deref(), Some(first.current.as_str()));
    assert!(second
        .keys()
        .unwrap()
        .verify(token(&link), Purpose::Track, now_s)
        .is_ok());

    stack.run(&["links", "rotate"]).await.unwrap();
    let third = stored(&stack).await;
    assert_eq!(
        third
            .keys()
            .unwrap()
            .verify(token(&link), Purpose::Track, now_s),
        Err(LinkRefused::Forged)
    );

    // A local stack has no PagesUrl: the base URL must be given.
    let err = stack
        .run(&["links", "track", "--shipment", SHIPMENT])
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), exit::USAGE, "{err}");
    stack.teardown().await;
}
