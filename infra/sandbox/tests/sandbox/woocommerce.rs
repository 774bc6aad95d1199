//! The fake WooCommerce REST API used by the WooCommerce write-back.

use std::time::Duration;

use reqwest::{Client, RequestBuilder, StatusCode};
use sandbox::{
    Fault, Sandbox, WooCommerceNoteView, WooCommerceStatusView, WOOCOMMERCE_CONSUMER_KEY,
    WOOCOMMERCE_CONSUMER_SECRET,
};
use serde_json::{json, Value};

use crate::support::{body_json, start};

fn url(sandbox: &Sandbox, path: &str) -> String {
    format!("{}/wp-json/wc/v3{path}", sandbox.base_url())
}

fn authed(request: RequestBuilder) -> RequestBuilder {
    request.basic_auth(WOOCOMMERCE_CONSUMER_KEY, Some(WOOCOMMERCE_CONSUMER_SECRET))
}

async fn notes(sandbox: &Sandbox, order: &str, query: &str) -> Value {
    let response =
        authed(Client::new().get(url(sandbox, &format!("/orders/{order}/notes{query}"))))
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    body_json(response).await
}

async fn add_note(sandbox: &Sandbox, order: &str, body: Value) -> reqwest::Response {
    authed(Client::new().post(url(sandbox, &format!("/orders/{order}/notes"))))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn put_status(sandbox: &Sandbox, order: &str, body: Value) -> reqwest::Response {
    authed(Client::new().put(url(sandbox, &format!("/orders/{order}"))))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn notes_are_created_listed_newest_first_and_recorded() {
    let sandbox = start().await;
    assert_eq!(notes(&sandbox, "727", "").await, json!([]));

    let created = add_note(
        &sandbox,
        "727",
        json!({ "note": "Tracking number: SBX1.", "customer_note": true }),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(
        created.headers()["location"],
        "/wp-json/wc/v3/orders/727/notes/1"
    );
    let first = body_json(created).await;
    assert_eq!(first["id"], 1);
    assert_eq!(first["author"], "system");
    assert_eq!(first["note"], "Tracking number: SBX1.");
    assert_eq!(first["customer_note"], true);
    assert_eq!(first["date_created"], first["date_created_gmt"]);
    assert_eq!(first["date_created"].as_str().unwrap().len(), 19, "{first}");

    let second = body_json(
        add_note(
            &sandbox,
            "727",
            json!({ "note": "internal", "added_by_user": true }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (second["id"].as_u64(), &second["author"]),
        (Some(2), &json!("sandbox"))
    );
    add_note(&sandbox, "728", json!({ "note": "other order" })).await;

    let listed = notes(&sandbox, "727", "").await;
    let ids: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["id"])
        .collect();
    assert_eq!(ids, [&json!(2), &json!(1)]);
    assert_eq!(
        notes(&sandbox, "727", "?type=customer").await,
        json!([first])
    );
    assert_eq!(
        notes(&sandbox, "727", "?type=internal").await,
        json!([second])
    );

    assert_eq!(
        sandbox.woocommerce_notes(),
        [
            WooCommerceNoteView {
                order_id: "727".into(),
                note_id: 1,
                note: "Tracking number: SBX1.".into(),
                customer_note: true,
                added_by_user: false,
            },
            WooCommerceNoteView {
                order_id: "727".into(),
                note_id: 2,
                note: "internal".into(),
                customer_note: false,
                added_by_user: true,
            },
            WooCommerceNoteView {
                order_id: "728".into(),
                note_id: 3,
                note: "other order".into(),
                customer_note: false,
                added_by_user: false,
            },
        ]
    );
}

#[tokio::test]
async fn notes_need_a_note_and_well_typed_flags() {
    let sandbox = start().await;
    let missing = add_note(&sandbox, "1", json!({ "customer_note": true })).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body_json(missing).await,
        json!({
            "code": "rest_missing_callback_param",
            "message": "Missing parameter(s): note",
            "data": { "status": 400, "params": ["note"] }
        })
    );
    for body in [
        json!({ "note": "" }),
        json!({ "note": 5 }),
        json!({ "note": "x", "customer_note": "yes" }),
    ] {
        let response = add_note(&sandbox, "1", body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body_json(response).await["code"], "rest_invalid_param");
    }
    let not_json = authed(Client::new().post(url(&sandbox, "/orders/1/notes")))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(not_json).await["code"], "rest_invalid_json");
    let bad_type = authed(Client::new().get(url(&sandbox, "/orders/1/notes?type=all")))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_type.status(), StatusCode::BAD_REQUEST);
    assert!(sandbox.woocommerce_notes().is_empty());
}

#[tokio::test]
async fn status_changes_are_validated_and_recorded_once() {
    let sandbox = start().await;
    let order = authed(Client::new().get(url(&sandbox, "/orders/9007199254740993")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        body_json(order).await,
        json!({ "id": 9_007_199_254_740_993_u64, "status": "processing" }),
        "ids above 2^53 stay exact"
    );

    let done = put_status(&sandbox, "727", json!({ "status": "completed" })).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(
        body_json(done).await,
        json!({ "id": 727, "status": "completed" })
    );
    let again = put_status(&sandbox, "727", json!({ "status": "completed" })).await;
    assert_eq!(again.status(), StatusCode::OK);

    let invalid = put_status(&sandbox, "727", json!({ "status": "shipped" })).await;
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body_json(invalid).await,
        json!({
            "code": "rest_invalid_param",
            "message": "Invalid parameter(s): status",
            "data": { "status": 400, "params": { "status":
                "status is not one of pending, processing, on-hold, completed, cancelled, refunded, failed, and checkout-draft." } }
        })
    );
    assert_eq!(
        sandbox.woocommerce_statuses(),
        [WooCommerceStatusView {
            order_id: "727".into(),
            from: "processing".into(),
            to: "completed".into(),
        }]
    );
}

#[tokio::test]
async fn missing_or_wrong_credentials_are_401_in_woocommerces_words() {
    let sandbox = start().await;
    let anonymous = Client::new()
        .get(url(&sandbox, "/orders/1/notes"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        body_json(anonymous).await,
        json!({
            "code": "woocommerce_rest_cannot_view",
            "message": "Sorry, you cannot list resources.",
            "data": { "status": 401 }
        })
    );
    let anonymous_write = Client::new()
        .post(url(&sandbox, "/orders/1/notes"))
        .json(&json!({ "note": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        body_json(anonymous_write).await["code"],
        "woocommerce_rest_cannot_create"
    );
    let wrong = Client::new()
        .put(url(&sandbox, "/orders/1"))
        .basic_auth(WOOCOMMERCE_CONSUMER_KEY, Some("cs_wrong"))
        .json(&json!({ "status": "completed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        body_json(wrong).await["code"],
        "woocommerce_rest_authentication_error"
    );
    assert!(sandbox.woocommerce_notes().is_empty());
    assert!(sandbox.woocommerce_statuses().is_empty());
}

#[tokio::test]
async fn ids_that_are_not_orders_are_404() {
    let sandbox = start().await;
    let zero = authed(Client::new().get(url(&sandbox, "/orders/0/notes")))
        .send()
        .await
        .unwrap();
    assert_eq!(zero.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        body_json(zero).await["code"],
        "woocommerce_rest_order_invalid_id"
    );
    let word = authed(Client::new().get(url(&sandbox, "/orders/abc/notes")))
        .send()
        .await
        .unwrap();
    assert_eq!(word.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(word).await["code"], "rest_no_route");
}

#[tokio::test]
async fn faults_strike_every_route_then_clear() {
    let sandbox = start().await;
    sandbox.set_woocommerce_fault(Fault::Unavailable { times: 1 });
    let down = add_note(&sandbox, "5", json!({ "note": "x" })).await;
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.headers()["retry-after"], "1");
    assert!(sandbox.woocommerce_notes().is_empty(), "nothing is written");

    sandbox.set_woocommerce_fault(Fault::RateLimited { times: 5 });
    let limited = put_status(&sandbox, "5", json!({ "status": "completed" })).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "1");
    sandbox.clear_faults();
    let ok = put_status(&sandbox, "5", json!({ "status": "completed" })).await;
    assert_eq!(ok.status(), StatusCode::OK);

    // A lost response: the note is written, the client gives up before hearing so.
    sandbox.set_woocommerce_fault(Fault::LoseResponse {
        times: 1,
        delay_ms: 2_000,
    });
    let impatient = Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let lost = authed(impatient.post(url(&sandbox, "/orders/5/notes")))
        .json(&json!({ "note": "Tracking number: SBX5." }))
        .send()
        .await;
    assert!(lost.unwrap_err().is_timeout());
    assert_eq!(sandbox.woocommerce_notes().len(), 1);
}
