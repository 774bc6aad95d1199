//! The sandbox courier's signed status webhooks, against a real local receiver: the
//! registration API, one event per status change, the signature, retries, and the
//! failed / returned / delivered outcomes.

use crate::support::{
    body_json, eventually, eventually_async, hmac_hex, start, task_body, Courier, Receiver,
};
use reqwest::{Method, StatusCode};
use sandbox::{WebhookOutcome, WEBHOOK_EVENT_ID_HEADER, WEBHOOK_SIGNATURE_HEADER};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const SECRET: &str = "whsec_sandbox_test";

fn timestamp(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().expect("a timestamp string"), &Rfc3339)
        .expect("an RFC 3339 timestamp")
}

/// Checks what every event has, and returns its body.
fn verified(received: &crate::support::Received) -> Value {
    assert_eq!(received.header("content-type"), Some("application/json"));
    assert_eq!(
        received.header(WEBHOOK_SIGNATURE_HEADER),
        Some(hmac_hex(SECRET, &received.body).as_str()),
        "the signature is HMAC-SHA256 of the raw body with the secret"
    );
    let event = received.json();
    let event_id = received.header(WEBHOOK_EVENT_ID_HEADER).unwrap();
    assert_eq!(event["event_id"], event_id);
    assert!(
        event_id.starts_with("evt_") && event_id.len() == 36,
        "{event_id}"
    );
    assert_eq!(event["type"], "task.status_changed");
    let occurred_at = event["occurred_at"].as_str().unwrap();
    // RFC 3339 in UTC with milliseconds: 2026-05-01T09:00:00.123Z.
    assert_eq!(occurred_at.len(), 24, "{occurred_at}");
    assert!(occurred_at.ends_with('Z'), "{occurred_at}");
    timestamp(&event["occurred_at"]);
    for key in [
        "task_id",
        "reference",
        "tracking_number",
        "tracking_url",
        "status",
        "sequence",
        "eta",
        "failure",
        "proof",
        "cod_collected",
        "delivery_cost",
    ] {
        assert!(event.get(key).is_some(), "{key} is always present: {event}");
    }
    event
}

#[tokio::test]
async fn the_webhook_is_registered_read_and_removed_through_the_api() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let webhook = |method| courier.request(method, "/v1/webhook");

    let none = webhook(Method::GET).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(none).await["error"]["code"], "not_found");

    for (body, field) in [
        (json!({"url": "http://127.0.0.1:9/hook"}), "secret"),
        (
            json!({"url": "http://127.0.0.1:9/hook", "secret": " "}),
            "secret",
        ),
        (json!({"secret": "s"}), "url"),
        (json!({"url": "ftp://127.0.0.1/hook", "secret": "s"}), "url"),
        (json!({"url": "not a url", "secret": "s"}), "url"),
    ] {
        let response = webhook(Method::PUT).json(&body).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        assert_eq!(body_json(response).await["error"]["field"], field, "{body}");
    }

    let url = "http://127.0.0.1:9/hook";
    let put = webhook(Method::PUT)
        .json(&json!({"url": url, "secret": SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    assert_eq!(body_json(put).await, json!({"url": url}));
    let got = webhook(Method::GET).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(body_json(got).await, json!({"url": url}));

    let unauthenticated = reqwest::Client::new()
        .get(format!("{}/v1/webhook", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    for _ in 0..2 {
        let deleted = webhook(Method::DELETE).send().await.unwrap();
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    }
    let gone = webhook(Method::GET).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_status_change_is_one_signed_event_with_an_increasing_sequence() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[]).await;
    sandbox.set_webhook(receiver.url.clone(), SECRET);
    let courier = Courier::new(&sandbox);
    let id = courier.create_id(&task_body("shopify:demo:1001:1")).await;
    let task = sandbox.tasks().remove(0);

    let steps = ["assigned", "picked_up", "out_for_delivery", "delivered"];
    for (index, status) in steps.iter().enumerate() {
        courier.advance_steps(&id, 1).await;
        let received = receiver.wait_for(index + 1).await;
        let event = verified(&received[index]);
        assert_eq!(event["status"], *status);
        assert_eq!(event["sequence"], index + 1);
        assert_eq!(event["task_id"], id);
        assert_eq!(event["reference"], "shopify:demo:1001:1");
        assert_eq!(event["tracking_number"], task.tracking_number);
        assert_eq!(event["tracking_url"], task.tracking_url);
        let history = &sandbox.tasks()[0].status_history;
        assert_eq!(
            timestamp(&event["occurred_at"]).unix_timestamp_nanos() / 1_000_000,
            history[index + 1].at.unix_timestamp_nanos() / 1_000_000,
            "occurred_at is the status change, to the millisecond"
        );
        if *status == "delivered" {
            assert!(event["eta"].is_null());
        } else {
            assert!(timestamp(&event["eta"]) > timestamp(&event["occurred_at"]));
            for absent in ["failure", "proof", "cod_collected", "delivery_cost"] {
                assert!(event[absent].is_null(), "{absent}: {event}");
            }
        }
    }

    // Creating the task sent nothing: exactly one event per step, each delivered at once.
    let received = receiver.received();
    assert_eq!(received.len(), steps.len());
    let event_ids: Vec<_> = received
        .iter()
        .map(|r| r.header(WEBHOOK_EVENT_ID_HEADER).unwrap().to_owned())
        .collect();
    // The log entry follows the receiver's answer.
    let deliveries = eventually("every attempt logged", || {
        let deliveries = sandbox.webhook_deliveries();
        (deliveries.len() >= steps.len()).then_some(deliveries)
    })
    .await;
    assert_eq!(deliveries.len(), steps.len());
    for (index, delivery) in deliveries.iter().enumerate() {
        assert_eq!(delivery.event_id, event_ids[index]);
        assert_eq!(delivery.task_id, id);
        assert_eq!(delivery.status, steps[index]);
        assert_eq!(delivery.sequence, index as u32 + 1);
        assert_eq!(delivery.attempt, 1);
        assert_eq!(delivery.outcome, WebhookOutcome::HttpStatus(200));
    }
}

#[tokio::test]
async fn back_to_back_changes_each_get_their_own_sequence_number() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[]).await;
    sandbox.set_webhook(receiver.url.clone(), SECRET);
    let courier = Courier::new(&sandbox);
    let id = courier.create_id(&task_body("r")).await;
    courier.advance_steps(&id, 4).await;

    // Delivered concurrently, so possibly out of order: `sequence` orders them.
    let mut events: Vec<Value> = receiver.wait_for(4).await.iter().map(verified).collect();
    events.sort_by_key(|event| event["sequence"].as_u64());
    let statuses: Vec<_> = events.iter().map(|e| e["status"].clone()).collect();
    assert_eq!(
        statuses,
        ["assigned", "picked_up", "out_for_delivery", "delivered"]
    );
    let sequences: Vec<_> = events.iter().map(|e| e["sequence"].clone()).collect();
    assert_eq!(sequences, [1, 2, 3, 4]);
}

#[tokio::test]
async fn the_advance_does_not_wait_for_the_delivery() {
    let sandbox = start().await;
    let receiver = Receiver::start_closed().await;
    sandbox.set_webhook(receiver.url.clone(), SECRET);
    let courier = Courier::new(&sandbox);
    let id = courier.create_id(&task_body("r")).await;

    // Answered while the receiver holds the delivery.
    courier.advance_steps(&id, 1).await;
    receiver.wait_for(1).await;
    assert!(sandbox.webhook_deliveries().is_empty());

    receiver.open();
    let delivery = eventually("the held delivery to finish", || {
        sandbox.webhook_deliveries().pop()
    })
    .await;
    assert_eq!(delivery.outcome, WebhookOutcome::HttpStatus(200));
}

#[tokio::test]
async fn a_failing_receiver_gets_the_same_event_until_it_answers_2xx() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[500, 500, 200]).await;
    sandbox.set_webhook(receiver.url.clone(), SECRET);
    let courier = Courier::new(&sandbox);
    let id = courier.create_id(&task_body("r")).await;
    courier.advance_steps(&id, 1).await;

    let deliveries = eventually("a successful delivery", || {
        let deliveries = sandbox.webhook_deliveries();
        deliveries
            .iter()
            .any(|d| d.outcome.is_success())
            .then_some(deliveries)
    })
    .await;
    let attempts: Vec<_> = deliveries
        .iter()
        .map(|d| (d.attempt, d.outcome.clone()))
        .collect();
    assert_eq!(
        attempts,
        [
            (1, WebhookOutcome::HttpStatus(500)),
            (2, WebhookOutcome::HttpStatus(500)),
            (3, WebhookOutcome::HttpStatus(200)),
        ]
    );

    let received = receiver.received();
    assert_eq!(received.len(), 3);
    for request in &received {
        verified(request);
        assert_eq!(
            request.header(WEBHOOK_EVENT_ID_HEADER),
            Some(deliveries[0].event_id.as_str())
        );
        assert_eq!(request.body, received[0].body, "the same body every time");
    }
}

#[tokio::test]
async fn an_unreachable_receiver_is_retried_and_logged_as_errors() {
    let sandbox = start().await;
    // A port nobody listens on any more.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    sandbox.set_webhook(url, SECRET);
    let courier = Courier::new(&sandbox);
    let id = courier.create_id(&task_body("r")).await;
    courier.advance_steps(&id, 1).await;

    let deliveries = eventually("two failed attempts", || {
        let deliveries = sandbox.webhook_deliveries();
        (deliveries.len() >= 2).then_some(deliveries)
    })
    .await;
    assert_eq!(deliveries[0].attempt, 1);
    assert_eq!(deliveries[1].attempt, 2);
    assert_eq!(deliveries[0].event_id, deliveries[1].event_id);
    for delivery in &deliveries[..2] {
        assert!(
            matches!(&delivery.outcome, WebhookOutcome::Error(text) if !text.is_empty()),
            "{delivery:?}"
        );
    }
}

#[tokio::test]
async fn a_failed_attempt_then_the_return_are_events_with_the_failure() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[]).await;
    sandbox.set_webhook(receiver.url.clone(), SECRET);
    let courier = Courier::new(&sandbox);
    let id = courier.create_id(&task_body("r")).await;
    courier.advance_steps(&id, 3).await; // out_for_delivery

    let failed = courier
        .advance(
            &id,
            Some(json!({"outcome": "failed", "reason": "recipient_absent", "notes": "No one at the door"})),
        )
        .await;
    assert_eq!(failed.status(), StatusCode::OK);
    assert_eq!(body_json(failed).await["status"], "failed");

    // Past pickup: neither changed nor cancelled.
    let update = courier
        .request(Method::PUT, &format!("/v1/tasks/{id}"))
        .json(&task_body("r"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        update.status(),
        StatusCode::OK,
        "an unchanged update is fine"
    );
    let mut changed = task_body("r");
    changed["notes"] = json!("try again tomorrow");
    for response in [
        courier
            .request(Method::PUT, &format!("/v1/tasks/{id}"))
            .json(&changed)
            .send()
            .await
            .unwrap(),
        courier
            .post(&format!("/v1/tasks/{id}/cancel"))
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let error = body_json(response).await;
        assert_eq!(error["error"]["code"], "task_in_progress");
        assert_eq!(error["error"]["status"], "failed");
    }

    let returned = courier.advance(&id, None).await;
    assert_eq!(returned.status(), StatusCode::OK);
    assert_eq!(body_json(returned).await["status"], "returned");
    let done = courier.advance(&id, None).await;
    assert_eq!(done.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(done).await["error"]["code"], "invalid_transition");

    let mut events: Vec<Value> = receiver.wait_for(5).await.iter().map(verified).collect();
    events.sort_by_key(|event| event["sequence"].as_u64());
    let failed = &events[3];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["sequence"], 4);
    assert_eq!(
        failed["failure"],
        json!({"reason": "recipient_absent", "notes": "No one at the door"})
    );
    assert_eq!(
        failed["delivery_cost"],
        json!({"amount_minor": 590, "currency": "USD"})
    );
    assert!(failed["eta"].is_null());
    assert!(failed["proof"].is_null());
    assert!(failed["cod_collected"].is_null());
    let returned = &events[4];
    assert_eq!(returned["status"], "returned");
    assert_eq!(returned["sequence"], 5);
    assert_eq!(returned["failure"], failed["failure"]);
    assert_eq!(returned["delivery_cost"], failed["delivery_cost"]);
    assert!(returned["proof"].is_null());

    let view = &sandbox.tasks()[0];
    assert_eq!(view.status, "returned");
    let history: Vec<_> = view
        .status_history
        .iter()
        .map(|e| e.status.as_str())
        .collect();
    assert_eq!(
        history,
        [
            "created",
            "assigned",
            "picked_up",
            "out_for_delivery",
            "failed",
            "returned"
        ]
    );
    let page = reqwest::get(&view.tracking_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"data-status="returned""#), "{page}");
    assert!(page.contains("Delivery attempt failed"), "{page}");
    assert!(page.contains("Returned to sender"), "{page}");
}

#[tokio::test]
async fn outcomes_are_refused_where_they_do_not_apply() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let id = courier.create_id(&task_body("r")).await;
    let failed = json!({"outcome": "failed", "reason": "refused"});

    let early = courier.advance(&id, Some(failed.clone())).await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
    assert_eq!(
        body_json(early).await["error"]["code"],
        "invalid_transition"
    );

    for (body, field) in [
        (json!({"outcome": "failed"}), "reason"),
        (json!({"outcome": "failed", "reason": "bored"}), "reason"),
        (json!({"outcome": "delivered"}), "outcome"),
        (json!({"cod_collected_minor": -5}), "cod_collected_minor"),
        // The next step is `assigned`: no cash changes hands.
        (json!({"cod_collected_minor": 100}), "cod_collected_minor"),
    ] {
        let response = courier.advance(&id, Some(body.clone())).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        assert_eq!(body_json(response).await["error"]["field"], field, "{body}");
    }
    let malformed = courier
        .post(&format!("/v1/tasks/{id}/advance"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(sandbox.tasks()[0].status, "created", "nothing moved");

    // A task without cash on delivery has nothing to collect.
    let mut prepaid = task_body("prepaid");
    prepaid["cash_on_delivery"] = Value::Null;
    let prepaid = courier.create_id(&prepaid).await;
    courier.advance_steps(&prepaid, 3).await;
    let response = courier
        .advance(&prepaid, Some(json!({"cod_collected_minor": 100})))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body_json(response).await["error"]["field"],
        "cod_collected_minor"
    );
}

/// Advances a fresh task to delivered (the last step with `last_body`) and returns the
/// delivered event.
async fn delivered_event(
    sandbox: &sandbox::Sandbox,
    receiver: &Receiver,
    task: Value,
    last_body: Option<Value>,
) -> Value {
    let courier = Courier::new(sandbox);
    let id = courier.create_id(&task).await;
    courier.advance_steps(&id, 3).await;
    let response = courier.advance(&id, last_body).await;
    assert_eq!(response.status(), StatusCode::OK);
    eventually(&format!("the delivered event of {id}"), || {
        receiver
            .received()
            .iter()
            .map(verified)
            .find(|event| event["task_id"] == id.as_str() && event["status"] == "delivered")
    })
    .await
}

#[tokio::test]
async fn the_delivered_event_carries_proof_cash_and_cost() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[]).await;
    sandbox.set_webhook(receiver.url.clone(), SECRET);
    let base = sandbox.base_url();

    // Cash on delivery collected in full, 1.2 kg, no coordinates.
    let full = delivered_event(&sandbox, &receiver, task_body("full"), None).await;
    let id = full["task_id"].as_str().unwrap();
    assert_eq!(
        full["cod_collected"],
        json!({"amount_minor": 5798, "currency": "USD"})
    );
    assert_eq!(
        full["delivery_cost"],
        json!({"amount_minor": 590, "currency": "USD"})
    );
    let proof = &full["proof"];
    assert_eq!(proof["recipient_name"], "Steve Shipper");
    assert_eq!(
        proof["signature_url"],
        format!("{base}/proof/{id}/signature.png")
    );
    assert_eq!(
        proof["photo_urls"],
        json!([format!("{base}/proof/{id}/photo-1.jpg")])
    );
    assert!(proof["location"]["lat"].is_f64() && proof["location"]["lng"].is_f64());
    assert_eq!(proof["completed_at"], full["occurred_at"]);
    assert!(full["failure"].is_null());

    // Short: the driver collected less than the amount due.
    let short = delivered_event(
        &sandbox,
        &receiver,
        task_body("short"),
        Some(json!({"cod_collected_minor": 5000})),
    )
    .await;
    assert_eq!(
        short["cod_collected"],
        json!({"amount_minor": 5000, "currency": "USD"})
    );

    // Prepaid, unweighed, with coordinates: no cash, the base price in EUR, the destination
    // as the location.
    let mut prepaid = task_body("prepaid");
    prepaid["cash_on_delivery"] = Value::Null;
    prepaid["parcel"]["weight_grams"] = Value::Null;
    prepaid["destination"]["latitude"] = json!(52.5);
    prepaid["destination"]["longitude"] = json!(13.4);
    let prepaid = delivered_event(&sandbox, &receiver, prepaid, None).await;
    assert!(prepaid["cod_collected"].is_null());
    assert_eq!(
        prepaid["delivery_cost"],
        json!({"amount_minor": 490, "currency": "EUR"})
    );
    assert_eq!(
        prepaid["proof"]["location"],
        json!({"lat": 52.5, "lng": 13.4})
    );
}

#[tokio::test]
async fn a_cancellation_is_one_cancelled_event() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[]).await;
    sandbox.set_webhook(receiver.url.clone(), SECRET);
    let courier = Courier::new(&sandbox);
    let id = courier.create_id(&task_body("r")).await;
    courier.advance_steps(&id, 1).await;
    for _ in 0..2 {
        let cancelled = courier
            .post(&format!("/v1/tasks/{id}/cancel"))
            .send()
            .await
            .unwrap();
        assert_eq!(cancelled.status(), StatusCode::OK);
    }

    let mut events: Vec<Value> = receiver.wait_for(2).await.iter().map(verified).collect();
    events.sort_by_key(|event| event["sequence"].as_u64());
    assert_eq!(events[1]["status"], "cancelled");
    assert_eq!(events[1]["sequence"], 2);
    assert!(events[1]["eta"].is_null());
    assert!(events[1]["delivery_cost"].is_null());

    // The repeated cancellation changed nothing and sent nothing: a later change of another
    // task is the next event.
    let other = courier.create_id(&task_body("other")).await;
    courier.advance_steps(&other, 1).await;
    let received = receiver.wait_for(3).await;
    assert_eq!(received.len(), 3);
    assert_eq!(verified(&received[2])["task_id"], other);
}

#[tokio::test]
async fn sequences_count_status_changes_even_without_a_webhook() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let id = courier.create_id(&task_body("r")).await;
    courier.advance_steps(&id, 1).await;
    assert!(sandbox.webhook_deliveries().is_empty());

    let receiver = Receiver::start(&[]).await;
    sandbox.set_webhook(receiver.url.clone(), SECRET);
    courier.advance_steps(&id, 1).await;
    let event = verified(&receiver.wait_for(1).await[0]);
    assert_eq!(event["status"], "picked_up");
    assert_eq!(event["sequence"], 2);

    sandbox.clear_webhook();
    courier.advance_steps(&id, 1).await;
    sandbox.set_webhook(receiver.url.clone(), SECRET);
    courier.advance_steps(&id, 1).await;
    let received = receiver.wait_for(2).await;
    assert_eq!(received.len(), 2);
    assert_eq!(verified(&received[1])["sequence"], 4);
}

#[tokio::test]
async fn the_control_api_mirrors_the_delivery_log() {
    let sandbox = start().await;
    let receiver = Receiver::start(&[503]).await;
    sandbox.set_webhook(receiver.url.clone(), SECRET);
    let courier = Courier::new(&sandbox);
    let id = courier.create_id(&task_body("r")).await;
    courier.advance_steps(&id, 1).await;

    let client = reqwest::Client::new();
    let url = format!("{}/sandbox/webhook-deliveries", sandbox.base_url());
    let log = eventually_async("two logged attempts", || {
        let request = client.get(&url).send();
        async move {
            let log: Value = request.await.ok()?.json().await.ok()?;
            (log.as_array()?.len() == 2).then_some(log)
        }
    })
    .await;
    assert_eq!(log[0]["attempt"], 1);
    assert_eq!(log[0]["outcome"], json!({"http_status": 503}));
    assert_eq!(log[1]["outcome"], json!({"http_status": 200}));
    assert_eq!(log[1]["status"], "assigned");
    assert_eq!(log[1]["sequence"], 1);
    assert_eq!(
        serde_json::to_value(sandbox.webhook_deliveries()).unwrap(),
        log
    );
}
