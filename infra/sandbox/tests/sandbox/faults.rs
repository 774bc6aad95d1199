//! Fault injection on `POST /v1/tasks`.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use sandbox::Fault;
use serde_json::json;

use crate::support::{body_json, set_faults, start, windowed_task_body, Courier};

#[tokio::test]
async fn unavailable_n_times_then_success() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let armed = set_faults(
        &sandbox,
        json!({ "create_task": { "mode": "unavailable", "times": 3 } }),
    )
    .await;
    assert_eq!(armed.status(), StatusCode::NO_CONTENT);

    for _ in 0..3 {
        let response = courier.create(&windowed_task_body("r"), Some("k")).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "1");
        assert_eq!(body_json(response).await["error"]["code"], "unavailable");
        assert!(sandbox.tasks().is_empty(), "nothing is created");
    }
    let response = courier.create(&windowed_task_body("r"), Some("k")).await;
    assert_eq!(response.status(), StatusCode::CREATED);

    assert_eq!(sandbox.tasks().len(), 1);
    let statuses: Vec<_> = sandbox.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(503), Some(503), Some(503), Some(201)]);
}

#[tokio::test]
async fn rate_limited_is_429_with_retry_after() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    sandbox.set_create_task_fault(Fault::RateLimited { times: 2 });

    for _ in 0..2 {
        let response = courier.create(&windowed_task_body("r"), None).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "1");
        assert_eq!(body_json(response).await["error"]["code"], "rate_limited");
    }
    assert!(sandbox.tasks().is_empty());
    assert_eq!(
        courier
            .create(&windowed_task_body("r"), None)
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn unavailable_until_cleared() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    set_faults(
        &sandbox,
        json!({ "create_task": { "mode": "unavailable_until_cleared" } }),
    )
    .await;

    for _ in 0..5 {
        let response = courier.create(&windowed_task_body("r"), None).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    let cleared = Client::new()
        .delete(format!("{}/sandbox/faults", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        courier
            .create(&windowed_task_body("r"), None)
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn clear_faults_disarms_from_rust_too() {
    let sandbox = start().await;
    sandbox.set_create_task_fault(Fault::UnavailableUntilCleared);
    sandbox.clear_faults();
    let response = Courier::new(&sandbox)
        .create(&windowed_task_body("r"), None)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// The task is stored although the client never sees the answer; a retry with the same key
/// then gets that task rather than a duplicate.
#[tokio::test]
async fn lose_response_creates_the_task_but_the_client_times_out() {
    let sandbox = start().await;
    set_faults(
        &sandbox,
        json!({ "create_task": { "mode": "lose_response", "delay_ms": 60_000 } }),
    )
    .await;
    let impatient = Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();

    let error = impatient
        .post(format!("{}/v1/tasks", sandbox.base_url()))
        .bearer_auth(crate::support::API_KEY)
        .header("Idempotency-Key", "lost")
        .json(&windowed_task_body("r"))
        .send()
        .await
        .expect_err("the response is held back past the client's timeout");
    assert!(error.is_timeout(), "{error:?}");

    let tasks = sandbox.tasks();
    assert_eq!(tasks.len(), 1);
    // Logged with the status the held-back response carries.
    assert_eq!(sandbox.requests()[0].status, Some(201));

    let retry = Courier::new(&sandbox)
        .create(&windowed_task_body("r"), Some("lost"))
        .await;
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(body_json(retry).await["id"], tasks[0].id);
    assert_eq!(sandbox.tasks().len(), 1);
    // Not `shutdown()`: that would wait out the held-back response.
    drop(sandbox);
}

#[tokio::test]
async fn a_fault_only_affects_its_endpoint() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let id = body_json(courier.create(&windowed_task_body("r"), None).await).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox.set_create_task_fault(Fault::UnavailableUntilCleared);

    let read = courier
        .get(&format!("/v1/tasks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let advanced = courier
        .post(&format!("/v1/tasks/{id}/advance"))
        .send()
        .await
        .unwrap();
    assert_eq!(advanced.status(), StatusCode::OK);
}
