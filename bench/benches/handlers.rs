//! Per-event cost on the partners' published samples: a channel payload to validated
//! shipments, each signature check, and webhook-intake's whole handler against the emulator
//! (skipped, with a message, when `AWS_ENDPOINT_URL` is unset).

use courier_bridge_bench::{emulator_sdk, fixture_field, fixtures, shopify_request};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use shared::channel::{self, OrderEvent};
use shared::domain::StoreConfig;
use std::hint::black_box;
use std::time::Duration;

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
            let event = channel::shopify::order_event(
                "orders/create",
                black_box(fixtures::SHOPIFY_ORDER),
                "bench",
            )
            .expect("the published sample parses");
            normalize(&event, &config)
        })
    });
    group.bench_function("woocommerce_order_created", |b| {
        b.iter(|| {
            let event = channel::woocommerce::order_event(
                "order.created",
                black_box(fixtures::WOO_ORDER),
                "bench",
            )
            .expect("the published order parses");
            normalize(&event, &config)
        })
    });
    group.bench_function("api_order_created_two_shipments", |b| {
        b.iter(|| {
            let event =
                channel::api::order_event("order.created", black_box(fixtures::API_ORDER), "bench")
                    .expect("the example parses");
            normalize(&event, &config)
        })
    });
    group.bench_function("amazon_order_change_with_order_and_address", |b| {
        b.iter(|| {
            let notification =
                channel::amazon::parse_notification(black_box(fixtures::AMAZON_NOTIFICATION))
                    .expect("the published notification parses");
            let order = channel::amazon::parse_order(black_box(fixtures::AMAZON_ORDER))
                .expect("the sandbox order parses");
            let address = channel::amazon::parse_order_address(black_box(fixtures::AMAZON_ADDRESS))
                .expect("the sandbox address parses");
            let event = channel::amazon::order_event(&order, Some(&address), None, &[], "bench");
            black_box(notification);
            normalize(&event, &config)
        })
    });
    group.finish();
}

fn signatures(c: &mut Criterion) {
    let shopify_secret = fixture_field(fixtures::SHOPIFY_ORDER_HMAC, "secret").expect("fixture");
    let shopify_hmac = fixture_field(fixtures::SHOPIFY_ORDER_HMAC, "hmac").expect("fixture");
    let woo_secret = fixture_field(fixtures::WOO_SIGNATURE, "secret").expect("fixture");
    let woo_hmac = fixture_field(fixtures::WOO_SIGNATURE, "hmac").expect("fixture");
    let onfleet_secret = fixture_field(fixtures::ONFLEET_SIGNATURE, "secret").expect("fixture");
    let onfleet_hmac = fixture_field(fixtures::ONFLEET_SIGNATURE, "hmac").expect("fixture");
    // The sandbox courier publishes no sample: its status webhook signed here, over the
    // Shopify sample's bytes so the body size is comparable.
    let sandbox_secret = "whsec_sandbox_bench";
    let sandbox_hmac =
        shared::signature::sign_hex_hmac_sha256(sandbox_secret.as_bytes(), fixtures::SHOPIFY_ORDER);
    assert!(shared::signature::verify_base64_hmac_sha256(
        shopify_secret.as_bytes(),
        fixtures::SHOPIFY_ORDER,
        &shopify_hmac
    ));
    assert!(channel::woocommerce::verify_signature(
        &woo_secret,
        fixtures::WOO_BODY,
        &woo_hmac
    ));
    assert!(shared::courier::onfleet::webhook::verify_signature(
        &onfleet_secret,
        fixtures::ONFLEET_BODY,
        &onfleet_hmac
    ));

    let mut group = c.benchmark_group("signature");
    group.bench_function("shopify_base64_hmac_sha256", |b| {
        b.iter(|| {
            shared::signature::verify_base64_hmac_sha256(
                shopify_secret.as_bytes(),
                black_box(fixtures::SHOPIFY_ORDER),
                black_box(&shopify_hmac),
            )
        })
    });
    group.bench_function("woocommerce_base64_hmac_sha256", |b| {
        b.iter(|| {
            channel::woocommerce::verify_signature(
                &woo_secret,
                black_box(fixtures::WOO_BODY),
                black_box(&woo_hmac),
            )
        })
    });
    group.bench_function("onfleet_hex_hmac_sha512", |b| {
        b.iter(|| {
            shared::courier::onfleet::webhook::verify_signature(
                &onfleet_secret,
                black_box(fixtures::ONFLEET_BODY),
                black_box(&onfleet_hmac),
            )
        })
    });
    group.bench_function("sandbox_hex_hmac_sha256", |b| {
        b.iter(|| {
            shared::signature::verify_hex_hmac_sha256(
                sandbox_secret.as_bytes(),
                black_box(fixtures::SHOPIFY_ORDER),
                black_box(&sandbox_hmac),
            )
        })
    });
    group.finish();
}

/// webhook-intake's handler, called as Lambda calls it, against a stack provisioned in the
/// emulator: a new delivery (verify, audit record, dedupe claim, enqueue) and a repeated
/// one (the dedupe path).
fn intake_handler(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let Some(sdk) = rt.block_on(emulator_sdk()) else {
        eprintln!(
            "intake_handler: skipped, AWS_ENDPOINT_URL is not set \
             (run under infra/scripts/with-emulator.sh, as `make bench` does)"
        );
        return;
    };
    let stack_name = format!("bench-{:06x}", rand::random::<u32>() & 0xff_ffff);
    let prefix = format!("{stack_name}/");
    let template = local_runtime::template::Template::from_path(
        &local_runtime::runtime::default_template_path(),
    )
    .expect("template.yaml");
    let overrides = [("SecretsPrefix".to_owned(), prefix.clone())].into();
    let stack = rt
        .block_on(local_runtime::provision::provision(
            &template,
            &stack_name,
            &overrides,
            &sdk,
        ))
        .expect("stack provisioned");
    let env = stack.functions["WebhookIntakeFunction"].env.clone();
    let config = shared::config::Config::from_lookup(|name| env.get(name).cloned())
        .expect("the template's environment is a valid config");
    let services = shared::services::Services::new(&sdk, config).expect("services");
    let store = "bench-store";
    let secret = format!("whsec_{:x}", rand::random::<u64>());
    rt.block_on(local_runtime::demo::seed_store(
        &sdk,
        &prefix,
        &local_runtime::demo::DemoStore {
            name: store.into(),
            secret: secret.clone(),
        },
        "http://127.0.0.1:9",
        "shpat_bench",
    ))
    .expect("store secret");
    let body = courier_bridge_bench::paid_order(7_000_000_000_000_000_001)
        .to_string()
        .into_bytes();
    let mut sequence = 0u64;

    let mut group = c.benchmark_group("intake_handler");
    // Each call is milliseconds of emulator round trips: fewer, longer samples.
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(15));
    group.bench_function("new_delivery", |b| {
        b.iter_batched(
            || {
                sequence += 1;
                shopify_request(
                    store,
                    &secret,
                    "orders/paid",
                    &format!("bench-{sequence}"),
                    &body,
                )
            },
            |request| {
                let response = rt.block_on(webhook_intake::handle(&services, request));
                assert_eq!(response.status_code, 200);
                response
            },
            BatchSize::SmallInput,
        )
    });
    let repeated = shopify_request(store, &secret, "orders/paid", "bench-repeated", &body);
    let first = rt.block_on(webhook_intake::handle(&services, repeated.clone()));
    assert_eq!(first.status_code, 200);
    group.bench_function("duplicate_delivery", |b| {
        b.iter_batched(
            || repeated.clone(),
            |request| rt.block_on(webhook_intake::handle(&services, request)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
    if let Err(e) = rt.block_on(local_runtime::provision::teardown(&stack, &sdk)) {
        eprintln!("intake_handler: teardown failed: {e}");
    }
}

fn quick() -> Criterion {
    // The pure benches settle fast; shorter runs keep `make bench` within minutes.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = quick();
    targets = parse_normalize, signatures, intake_handler
}
criterion_main!(benches);
