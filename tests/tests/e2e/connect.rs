//! `courier-bridge connect` and `doctor` through the local stack: Onfleet's URL check is
//! answered by webhook-intake itself, a store connected with the CLI has its orders
//! accepted with the secret connect stored, and the doctor finds the stack sound.

use end_to_end::{paid_order, Harness};

const CONNECTED: &str = "connected-shop";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_registers_through_the_live_stack_and_the_doctor_finds_it_sound() {
    let h = Harness::start("connect", &[]).await;
    let stack = h.prefix.trim_end_matches('/').to_owned();
    let webhooks = format!("{}/webhooks", h.runtime.http_url);
    let sandbox = h.sandbox.base_url();
    let cli = |args: Vec<String>| {
        let mut argv = vec!["courier-bridge".to_owned(), "--stack".into(), stack.clone()];
        argv.extend(args);
        cli::run(argv)
    };
    let args = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();

    // Onfleet checks the URL with ?check= before it makes each webhook.
    let onfleet = args(&[
        "connect",
        "onfleet",
        "--api-key",
        sandbox::ONFLEET_API_KEY,
        "--webhook-secret",
        "0a1b2c3d4e5f",
        "--base-url",
        &format!("{sandbox}/api/v2"),
        "--webhook-url",
        &webhooks,
    ]);
    let said = cli(onfleet.clone()).await.expect("connected");
    assert!(said.contains("10 made"), "{said}");
    let again = cli(onfleet).await.expect("connected again");
    assert!(again.contains("0 made, 10 already there"), "{again}");
    let made = h.sandbox.onfleet_webhooks();
    assert_eq!(made.len(), 10);
    assert!(made
        .iter()
        .all(|w| w.url == format!("{webhooks}/courier/onfleet")));

    // A store connected with the CLI: its orders verify against what connect stored.
    cli(args(&[
        "connect",
        "shopify",
        "--store",
        CONNECTED,
        "--shop",
        &sandbox,
        "--token",
        "shpat_test",
        "--secret",
        "shpss_connected",
        "--webhook-url",
        &webhooks,
    ]))
    .await
    .expect("the shop connected");
    let body = paid_order(7_820_000_000_000_000_001)
        .to_string()
        .into_bytes();
    let signature = channels::signature::sign_base64_hmac_sha256(b"shpss_connected", &body);
    let (status, answer) = h
        .post_signed(CONNECTED, "orders/paid", "w-connected-1", &body, &signature)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "accepted", "{answer}");

    let report = match cli(args(&[
        "doctor",
        "--store",
        CONNECTED,
        "--webhook-url",
        &webhooks,
        "--json",
    ]))
    .await
    {
        Ok(text) => text,
        Err(cli::CliError::Unhealthy(text)) => panic!("the doctor failed a line:\n{text}"),
        Err(other) => panic!("{other}"),
    };
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let outcome = |check: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == check)
            .map(|c| c["outcome"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        outcome(&format!("webhooks shopify/{CONNECTED}")).as_deref(),
        Some("ok")
    );
    assert_eq!(
        outcome("webhooks courier/sandbox").as_deref(),
        Some("ok"),
        "{report:#}"
    );
    assert_eq!(outcome("notify email").as_deref(), Some("ok"), "{report:#}");
    h.stop().await;
}
