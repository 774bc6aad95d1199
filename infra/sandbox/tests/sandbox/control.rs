//! The `/sandbox` control API and the server's lifecycle.

use reqwest::{Client, StatusCode};
use sandbox::RequestLogEntry;
use serde_json::json;

use crate::support::{body_json, set_faults, start, windowed_task_body, Courier};

#[tokio::test]
async fn the_request_log_lists_v1_requests_in_arrival_order() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    courier
        .create(&windowed_task_body("ref-1"), Some("key-1"))
        .await;
    courier
        .get("/v1/tasks")
        .query(&[("reference", "ref-1")])
        .send()
        .await
        .unwrap();
    courier.get("/v1/tasks/tsk_missing").send().await.unwrap();
    // Not courier API requests: not logged.
    Client::new()
        .get(format!("{}/track/SBX0000000000", sandbox.base_url()))
        .send()
        .await
        .unwrap();

    let expected = vec![
        RequestLogEntry {
            method: "POST".into(),
            path: "/v1/tasks".into(),
            query: None,
            idempotency_key: Some("key-1".into()),
            status: Some(201),
        },
        RequestLogEntry {
            method: "GET".into(),
            path: "/v1/tasks".into(),
            query: Some("reference=ref-1".into()),
            idempotency_key: None,
            status: Some(200),
        },
        RequestLogEntry {
            method: "GET".into(),
            path: "/v1/tasks/tsk_missing".into(),
            query: None,
            idempotency_key: None,
            status: Some(404),
        },
    ];
    assert_eq!(sandbox.requests(), expected);

    let over_http = Client::new()
        .get(format!("{}/sandbox/requests", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(over_http.status(), StatusCode::OK);
    assert_eq!(body_json(over_http).await, json!(expected));
}

#[tokio::test]
async fn fault_requests_are_validated() {
    let sandbox = start().await;

    let misspelt = set_faults(
        &sandbox,
        json!({ "create_tasks": { "mode": "unavailable" } }),
    )
    .await;
    assert_eq!(misspelt.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body_json(misspelt).await["error"]["code"],
        "invalid_request"
    );

    let unknown_mode = set_faults(&sandbox, json!({ "create_task": { "mode": "explode" } })).await;
    assert_eq!(unknown_mode.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let malformed = Client::new()
        .post(format!("{}/sandbox/faults", sandbox.base_url()))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body_json(malformed).await["error"]["code"],
        "malformed_json"
    );

    // Nothing was armed by the rejected requests.
    let response = Courier::new(&sandbox)
        .create(&windowed_task_body("r"), None)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let sandbox = start().await;
    let url = format!("{}/sandbox/requests", sandbox.base_url());
    assert!(Client::new().get(&url).send().await.is_ok());

    sandbox.shutdown().await;

    let error = Client::new()
        .get(&url)
        .send()
        .await
        .expect_err("nothing listens any more");
    assert!(error.is_connect(), "{error:?}");
}
