//! The WooCommerce REST write-back against the sandbox's fake store (end to end over HTTP),
//! and the errors a real site's answers map to (wiremock).

use std::time::Duration;

use sandbox::{
    Fault, Sandbox, SandboxConfig, WooCommerceStatusView, WOOCOMMERCE_CONSUMER_KEY,
    WOOCOMMERCE_CONSUMER_SECRET,
};
use serde_json::json;
use shared::domain::{Channel, ShipmentKey};
use shared::store::woocommerce::WooCommerceRest;
use shared::store::{StoreError, StoreWriter, Tracking, WriteBack};
use wiremock::matchers::{basic_auth, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn start() -> Sandbox {
    Sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxConfig {
            courier_api_key: "sbx_unused".into(),
            shopify_access_token: "shpat_unused".into(),
        },
    )
    .await
    .expect("the sandbox starts on a free port")
}

fn client(site_url: &str, http: reqwest::Client) -> WooCommerceRest {
    WooCommerceRest::new(
        http,
        site_url,
        WOOCOMMERCE_CONSUMER_KEY,
        WOOCOMMERCE_CONSUMER_SECRET,
    )
    .unwrap()
}

fn key(order_id: &str) -> ShipmentKey {
    ShipmentKey::new(Channel::WooCommerce, "demo-store", order_id, "1")
}

fn tracking(number: &str) -> Tracking {
    Tracking {
        number: number.into(),
        url: Some(format!("https://track.example/{number}")),
        company: "Sandbox Courier".into(),
    }
}

#[tokio::test]
async fn tracking_is_written_once_as_a_customer_note() {
    let sandbox = start().await;
    let store = client(&sandbox.base_url(), reqwest::Client::new());

    let first = store
        .write_tracking(&key("727"), &tracking("SBX1"))
        .await
        .unwrap();
    assert_eq!(
        first,
        WriteBack::Written {
            reference: "1".into()
        }
    );
    let again = store
        .write_tracking(&key("727"), &tracking("SBX1"))
        .await
        .unwrap();
    assert_eq!(
        again,
        WriteBack::AlreadyThere {
            reference: "1".into()
        }
    );
    // A number that merely starts like the first one is another parcel.
    let other = store
        .write_tracking(&key("727"), &tracking("SBX12"))
        .await
        .unwrap();
    assert_eq!(
        other,
        WriteBack::Written {
            reference: "2".into()
        }
    );

    let notes = sandbox.woocommerce_notes();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0].order_id, "727");
    assert!(
        notes[0].customer_note,
        "the customer sees and is e-mailed it"
    );
    assert_eq!(
        notes[0].note,
        "Your order is on its way with Sandbox Courier. Tracking number: SBX1. \
         Track it at https://track.example/SBX1"
    );
}

#[tokio::test]
async fn a_lost_answer_is_ambiguous_and_the_retry_finds_the_note() {
    let sandbox = start().await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let slow = client(&sandbox.base_url(), impatient);
    let patient = client(&sandbox.base_url(), reqwest::Client::new());

    // A lookup that times out changed nothing: unavailable, safe to retry.
    sandbox.set_woocommerce_fault(Fault::LoseResponse {
        times: 1,
        delay_ms: 2_000,
    });
    let lookup = slow.write_tracking(&key("5"), &tracking("SBX5")).await;
    assert!(
        matches!(lookup, Err(StoreError::Unavailable(_))),
        "{lookup:?}"
    );
    assert!(sandbox.woocommerce_notes().is_empty());

    // A creation whose answer is lost may have happened (here it did): ambiguous.
    sandbox.set_woocommerce_fault(Fault::LoseResponse {
        times: 1,
        delay_ms: 2_000,
    });
    let lost = slow.add_note("5", "Tracking number: SBX5.", true).await;
    assert!(matches!(lost, Err(StoreError::Ambiguous(_))), "{lost:?}");
    assert_eq!(sandbox.woocommerce_notes().len(), 1, "it was written");

    // The retry looks before it writes.
    let retried = patient
        .write_tracking(&key("5"), &tracking("SBX5"))
        .await
        .unwrap();
    assert_eq!(
        retried,
        WriteBack::AlreadyThere {
            reference: "1".into()
        }
    );
    assert_eq!(sandbox.woocommerce_notes().len(), 1);
}

#[tokio::test]
async fn statuses_are_set_and_store_errors_are_typed() {
    let sandbox = start().await;
    let store = client(&sandbox.base_url(), reqwest::Client::new());
    store.set_status("727", "completed").await.unwrap();
    store.set_status("727", "completed").await.unwrap();
    assert_eq!(
        sandbox.woocommerce_statuses(),
        [WooCommerceStatusView {
            order_id: "727".into(),
            from: "processing".into(),
            to: "completed".into(),
        }]
    );
    let refused = store.set_status("727", "shipped").await;
    assert!(matches!(&refused, Err(StoreError::Rejected(m)) if m.contains("rest_invalid_param")));

    sandbox.set_woocommerce_fault(Fault::RateLimited { times: 1 });
    assert!(matches!(
        store.write_tracking(&key("727"), &tracking("SBX7")).await,
        Err(StoreError::Throttled {
            retry_after: Some(d)
        }) if d == Duration::from_secs(1)
    ));
    sandbox.set_woocommerce_fault(Fault::Unavailable { times: 1 });
    assert!(matches!(
        store.set_status("727", "completed").await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.notes("0").await,
        Err(StoreError::Rejected(_))
    ));
    assert!(matches!(
        store.notes("SO-1").await,
        Err(StoreError::Rejected(_))
    ));

    let wrong = WooCommerceRest::new(
        reqwest::Client::new(),
        &sandbox.base_url(),
        WOOCOMMERCE_CONSUMER_KEY,
        "cs_wrong",
    )
    .unwrap();
    assert!(matches!(
        wrong.write_tracking(&key("727"), &tracking("SBX7")).await,
        Err(StoreError::Config(m)) if m.contains("woocommerce_rest_authentication_error")
    ));
    assert!(sandbox.woocommerce_notes().is_empty());
}

#[tokio::test]
async fn a_site_that_is_not_answering_is_unavailable_not_ambiguous() {
    // Bind and drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = client(&format!("http://127.0.0.1:{port}"), reqwest::Client::new());
    assert!(matches!(
        store.add_note("1", "x", true).await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn real_site_answers_map_to_store_errors() {
    let site = MockServer::start().await;
    let notes = "/shop/wp-json/wc/v3/orders/727/notes";
    Mock::given(method("GET"))
        .and(path(notes))
        .and(basic_auth(
            WOOCOMMERCE_CONSUMER_KEY,
            WOOCOMMERCE_CONSUMER_SECRET,
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&site)
        .await;
    // A proxy's HTML error page in front of WordPress.
    Mock::given(method("POST"))
        .and(path(notes))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad gateway</html>"))
        .up_to_n_times(1)
        .mount(&site)
        .await;
    Mock::given(method("POST"))
        .and(path(notes))
        .respond_with(ResponseTemplate::new(201).set_body_string("<html>cached page</html>"))
        .up_to_n_times(1)
        .mount(&site)
        .await;
    Mock::given(method("POST"))
        .and(path(notes))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "30"))
        .up_to_n_times(1)
        .mount(&site)
        .await;
    Mock::given(method("PUT"))
        .and(path("/shop/wp-json/wc/v3/orders/404"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "code": "woocommerce_rest_shop_order_invalid_id",
            "message": "Invalid ID.",
            "data": {"status": 404}
        })))
        .mount(&site)
        .await;
    Mock::given(method("PUT"))
        .and(path("/shop/wp-json/wc/v3/orders/1"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "code": "rest_no_route",
            "message": "No route was found matching the URL and request method.",
            "data": {"status": 404}
        })))
        .mount(&site)
        .await;

    let store = client(&format!("{}/shop/", site.uri()), reqwest::Client::new());
    let t = tracking("SBX9");
    assert!(matches!(
        store.write_tracking(&key("727"), &t).await,
        Err(StoreError::Unavailable(m)) if m.starts_with("502")
    ));
    assert!(matches!(
        store.write_tracking(&key("727"), &t).await,
        Err(StoreError::Ambiguous(_))
    ));
    assert!(matches!(
        store.write_tracking(&key("727"), &t).await,
        Err(StoreError::Throttled { retry_after: Some(d) }) if d == Duration::from_secs(30)
    ));
    assert!(matches!(
        store.set_status("404", "completed").await,
        Err(StoreError::Rejected(m)) if m.contains("Invalid ID.")
    ));
    assert!(matches!(
        store.set_status("1", "completed").await,
        Err(StoreError::Config(m)) if m.contains("rest_no_route")
    ));
}
