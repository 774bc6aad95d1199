//! `courier-bridge doctor` on a stack with a courier, three stores and the message
//! providers set up: no fail; then each seeded fault (webhooks sent elsewhere, a secret the
//! functions cannot read, a message in a DLQ, an e-mail sender SES has not verified) is one
//! failing line with its fix, and the exit code says so.

use crate::connect::{sandbox, shopify_args, COURIER_KEY, SHOPIFY_TOKEN, WEBHOOK_URL};
use crate::support::TestStack;
use cli::error::exit;
use serde_json::{json, Value};

async fn doctor(stack: &TestStack) -> (Result<String, cli::CliError>, Value) {
    let result = stack
        .run(&["doctor", "--webhook-url", WEBHOOK_URL, "--json"])
        .await;
    let text = match &result {
        Ok(text) => text.clone(),
        Err(cli::CliError::Unhealthy(text)) => text.clone(),
        Err(other) => panic!("doctor itself failed: {other}"),
    };
    (result, serde_json::from_str(&text).expect("--json is JSON"))
}

fn failing(report: &Value) -> Vec<String> {
    let mut failing: Vec<String> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "fail")
        .map(|c| c["check"].as_str().unwrap().to_owned())
        .collect();
    failing.sort();
    failing
}

fn line<'a>(report: &'a Value, check: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check)
        .unwrap_or_else(|| panic!("no line {check}: {report:#}"))
}

#[tokio::test]
async fn doctor_passes_a_sound_stack_and_finds_each_seeded_fault() {
    let prefix = format!("doctor-{:06x}/", rand::random::<u32>() & 0xff_ffff);
    let sender = format!("deliveries-{}@doctor.example", rand::random::<u32>());
    let stack = TestStack::create_with(
        "cli-doctor",
        &[("SecretsPrefix", &prefix), ("NotifyEmailFrom", &sender)],
    )
    .await;
    let sandbox = sandbox().await;
    let url = sandbox.base_url();
    let secrets = cli::stack::Stack::resolve(&stack.sdk, &stack.name)
        .await
        .unwrap()
        .secret_store(&stack.sdk);
    secrets
        .write(
            partners::notifiers::TWILIO_SECRET,
            &json!({"account_sid": "AC1", "auth_token": "t", "sms_from": "+15005550006",
                    "whatsapp_from": "+15005550006", "base_url": url})
            .to_string(),
        )
        .await
        .unwrap();
    let ses = aws_sdk_sesv2::Client::new(&stack.sdk);
    ses.create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .expect("the sender verified");
    stack
        .run(&[
            "connect",
            "sandbox",
            "--base-url",
            &url,
            "--api-key",
            COURIER_KEY,
            "--webhook-url",
            WEBHOOK_URL,
        ])
        .await
        .unwrap();
    stack
        .run(&shopify_args(&url, "acme", SHOPIFY_TOKEN))
        .await
        .unwrap();
    let woocommerce = |webhook_url: &'static str| {
        vec![
            "connect".to_owned(),
            "woocommerce".into(),
            "--store".into(),
            "shop".into(),
            "--site".into(),
            url.clone(),
            "--consumer-key".into(),
            sandbox::WOOCOMMERCE_CONSUMER_KEY.into(),
            "--consumer-secret".into(),
            sandbox::WOOCOMMERCE_CONSUMER_SECRET.into(),
            "--webhook-url".into(),
            webhook_url.into(),
            "--replace".into(),
        ]
    };
    let args = woocommerce(WEBHOOK_URL);
    stack
        .run(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await
        .unwrap();
    stack
        .run(&[
            "connect",
            "api",
            "--store",
            "custom",
            "--webhook-url",
            WEBHOOK_URL,
        ])
        .await
        .unwrap();

    let (result, report) = doctor(&stack).await;
    assert_eq!(failing(&report), Vec::<String>::new(), "{report:#}");
    assert!(result.is_ok());
    for check in [
        "secret shopify/acme",
        "webhooks shopify/acme",
        "secret woocommerce/shop",
        "webhooks woocommerce/shop",
        "secret api/custom",
        "courier sandbox",
        "webhooks courier/sandbox",
        "notify sms",
        "notify email",
        "dlq TasksDLQ",
    ] {
        assert_eq!(line(&report, check)["outcome"], "ok", "{check}: {report:#}");
    }
    assert_eq!(
        line(&report, "alarms")["outcome"],
        "warn",
        "no AlarmTopicArn"
    );

    // The faults.
    let moved = woocommerce("https://old-stack.example/webhooks");
    stack
        .run(&moved.iter().map(String::as_str).collect::<Vec<_>>())
        .await
        .unwrap();
    secrets
        .write("api/custom", r#"{"signing_secret": 42}"#)
        .await
        .unwrap();
    stack
        .sqs()
        .send_message()
        .queue_url(stack.queue_url("TasksDLQ"))
        .message_body("{}")
        .send()
        .await
        .unwrap();
    ses.delete_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .unwrap();

    let (result, report) = doctor(&stack).await;
    assert_eq!(
        failing(&report),
        [
            "dlq TasksDLQ",
            "notify email",
            "secret api/custom",
            "webhooks woocommerce/shop"
        ],
        "{report:#}"
    );
    assert_eq!(result.unwrap_err().exit_code(), exit::REFUSED);
    let webhooks = line(&report, "webhooks woocommerce/shop");
    assert!(
        webhooks["detail"]
            .as_str()
            .unwrap()
            .contains("old-stack.example"),
        "{webhooks}"
    );
    assert!(webhooks["fix"].as_str().unwrap().contains("--replace"));
    assert!(line(&report, "dlq TasksDLQ")["fix"]
        .as_str()
        .unwrap()
        .contains("dlq redrive --queue TasksQueue"));
    assert!(line(&report, "notify email")["detail"]
        .as_str()
        .unwrap()
        .contains("not verified"));

    // The text form says the same, one line each.
    let text = match stack.run(&["doctor", "--webhook-url", WEBHOOK_URL]).await {
        Err(cli::CliError::Unhealthy(text)) => text,
        other => panic!("{other:?}"),
    };
    assert!(text.contains("4 fail"), "{text}");
    assert!(text.contains("FAIL  secret api/custom"), "{text}");
    stack.teardown().await;
}
