//! `courier-bridge store`: a store's configuration, validated before it is written.

use crate::support::TestStack;
use cli::error::exit;
use cli::CliError;
use domain::ports::StoreRules;
use domain::{Channel, StoreConfig, TriggerPolicy};

#[tokio::test]
async fn a_configuration_is_put_and_shown_back() {
    let stack = TestStack::create("cli-store").await;
    let show = [
        "store",
        "show",
        "--channel",
        "woocommerce",
        "--store",
        "acme",
    ];

    let text = stack.run(&show).await.expect("show defaults");
    assert!(
        text.starts_with("# woocommerce:acme has no stored configuration"),
        "{text}"
    );

    let dir = std::env::temp_dir().join(format!("{}-config", stack.name));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("acme.json");
    let config = serde_json::json!({
        "trigger": "ready_to_ship",
        "default_service": "next_day",
        "service_rules": [{"service": "same_day", "shipping_method_contains": ["express"]}]
    });
    std::fs::write(&file, config.to_string()).expect("write config");
    let path = file.to_str().expect("UTF-8 path");
    let text = stack
        .run(&[
            "store",
            "put",
            "--channel",
            "woocommerce",
            "--store",
            "acme",
            "--file",
            path,
        ])
        .await
        .expect("put");
    assert_eq!(text, "stored the configuration of woocommerce:acme");

    let text = stack.run(&show).await.expect("show");
    let shown: StoreConfig = serde_json::from_str(&text).expect("show prints the JSON");
    let expected: StoreConfig = serde_json::from_value(config).expect("valid config");
    assert_eq!(shown, expected);
    // What the functions read.
    let read = stack
        .stores
        .stores
        .get(Channel::WooCommerce, "acme")
        .await
        .expect("read");
    assert_eq!(read.trigger, TriggerPolicy::ReadyToShip);

    // A typo is refused with serde's message, and nothing is written.
    std::fs::write(&file, r#"{"triger": "paid"}"#).expect("write typo");
    let typo = stack
        .run(&[
            "store",
            "put",
            "--channel",
            "woocommerce",
            "--store",
            "acme",
            "--file",
            path,
        ])
        .await;
    let Err(err @ CliError::Input { .. }) = typo else {
        panic!("a misspelt setting was accepted: {typo:?}");
    };
    assert_eq!(err.exit_code(), exit::USAGE);
    assert!(err.to_string().contains("unknown field `triger`"), "{err}");
    let text = stack.run(&show).await.expect("show");
    assert_eq!(
        serde_json::from_str::<StoreConfig>(&text).ok(),
        Some(expected)
    );

    let missing = stack
        .run(&[
            "store",
            "put",
            "--channel",
            "shopify",
            "--store",
            "acme",
            "--file",
            "/nonexistent/config.json",
        ])
        .await;
    assert!(
        matches!(missing, Err(CliError::Input { .. })),
        "{missing:?}"
    );
    let bad_name = stack
        .run(&[
            "store",
            "show",
            "--channel",
            "shopify",
            "--store",
            "Acme Shop",
        ])
        .await;
    assert!(matches!(bad_name, Err(CliError::Usage(_))), "{bad_name:?}");
    let _ = std::fs::remove_dir_all(&dir);
    stack.teardown().await;
}
