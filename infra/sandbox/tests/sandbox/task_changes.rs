//! The courier API contract after creation: updates (`PUT /v1/tasks/{id}`), cancellations
//! (`POST /v1/tasks/{id}/cancel`), and what create accepts about contacts, services and
//! addresses.

use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

use crate::support::{body_json, start, windowed_task_body, Courier, API_KEY};

const REFERENCE: &str = "amazon:eu-store:303-1234567-7654321:1";

fn put(courier: &Courier, id: &str, body: &Value) -> reqwest::RequestBuilder {
    courier
        .client
        .put(format!("{}/v1/tasks/{id}", courier.base))
        .bearer_auth(API_KEY)
        .json(body)
}

async fn update(courier: &Courier, id: &str, body: &Value) -> Response {
    put(courier, id, body)
        .send()
        .await
        .expect("the sandbox answers")
}

async fn cancel(courier: &Courier, id: &str) -> Response {
    courier
        .post(&format!("/v1/tasks/{id}/cancel"))
        .send()
        .await
        .expect("the sandbox answers")
}

/// Creates a task from `windowed_task_body(REFERENCE)` and advances it `steps` times.
async fn task_after(courier: &Courier, steps: usize) -> String {
    let created = courier.create(&windowed_task_body(REFERENCE), None).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = body_json(created).await["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    for _ in 0..steps {
        let advanced = courier
            .post(&format!("/v1/tasks/{id}/advance"))
            .send()
            .await
            .expect("the sandbox answers");
        assert_eq!(advanced.status(), StatusCode::OK);
    }
    id
}

/// The create body with a new address, a masked phone and another service.
fn edited_body() -> Value {
    let mut body = windowed_task_body(REFERENCE);
    body["recipient"] = json!({
        "name": "Steve Shipper", "phone": null, "email": null,
        "alternate_contact": "steve+relay@marketplace.example"
    });
    body["destination"]["line1"] = json!("7 Elm Street");
    body["destination"]["postal_code"] = json!("40202");
    body["cash_on_delivery"] = Value::Null;
    body["notes"] = json!("Ring twice");
    body["service"] = json!("same_day");
    body
}

async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let error = body_json(response).await["error"].clone();
    assert_eq!(error["code"], code, "{error}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    error
}

#[tokio::test]
async fn an_update_before_pickup_replaces_the_details_once() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let id = task_after(&courier, 1).await; // assigned

    let response = update(&courier, &id, &edited_body()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let task = body_json(response).await;
    assert_eq!(task["status"], "assigned");
    assert_eq!(task["reference"], REFERENCE);
    assert_eq!(task["destination"]["line1"], "7 Elm Street");
    assert_eq!(task["recipient"]["phone"], Value::Null);
    assert_eq!(
        task["recipient"]["alternate_contact"],
        "steve+relay@marketplace.example"
    );
    assert_eq!(task["cash_on_delivery"], Value::Null);
    assert_eq!(task["notes"], "Ring twice");
    assert_eq!(task["service"], "same_day");
    assert_eq!(task["updates"], 1);
    assert_eq!(task["status_history"].as_array().map(Vec::len), Some(2));

    // Retrying the same update changes nothing and is not counted again.
    let again = update(&courier, &id, &edited_body()).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(body_json(again).await, task);
    let fetched = courier
        .get(&format!("/v1/tasks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(fetched).await, task);

    let view = &sandbox.tasks()[0];
    assert_eq!(view.updates, 1);
    assert_eq!(view.service.as_deref(), Some("same_day"));
    let log: Vec<_> = sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .map(|r| (r.path, r.status))
        .collect();
    assert_eq!(log, vec![(format!("/v1/tasks/{id}"), Some(200)); 2]);
}

#[tokio::test]
async fn an_update_may_leave_the_reference_out_but_not_change_it() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let id = task_after(&courier, 0).await;

    let mut without = edited_body();
    without.as_object_mut().unwrap().remove("reference");
    assert_eq!(
        update(&courier, &id, &without).await.status(),
        StatusCode::OK
    );

    let mut other = edited_body();
    other["reference"] = json!("amazon:eu-store:999:1");
    other["notes"] = json!("something else");
    let error = assert_error(
        update(&courier, &id, &other).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    )
    .await;
    assert_eq!(error["field"], "reference");
    assert_eq!(sandbox.tasks()[0].notes.as_deref(), Some("Ring twice"));
}

#[tokio::test]
async fn an_update_after_pickup_is_409_task_in_progress_with_the_status() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let id = task_after(&courier, 2).await; // picked_up

    let error = assert_error(
        update(&courier, &id, &edited_body()).await,
        StatusCode::CONFLICT,
        "task_in_progress",
    )
    .await;
    assert_eq!(error["status"], "picked_up");
    let view = &sandbox.tasks()[0];
    assert_eq!(
        (view.destination.line1.as_str(), view.updates),
        ("123 Shipping Street", 0)
    );

    // Too late beats a bad body: fixing the body would not help.
    let mut invalid = edited_body();
    invalid["parcel"]["pieces"] = json!(0);
    let error = assert_error(
        update(&courier, &id, &invalid).await,
        StatusCode::CONFLICT,
        "task_in_progress",
    )
    .await;
    assert_eq!(error["status"], "picked_up");

    // Repeating what the task already says is not a change, so it is never too late.
    let unchanged = update(&courier, &id, &windowed_task_body(REFERENCE)).await;
    assert_eq!(unchanged.status(), StatusCode::OK);
    assert_eq!(body_json(unchanged).await["updates"], 0);

    for expected in ["out_for_delivery", "delivered"] {
        courier
            .post(&format!("/v1/tasks/{id}/advance"))
            .send()
            .await
            .unwrap();
        let error = assert_error(
            update(&courier, &id, &edited_body()).await,
            StatusCode::CONFLICT,
            "task_in_progress",
        )
        .await;
        assert_eq!(error["status"], expected);
    }
}

#[tokio::test]
async fn an_update_of_a_cancelled_task_is_409_task_cancelled() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let id = task_after(&courier, 0).await;
    assert_eq!(cancel(&courier, &id).await.status(), StatusCode::OK);

    for body in [edited_body(), windowed_task_body(REFERENCE)] {
        let error = assert_error(
            update(&courier, &id, &body).await,
            StatusCode::CONFLICT,
            "task_cancelled",
        )
        .await;
        assert_eq!(error["status"], "cancelled");
    }
}

#[tokio::test]
async fn an_update_is_validated_like_a_create() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let id = task_after(&courier, 0).await;

    let mut invalid = edited_body();
    invalid["recipient"]["alternate_contact"] = Value::Null;
    let error = assert_error(
        update(&courier, &id, &invalid).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    )
    .await;
    assert_eq!(error["field"], "recipient.phone");

    let mut unknown = edited_body();
    unknown["destination"]["postal_code"] = json!("00000");
    assert_error(
        update(&courier, &id, &unknown).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "address_not_found",
    )
    .await;

    let malformed = put(&courier, &id, &Value::Null)
        .body("{")
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST, "malformed_json").await;

    assert_error(
        update(&courier, "tsk_missing", &edited_body()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(sandbox.tasks()[0].updates, 0);
}

#[tokio::test]
async fn cancelling_before_pickup_is_idempotent() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    for steps in [0, 1] {
        let id = task_after(&courier, steps).await;

        let first = cancel(&courier, &id).await;
        assert_eq!(first.status(), StatusCode::OK);
        let task = body_json(first).await;
        assert_eq!(task["status"], "cancelled");
        let history = task["status_history"].as_array().unwrap();
        assert_eq!(history.len(), steps + 2);
        assert_eq!(history.last().unwrap()["status"], "cancelled");

        let again = cancel(&courier, &id).await;
        assert_eq!(again.status(), StatusCode::OK);
        assert_eq!(body_json(again).await, task, "a repeat changes nothing");

        // The driver never gets a cancelled task.
        assert_error(
            courier
                .post(&format!("/v1/tasks/{id}/advance"))
                .send()
                .await
                .unwrap(),
            StatusCode::CONFLICT,
            "invalid_transition",
        )
        .await;
        let page = Client::new()
            .get(task["tracking_url"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(r#"data-status="cancelled""#), "{page}");
    }
    assert!(sandbox.tasks().iter().all(|t| t.status == "cancelled"));
}

#[tokio::test]
async fn cancelling_after_pickup_is_409_task_in_progress_with_the_status() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    for (steps, status) in [(2, "picked_up"), (3, "out_for_delivery"), (4, "delivered")] {
        let id = task_after(&courier, steps).await;
        let error = assert_error(
            cancel(&courier, &id).await,
            StatusCode::CONFLICT,
            "task_in_progress",
        )
        .await;
        assert_eq!(error["status"], status);
        assert!(error.get("field").is_none());
    }
    let statuses: Vec<_> = sandbox.tasks().into_iter().map(|t| t.status).collect();
    assert_eq!(statuses, ["picked_up", "out_for_delivery", "delivered"]);
}

#[tokio::test]
async fn cancel_needs_a_known_task_the_key_and_post() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let id = task_after(&courier, 0).await;

    assert_error(
        cancel(&courier, "tsk_missing").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let url = format!("{}/v1/tasks/{id}/cancel", sandbox.base_url());
    assert_error(
        Client::new().post(&url).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    assert_error(
        courier
            .get(&format!("/v1/tasks/{id}/cancel"))
            .send()
            .await
            .unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    assert_eq!(sandbox.tasks()[0].status, "created");
}

#[tokio::test]
async fn unplaceable_addresses_are_422_with_their_own_codes() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);

    let mut not_found = windowed_task_body(REFERENCE);
    not_found["destination"]["postal_code"] = json!("00000");
    let error = assert_error(
        courier.create(&not_found, Some("k-1")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "address_not_found",
    )
    .await;
    assert_eq!(error["field"], "destination.postal_code");

    let mut ambiguous = windowed_task_body(REFERENCE);
    ambiguous["destination"]["line1"] = json!("Shipping Street");
    let error = assert_error(
        courier.create(&ambiguous, Some("k-2")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "address_ambiguous",
    )
    .await;
    assert_eq!(error["field"], "destination.line1");

    // Validation comes first: an address is only looked up once the request is well formed.
    ambiguous["destination"]["city"] = Value::Null;
    let error = assert_error(
        courier.create(&ambiguous, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    )
    .await;
    assert_eq!(error["field"], "destination.city");

    assert!(sandbox.tasks().is_empty());
    // A refused create leaves its idempotency key unused.
    assert_eq!(
        courier
            .create(&windowed_task_body(REFERENCE), Some("k-1"))
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_task_needs_a_phone_or_an_alternate_contact() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);

    let mut masked = windowed_task_body(REFERENCE);
    masked["recipient"] = json!({ "name": "Kim", "alternate_contact": "kim@relay.example" });
    let response = courier.create(&masked, None).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let recipient = body_json(response).await["recipient"].clone();
    assert_eq!(
        recipient,
        json!({ "name": "Kim", "phone": null, "email": null, "alternate_contact": "kim@relay.example" })
    );

    for recipient in [
        json!({ "name": "Kim" }),
        json!({ "name": "Kim", "phone": null, "alternate_contact": null }),
        json!({ "name": "Kim", "phone": " ", "alternate_contact": "" }),
        json!({ "name": "Kim", "email": "kim@example.com" }),
        // A bad phone is not excused by an alternate contact.
        json!({ "name": "Kim", "phone": "0301234", "alternate_contact": "kim@relay.example" }),
    ] {
        let mut body = windowed_task_body(REFERENCE);
        body["recipient"] = recipient.clone();
        let error = assert_error(
            courier.create(&body, None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        )
        .await;
        assert_eq!(error["field"], "recipient.phone", "{recipient}");
    }
    assert_eq!(sandbox.tasks().len(), 1);
}

#[tokio::test]
async fn the_service_is_one_of_the_documented_names() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    for service in [
        "standard",
        "same_day",
        "next_day",
        "scheduled",
        "pickup_point",
        "oversized",
    ] {
        let mut body = windowed_task_body(REFERENCE);
        body["service"] = json!(service);
        let response = courier.create(&body, None).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{service}");
        assert_eq!(body_json(response).await["service"], service);
    }
    for service in [json!("express"), json!(""), json!("SAME_DAY")] {
        let mut body = windowed_task_body(REFERENCE);
        body["service"] = service.clone();
        let error = assert_error(
            courier.create(&body, None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        )
        .await;
        assert_eq!(error["field"], "service", "{service}");
    }
    assert_eq!(sandbox.tasks().len(), 6);
}
