//! `courier-bridge-local serve` (`make up`): the stack it leaves running says where each
//! connected store posts and with which secret, and an order a user posts there with that
//! secret — the generic API's, or a Shopify order — becomes a task at the sandbox courier;
//! one signed with anything else does not.

use channels::signature::sign_base64_hmac_sha256;
use domain::Channel;
use end_to_end::{paid_order, wait_for};
use local_runtime::demo::{post_webhook, Delivery};
use local_runtime::serve::{LocalStack, ServeOptions};
use std::time::Duration;

const API_ORDER: &[u8] =
    include_bytes!("../../../docs/api/examples/order.created.prepaid-two-shipments.json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_stack_takes_an_order_signed_with_its_printed_secret_into_a_task() {
    let sdk = end_to_end::sdk().await;
    let options = ServeOptions {
        stack: format!("serve-{:06x}", rand::random::<u32>() & 0xff_ffff),
        http_addr: ([127, 0, 0, 1], 0).into(),
        sandbox_addr: ([127, 0, 0, 1], 0).into(),
        store: "my-store".into(),
    };
    let stack = LocalStack::start(&sdk, &options)
        .await
        .expect("the stack starts");
    let mut printed = Vec::new();
    stack.describe(&mut printed);
    let printed = String::from_utf8(printed).unwrap();
    for store in &stack.stores {
        assert!(printed.contains(&store.url), "{printed}");
        assert!(printed.contains(&store.secret), "{printed}");
    }
    assert_eq!(
        stack.stores.len(),
        3,
        "Shopify, WooCommerce and the generic API"
    );
    assert!(printed.contains(&format!("{}/console", stack.runtime.http_url)));
    assert!(printed.contains(&format!(
        "Authorization: Bearer {}' '{}/v1/tasks?reference=api:my-store:SO-1001:SO-1001-1'",
        stack.courier_key,
        stack.sandbox.base_url()
    )));

    let http = reqwest::Client::new();
    let api = stack.store(Channel::Api).expect("the API store");
    let post_api = |signature: String, event: &'static str| {
        http.post(&api.url)
            .header("Content-Type", "application/json")
            .header("X-Courier-Bridge-Topic", "order.created")
            .header("X-Courier-Bridge-Event-Id", event)
            .header(api.signature_header, signature)
            .body(API_ORDER.to_vec())
            .send()
    };
    let forged = post_api(
        sign_base64_hmac_sha256(b"not-the-secret", API_ORDER),
        "evt-0",
    )
    .await
    .unwrap();
    assert_eq!(forged.status().as_u16(), 401);
    let genuine = post_api(
        sign_base64_hmac_sha256(api.secret.as_bytes(), API_ORDER),
        "evt-1",
    )
    .await
    .unwrap();
    assert!(genuine.status().is_success(), "{}", genuine.status());
    // The example's two parcels: two tasks.
    wait_for(
        "two tasks from the API order",
        Duration::from_secs(60),
        || async { (stack.sandbox.tasks().len() == 2).then_some(()) },
    )
    .await;

    let shopify = stack.store(Channel::Shopify).expect("the Shopify store");
    let body = paid_order(7_790_000_000_000_000_001)
        .to_string()
        .into_bytes();
    let delivery = Delivery {
        label: "a paid order".into(),
        store: options.store.clone(),
        topic: "orders/paid".into(),
        webhook_id: "serve-1".into(),
        signature: sign_base64_hmac_sha256(shopify.secret.as_bytes(), &body),
        body,
    };
    let (status, _) = post_webhook(&http, &stack.runtime.http_url, &delivery)
        .await
        .unwrap();
    assert_eq!(status, 200);
    wait_for(
        "the Shopify order's task",
        Duration::from_secs(60),
        || async {
            stack
                .sandbox
                .tasks()
                .iter()
                .any(|t| t.reference == "shopify:my-store:7790000000000000001:1")
                .then_some(())
        },
    )
    .await;
    assert_eq!(stack.sandbox.tasks().len(), 3);
    stack.stop().await.expect("the stack stops and is removed");
}
