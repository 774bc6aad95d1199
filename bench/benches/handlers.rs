//! Per-event cost of webhook-intake's whole handler against the emulator (skipped, with a
//! message, when `AWS_ENDPOINT_URL` is unset). The parsers' and signatures' costs are
//! `shared/channels/benches/parsers.rs`: they need nothing but the channels crate.

use courier_bridge_bench::{emulator_sdk, shopify_request};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::time::Duration;

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
    let config = webhook_intake::Config::read(aws::config::Env::new(|name| env.get(name).cloned()))
        .expect("the template's environment is a valid config");
    let intake = webhook_intake::WebhookIntake::new(&sdk, config).expect("webhook-intake");
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
                let response = rt.block_on(intake.handle(request));
                assert_eq!(response.status_code, 200);
                response
            },
            BatchSize::SmallInput,
        )
    });
    let repeated = shopify_request(store, &secret, "orders/paid", "bench-repeated", &body);
    let first = rt.block_on(intake.handle(repeated.clone()));
    assert_eq!(first.status_code, 200);
    group.bench_function("duplicate_delivery", |b| {
        b.iter_batched(
            || repeated.clone(),
            |request| rt.block_on(intake.handle(request)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
    if let Err(e) = rt.block_on(local_runtime::provision::teardown(&stack, &sdk)) {
        eprintln!("intake_handler: teardown failed: {e}");
    }
}

fn quick() -> Criterion {
    // A short warm-up: each call is already milliseconds long.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = quick();
    targets = intake_handler
}
criterion_main!(benches);
