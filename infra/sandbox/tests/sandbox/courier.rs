//! The courier API contract: create, read, find, idempotency, validation, auth, advance.
//! Updates, cancellations and address resolution are in `task_changes`.

use std::collections::HashMap;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::support::{body_json, start, windowed_task_body, Courier, API_KEY};

const REFERENCE: &str = "shopify:demo-store:820982911946154508:1";

#[tokio::test]
async fn create_then_get_and_find_by_reference() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);

    let response = courier
        .create(&windowed_task_body(REFERENCE), Some("key-1"))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let task = body_json(response).await;

    let id = task["id"].as_str().unwrap();
    assert_eq!(location, format!("/v1/tasks/{id}"));
    assert!(id.starts_with("tsk_") && id.len() == 4 + 32, "{id}");
    let number = task["tracking_number"].as_str().unwrap();
    assert!(number.starts_with("SBX") && number.len() == 13, "{number}");
    assert!(number[3..]
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
    assert_eq!(
        task["tracking_url"],
        format!("{}/track/{number}", sandbox.base_url())
    );
    assert_eq!(task["status"], "created");
    assert_eq!(task["reference"], REFERENCE);
    let mut recipient = windowed_task_body(REFERENCE)["recipient"].clone();
    recipient["alternate_contact"] = Value::Null;
    assert_eq!(task["recipient"], recipient);
    assert_eq!(
        task["destination"],
        windowed_task_body(REFERENCE)["destination"]
    );
    assert_eq!(task["parcel"], json!({ "pieces": 2, "weight_grams": 1200 }));
    assert_eq!(
        task["cash_on_delivery"],
        json!({ "amount_minor": 5798, "currency": "USD" })
    );
    assert_eq!(task["notes"], "Leave at the back door");
    assert_eq!(task["complete_after"], "2026-05-01T09:00:00Z");
    assert_eq!(task["complete_before"], "2026-05-01T17:00:00Z");
    assert_eq!(task["service"], Value::Null);
    assert_eq!(task["updates"], 0);
    assert_eq!(task["status_history"][0]["status"], "created");
    assert_eq!(task["status_history"][0]["at"], task["created_at"]);
    assert!(task.get("idempotency_key").is_none(), "not on the wire");

    let fetched = courier
        .get(&format!("/v1/tasks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(body_json(fetched).await, task);

    let found = courier
        .get("/v1/tasks")
        .query(&[("reference", REFERENCE)])
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), StatusCode::OK);
    assert_eq!(body_json(found).await, json!({ "tasks": [task.clone()] }));

    let none = courier
        .get("/v1/tasks?reference=shopify:demo-store:1:1")
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(none).await, json!({ "tasks": [] }));

    let views = sandbox.tasks();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].id, id);
    assert_eq!(views[0].status, "created");
    assert_eq!(views[0].idempotency_key.as_deref(), Some("key-1"));
    assert_eq!(
        views[0].cash_on_delivery.as_ref().map(|m| m.amount_minor),
        Some(5798)
    );
}

#[tokio::test]
async fn tasks_with_one_reference_are_listed_oldest_first() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let first = body_json(courier.create(&windowed_task_body("ref-a"), None).await).await;
    courier.create(&windowed_task_body("ref-b"), None).await;
    let second = body_json(courier.create(&windowed_task_body("ref-a"), None).await).await;

    let listed = body_json(
        courier
            .get("/v1/tasks?reference=ref-a")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed["tasks"], json!([first, second]));
}

#[tokio::test]
async fn a_reused_idempotency_key_returns_the_existing_task() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);

    let created = courier
        .create(&windowed_task_body(REFERENCE), Some("k"))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = body_json(created).await;

    // Whatever the body: even a different, or invalid, one.
    for body in [windowed_task_body("another-reference"), json!({})] {
        let replayed = courier.create(&body, Some("k")).await;
        assert_eq!(replayed.status(), StatusCode::OK);
        assert_eq!(body_json(replayed).await, created);
    }
    assert_eq!(sandbox.tasks().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_with_one_key_make_one_task() {
    let sandbox = start().await;
    let courier = std::sync::Arc::new(Courier::new(&sandbox));

    let mut requests = JoinSet::new();
    for _ in 0..50 {
        let courier = courier.clone();
        requests.spawn(async move {
            let response = courier
                .create(&windowed_task_body(REFERENCE), Some("same"))
                .await;
            (response.status(), body_json(response).await["id"].clone())
        });
    }
    let results = requests.join_all().await;

    let created = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    let replayed = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!((created, replayed), (1, 49));
    let tasks = sandbox.tasks();
    assert_eq!(tasks.len(), 1);
    assert!(results.iter().all(|(_, id)| *id == tasks[0].id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_make_one_task_per_key() {
    let sandbox = start().await;
    let courier = std::sync::Arc::new(Courier::new(&sandbox));

    let mut requests = JoinSet::new();
    for attempt in 0..5 {
        for order in 0..40 {
            let courier = courier.clone();
            requests.spawn(async move {
                let key = format!("order-{order}");
                let body = windowed_task_body(&format!("shopify:demo-store:{order}:{attempt}"));
                let response = courier.create(&body, Some(&key)).await;
                assert!(response.status().is_success(), "{}", response.status());
                (key, body_json(response).await["id"].clone())
            });
        }
    }
    let results = requests.join_all().await;
    assert_eq!(results.len(), 200);

    let tasks = sandbox.tasks();
    assert_eq!(tasks.len(), 40);
    let id_by_key: HashMap<_, _> = tasks
        .iter()
        .map(|task| (task.idempotency_key.clone().unwrap(), task.id.clone()))
        .collect();
    assert_eq!(id_by_key.len(), 40);
    for (key, id) in results {
        assert_eq!(
            id, id_by_key[&key],
            "every answer for {key} is its one task"
        );
    }
}

#[tokio::test]
async fn invalid_bodies_are_422_naming_the_field() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);

    let cases: &[(&str, Value, &str)] = &[
        ("/reference", json!(""), "reference"),
        ("/reference", Value::Null, "reference"),
        ("/recipient", Value::Null, "recipient"),
        ("/recipient/name", json!("  "), "recipient.name"),
        ("/recipient/phone", json!("4155550100"), "recipient.phone"),
        ("/recipient/phone", json!("+1234567"), "recipient.phone"),
        (
            "/recipient/phone",
            json!("+1234567890123456"),
            "recipient.phone",
        ),
        (
            "/recipient/phone",
            json!("+1 415 555 0100"),
            "recipient.phone",
        ),
        ("/destination", Value::Null, "destination"),
        ("/destination/line1", json!(""), "destination.line1"),
        ("/destination/city", Value::Null, "destination.city"),
        (
            "/destination/country_code",
            Value::Null,
            "destination.country_code",
        ),
        (
            "/destination/country_code",
            json!("us"),
            "destination.country_code",
        ),
        (
            "/destination/country_code",
            json!("USA"),
            "destination.country_code",
        ),
        ("/destination/latitude", json!(91.0), "destination.latitude"),
        ("/parcel", Value::Null, "parcel"),
        ("/parcel/pieces", json!(0), "parcel.pieces"),
        ("/parcel/pieces", json!(-1), "parcel.pieces"),
        ("/parcel/pieces", Value::Null, "parcel.pieces"),
        ("/parcel/weight_grams", json!(-5), "parcel.weight_grams"),
        (
            "/cash_on_delivery/amount_minor",
            json!(-1),
            "cash_on_delivery.amount_minor",
        ),
        (
            "/cash_on_delivery/currency",
            json!("usd"),
            "cash_on_delivery.currency",
        ),
        (
            "/cash_on_delivery/currency",
            json!("US"),
            "cash_on_delivery.currency",
        ),
        ("/complete_after", json!("tomorrow"), "complete_after"),
        (
            "/complete_before",
            json!("2026-05-01T08:00:00Z"),
            "complete_before",
        ),
    ];
    for (pointer, value, field) in cases {
        let mut body = windowed_task_body(REFERENCE);
        *body.pointer_mut(pointer).unwrap() = value.clone();
        let response = courier.create(&body, None).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{pointer} = {value}"
        );
        let error = &body_json(response).await["error"];
        assert_eq!(error["code"], "invalid_request", "{pointer} = {value}");
        assert_eq!(error["field"], *field, "{pointer} = {value}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert!(sandbox.tasks().is_empty());
}

#[tokio::test]
async fn optional_fields_may_be_null_or_absent() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let body = json!({
        "reference": "r",
        "recipient": { "name": "N", "phone": "+2348012345678" },
        "destination": { "line1": "1 Road", "city": "Lagos", "country_code": "NG" },
        "parcel": { "pieces": 1 },
        "cash_on_delivery": null
    });
    let response = courier.create(&body, None).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let task = body_json(response).await;
    assert_eq!(task["cash_on_delivery"], Value::Null);
    assert_eq!(task["recipient"]["email"], Value::Null);
    assert_eq!(task["destination"]["postal_code"], Value::Null);
    assert_eq!(task["complete_before"], Value::Null);
}

#[tokio::test]
async fn malformed_json_is_400_and_wrong_types_are_422() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);

    let malformed = courier
        .post("/v1/tasks")
        .header("content-type", "application/json")
        .body(r#"{"reference": "#)
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body_json(malformed).await["error"]["code"],
        "malformed_json"
    );

    let mut wrong_type = windowed_task_body(REFERENCE);
    wrong_type["parcel"]["pieces"] = json!("two");
    let response = courier.create(&wrong_type, None).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body_json(response).await["error"]["code"],
        "invalid_request"
    );
    assert!(sandbox.tasks().is_empty());
}

#[tokio::test]
async fn requests_without_the_right_key_are_401() {
    let sandbox = start().await;
    let url = format!("{}/v1/tasks", sandbox.base_url());
    let client = Client::new();

    let attempts = [
        client.post(&url).json(&windowed_task_body(REFERENCE)),
        client
            .post(&url)
            .bearer_auth("wrong")
            .json(&windowed_task_body(REFERENCE)),
        client
            .post(&url)
            .basic_auth(API_KEY, None::<&str>)
            .json(&windowed_task_body(REFERENCE)),
        client.get(format!("{url}/tsk_x")),
        client.get(format!("{}/v1/nowhere", sandbox.base_url())),
    ];
    for attempt in attempts {
        let response = attempt.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let error = &body_json(response).await["error"];
        assert_eq!(error["code"], "unauthorized");
        assert!(error["message"].is_string());
    }
    assert!(sandbox.tasks().is_empty());
    assert!(sandbox.requests().iter().all(|r| r.status == Some(401)));
}

#[tokio::test]
async fn unknown_tasks_and_routes_are_404() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    for response in [
        courier.get("/v1/tasks/tsk_missing").send().await.unwrap(),
        courier
            .post("/v1/tasks/tsk_missing/advance")
            .send()
            .await
            .unwrap(),
        courier.get("/v1/nowhere").send().await.unwrap(),
    ] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(body_json(response).await["error"]["code"], "not_found");
    }
}

#[tokio::test]
async fn wrong_methods_are_405_in_the_error_format() {
    let sandbox = start().await;
    let response = Courier::new(&sandbox)
        .client
        .delete(format!("{}/v1/tasks", sandbox.base_url()))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.headers().contains_key("allow"));
    assert_eq!(
        body_json(response).await["error"]["code"],
        "method_not_allowed"
    );
}

#[tokio::test]
async fn listing_needs_a_reference() {
    let sandbox = start().await;
    let response = Courier::new(&sandbox)
        .get("/v1/tasks")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(response).await["error"]["field"], "reference");
}

#[tokio::test]
async fn the_driver_advances_to_delivered_then_conflicts() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let task = body_json(courier.create(&windowed_task_body(REFERENCE), None).await).await;
    let id = task["id"].as_str().unwrap();
    let advance = format!("/v1/tasks/{id}/advance");

    for expected in ["assigned", "picked_up", "out_for_delivery", "delivered"] {
        let response = courier.post(&advance).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let task = body_json(response).await;
        assert_eq!(task["status"], expected);
        assert_eq!(
            task["status_history"].as_array().unwrap().last().unwrap()["status"],
            expected
        );
    }

    let response = courier.post(&advance).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        body_json(response).await["error"]["code"],
        "invalid_transition"
    );

    let view = &sandbox.tasks()[0];
    assert_eq!(view.status, "delivered");
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
            "delivered"
        ]
    );
}

#[tokio::test]
async fn the_tracking_page_is_public_and_shows_the_status() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let task = body_json(courier.create(&windowed_task_body(REFERENCE), None).await).await;
    courier
        .post(&format!(
            "/v1/tasks/{}/advance",
            task["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();

    let page = Client::new()
        .get(task["tracking_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains(task["tracking_number"].as_str().unwrap()));
    assert!(html.contains(r#"data-status="assigned""#), "{html}");
    assert!(html.contains("Driver assigned"), "{html}");

    let unknown = Client::new()
        .get(format!("{}/track/<b>SBXNOPE", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(!unknown.text().await.unwrap().contains("<b>"));
}
