//! A store's webhook secret rotated with `courier-bridge rotate`, through the stack: a
//! webhook signed with the previous secret is still accepted during the grace period and
//! the audit trail says so; one signed with the new secret is accepted as current; a
//! forgery is refused.

use domain::ports::AuditTrail;
use end_to_end::{paid_order, Harness, STORE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_accepts_the_previous_one_for_its_grace_period_and_records_which_signed() {
    let h = Harness::start("rotation", &[]).await;
    let secrets = aws::secrets::SecretStore::new(
        aws_sdk_secretsmanager::Client::new(&h.sdk),
        &h.prefix,
        std::time::Duration::ZERO,
    );
    let said = cli::rotate::rotate(
        &secrets,
        "shopify",
        STORE,
        Some("whsec_rotated".into()),
        1,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .expect("rotated");
    assert!(said.contains("rotated"), "{said}");

    let body = paid_order(7_810_000_000_000_000_001)
        .to_string()
        .into_bytes();
    let sign =
        |secret: &str| channels::signature::sign_base64_hmac_sha256(secret.as_bytes(), &body);
    let (status, _) = h
        .post_signed(STORE, "orders/paid", "w-rot-old", &body, &sign(&h.secret))
        .await;
    assert_eq!(status, 200, "the previous secret during its grace period");
    let (status, _) = h
        .post_signed(
            STORE,
            "orders/updated",
            "w-rot-new",
            &body,
            &sign("whsec_rotated"),
        )
        .await;
    assert_eq!(status, 200, "the new secret");
    let (status, _) = h
        .post_signed(
            STORE,
            "orders/updated",
            "w-rot-forged",
            &body,
            &sign("whsec_other"),
        )
        .await;
    assert_eq!(status, 401);

    let audit = &h.stores().inbound;
    let signature = |id: &'static str| async move {
        audit
            .get(&format!("shopify:{STORE}:{id}"))
            .await
            .unwrap()
            .map(|record| record.signature)
    };
    assert_eq!(
        signature("w-rot-old").await.as_deref(),
        Some("valid (previous secret)")
    );
    assert_eq!(signature("w-rot-new").await.as_deref(), Some("valid"));
    assert_eq!(signature("w-rot-forged").await, None);
    h.stop().await;
}
