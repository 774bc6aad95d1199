//! Per-event cost of what the channels crate does alone, on the partners' published
//! samples: a channel payload read into drafts and validated into shipments, and each
//! webhook signature check. No AWS, no HTTP: `cargo bench -p courier-bridge-channels`.

use criterion::{criterion_group, criterion_main, Criterion};
use domain::order::OrderEvent;
use domain::StoreConfig;
use std::hint::black_box;
use std::time::Duration;

/// The published samples (sources and licences in tests/fixtures/SOURCES.md).
mod samples {
    pub const SHOPIFY_ORDER: &[u8] = include_bytes!(
        "../../../tests/fixtures/shopify/orders_create_laravel-shopify_webhook.json"
    );
    pub const SHOPIFY_ORDER_HMAC: &str = include_str!(
        "../../../tests/fixtures/shopify/orders_create_laravel-shopify_webhook.hmac.json"
    );
    pub const WOO_ORDER: &[u8] = include_bytes!(
        "../../../tests/fixtures/woocommerce/order_wp-api-v3_docs_create_response.json"
    );
    pub const WOO_BODY: &[u8] =
        include_bytes!("../../../tests/fixtures/woocommerce/webhook_delivery_body_action.json");
    pub const WOO_SIGNATURE: &str =
        include_str!("../../../tests/fixtures/woocommerce/webhook_delivery_action.signature.json");
    pub const API_ORDER: &[u8] =
        include_bytes!("../../../docs/api/examples/order.created.prepaid-two-shipments.json");
    pub const AMAZON_NOTIFICATION: &[u8] =
        include_bytes!("../../../tests/fixtures/amazon/ORDER_CHANGE_notification_example.json");
    pub const AMAZON_ORDER: &[u8] =
        include_bytes!("../../../tests/fixtures/amazon/getOrder_sandbox_TEST_CASE_200.json");
    pub const AMAZON_ADDRESS: &[u8] =
        include_bytes!("../../../tests/fixtures/amazon/getOrderAddress_sandbox_TEST_CASE_200.json");
    pub const ONFLEET_BODY: &[u8] =
        include_bytes!("../../../tests/fixtures/onfleet/signature_body.txt");
    pub const ONFLEET_SIGNATURE: &str =
        include_str!("../../../tests/fixtures/onfleet/signature.hmac.json");
}

/// A field of a `*.hmac.json` / `*.signature.json` sample.
fn field(sample: &str, name: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(sample).expect("the sample is JSON");
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("the sample has no {name}"))
        .to_owned()
}

/// What normalize does with an event before touching AWS: the trigger policy's verdict and
/// each draft validated into a `Shipment` (or its review reasons).
fn normalize(event: &OrderEvent, config: &StoreConfig) -> usize {
    let _ = black_box(event.facts.trigger(config.trigger));
    event
        .shipments
        .iter()
        .filter(|draft| draft.validate(config).is_ok())
        .count()
}

fn parse_normalize(c: &mut Criterion) {
    let config = StoreConfig::default();
    let mut group = c.benchmark_group("parse_normalize");
    group.bench_function("shopify_orders_create", |b| {
        b.iter(|| {
            let event = channels::shopify::order_event(
                "orders/create",
                black_box(samples::SHOPIFY_ORDER),
                "bench",
            )
            .expect("the published sample parses");
            normalize(&event, &config)
        })
    });
    group.bench_function("woocommerce_order_created", |b| {
        b.iter(|| {
            let event = channels::woocommerce::order_event(
                "order.created",
                black_box(samples::WOO_ORDER),
                "bench",
            )
            .expect("the published order parses");
            normalize(&event, &config)
        })
    });
    group.bench_function("api_order_created_two_shipments", |b| {
        b.iter(|| {
            let event =
                channels::api::order_event("order.created", black_box(samples::API_ORDER), "bench")
                    .expect("the example parses");
            normalize(&event, &config)
        })
    });
    group.bench_function("amazon_order_change_with_order_and_address", |b| {
        b.iter(|| {
            let notification =
                channels::amazon::parse_notification(black_box(samples::AMAZON_NOTIFICATION))
                    .expect("the published notification parses");
            let order = channels::amazon::parse_order(black_box(samples::AMAZON_ORDER))
                .expect("the sandbox order parses");
            let address = channels::amazon::parse_order_address(black_box(samples::AMAZON_ADDRESS))
                .expect("the sandbox address parses");
            let event = channels::amazon::order_event(&order, Some(&address), None, &[], "bench");
            black_box(notification);
            normalize(&event, &config)
        })
    });
    group.finish();
}

fn signatures(c: &mut Criterion) {
    let shopify_secret = field(samples::SHOPIFY_ORDER_HMAC, "secret");
    let shopify_hmac = field(samples::SHOPIFY_ORDER_HMAC, "hmac");
    let woo_secret = field(samples::WOO_SIGNATURE, "secret");
    let woo_hmac = field(samples::WOO_SIGNATURE, "hmac");
    let onfleet_secret = field(samples::ONFLEET_SIGNATURE, "secret");
    let onfleet_hmac = field(samples::ONFLEET_SIGNATURE, "hmac");
    // The sandbox courier publishes no sample: its status webhook signed here, over the
    // Shopify sample's bytes so the body size is comparable.
    let sandbox_secret = "whsec_sandbox_bench";
    let sandbox_hmac = channels::signature::sign_hex_hmac_sha256(
        sandbox_secret.as_bytes(),
        samples::SHOPIFY_ORDER,
    );
    assert!(channels::signature::verify_base64_hmac_sha256(
        shopify_secret.as_bytes(),
        samples::SHOPIFY_ORDER,
        &shopify_hmac
    ));
    assert!(channels::woocommerce::verify_signature(
        &woo_secret,
        samples::WOO_BODY,
        &woo_hmac
    ));
    assert!(channels::onfleet::verify_signature(
        &onfleet_secret,
        samples::ONFLEET_BODY,
        &onfleet_hmac
    ));

    let mut group = c.benchmark_group("signature");
    group.bench_function("shopify_base64_hmac_sha256", |b| {
        b.iter(|| {
            channels::signature::verify_base64_hmac_sha256(
                shopify_secret.as_bytes(),
                black_box(samples::SHOPIFY_ORDER),
                black_box(&shopify_hmac),
            )
        })
    });
    group.bench_function("woocommerce_base64_hmac_sha256", |b| {
        b.iter(|| {
            channels::woocommerce::verify_signature(
                &woo_secret,
                black_box(samples::WOO_BODY),
                black_box(&woo_hmac),
            )
        })
    });
    group.bench_function("onfleet_hex_hmac_sha512", |b| {
        b.iter(|| {
            channels::onfleet::verify_signature(
                &onfleet_secret,
                black_box(samples::ONFLEET_BODY),
                black_box(&onfleet_hmac),
            )
        })
    });
    group.bench_function("sandbox_hex_hmac_sha256", |b| {
        b.iter(|| {
            channels::signature::verify_hex_hmac_sha256(
                sandbox_secret.as_bytes(),
                black_box(samples::SHOPIFY_ORDER),
                black_box(&sandbox_hmac),
            )
        })
    });
    group.finish();
}

fn quick() -> Criterion {
    // These settle fast; shorter runs keep `make bench` within minutes.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = quick();
    targets = parse_normalize, signatures
}
criterion_main!(benches);
