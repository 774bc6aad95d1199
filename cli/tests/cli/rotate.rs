//! `courier-bridge rotate`: a sender's signing secret replaced, the previous one kept with
//! the time it is accepted until, every other credential untouched; what cannot be rotated
//! is refused and left as it was.

use crate::support::TestStack;
use cli::error::exit;
use domain::ports::Secrets;
use serde_json::{json, Value};

fn store(stack: &TestStack) -> aws::secrets::SecretStore {
    aws::secrets::SecretStore::new(
        aws_sdk_secretsmanager::Client::new(&stack.sdk),
        "courier-bridge/",
        std::time::Duration::ZERO,
    )
}

async fn stored(stack: &TestStack, name: &str) -> Value {
    let text = store(stack).text(name).await.expect("the secret");
    serde_json::from_str(&text).expect("JSON")
}

#[tokio::test]
async fn a_senders_secret_is_rotated_keeping_the_previous_one_for_its_grace_period() {
    let stack = TestStack::create("cli-rotate").await;
    let secrets = store(&stack);
    let shopify = json!({
        "webhook_secret": "whsec_old", "admin_access_token": "shpat_1",
        "admin_api_base_url": "https://acme.myshopify.com"
    });
    secrets
        .write("shopify/rotate-acme", &shopify.to_string())
        .await
        .unwrap();
    let before = time::OffsetDateTime::now_utc();
    let said = stack
        .run(&[
            "rotate",
            "shopify",
            "rotate-acme",
            "--secret",
            "whsec_new",
            "--grace-hours",
            "2",
        ])
        .await
        .unwrap();
    assert!(
        said.contains("courier-bridge/shopify/rotate-acme rotated"),
        "{said}"
    );
    assert!(
        !said.contains("The new secret"),
        "a given secret is not printed"
    );
    let now = stored(&stack, "shopify/rotate-acme").await;
    assert_eq!(now["webhook_secret"], "whsec_new");
    assert_eq!(now["previous_webhook_secret"], "whsec_old");
    assert_eq!(now["admin_access_token"], "shpat_1");
    assert_eq!(now["admin_api_base_url"], "https://acme.myshopify.com");
    let until = time::OffsetDateTime::parse(
        now["previous_valid_until"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let grace = until - before;
    assert!(
        grace >= time::Duration::hours(2)
            && grace < time::Duration::hours(2) + time::Duration::minutes(1),
        "{grace}"
    );
    // What intake reads of it.
    let read: channels::webhook_secret::WebhookSecret =
        serde_json::from_value(now.clone()).unwrap();
    assert_eq!(
        read.verify(before, |key| key == "whsec_old"),
        Some(domain::audit::SignedWith::Previous)
    );

    // The generic API's secret, with a new one made and printed.
    secrets
        .write("api/rotate-custom", r#"{"signing_secret": "cb_old"}"#)
        .await
        .unwrap();
    let said = stack
        .run(&["rotate", "api", "rotate-custom"])
        .await
        .unwrap();
    let printed = said
        .lines()
        .find_map(|line| line.strip_prefix("The new secret: "))
        .expect("the made secret is printed");
    let api = stored(&stack, "api/rotate-custom").await;
    assert_eq!(api["signing_secret"], printed);
    assert_eq!(api["previous_signing_secret"], "cb_old");

    // Refused, and nothing changed: the same secret again, an unknown store, a sender
    // that signs nothing, a name that is no store's.
    let err = stack
        .run(&["rotate", "shopify", "rotate-acme", "--secret", "whsec_new"])
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), exit::REFUSED, "{err}");
    assert_eq!(stored(&stack, "shopify/rotate-acme").await, now);
    let err = stack
        .run(&["rotate", "woocommerce", "rotate-nobody"])
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), exit::REFUSED, "{err}");
    assert!(
        err.to_string().contains("connect the sender first"),
        "{err}"
    );
    for args in [
        ["rotate", "ebay", "rotate-acme"],
        ["rotate", "shopify", "Rotate Acme"],
    ] {
        let err = stack.run(&args).await.unwrap_err();
        assert_eq!(err.exit_code(), exit::USAGE, "{err}");
    }
}
