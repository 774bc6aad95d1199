//! `PUT /v1/drivers/{driver_id}/route` and `GET` (docs/sandbox-courier-api.md): ordered
//! routes, what they never move, idempotent repeats, and refusals that change nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{body_json, start, task_body, Courier, Receiver};

async fn put_route(courier: &Courier, driver: &str, body: Value) -> (StatusCode, Value) {
    let response = courier
        .request(reqwest::Method::PUT, &format!("/v1/drivers/{driver}/route"))
        .json(&body)
        .send()
        .await
        .expect("the sandbox answers");
    let status = response.status();
    (status, body_json(response).await)
}

async fn tasks(courier: &Courier, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            courier
                .create_id(&task_body(&format!("shopify:s:{i}:1")))
                .await,
        );
    }
    ids
}

async fn status_of(courier: &Courier, id: &str) -> (String, Value) {
    let task = body_json(
        courier
            .get(&format!("/v1/tasks/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    (
        task["status"].as_str().unwrap().to_owned(),
        task["driver_id"].clone(),
    )
}

#[tokio::test]
async fn a_route_assigns_its_tasks_in_order_once_and_a_repeat_changes_and_sends_nothing() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let receiver = Receiver::start(&[]).await;
    sandbox.set_webhook(receiver.url.clone(), "whsec_routes");
    let ids = tasks(&courier, 3).await;
    let order = vec![ids[2].clone(), ids[0].clone(), ids[1].clone()];

    let body = json!({"plan": "p1", "tasks": order});
    let (status, answer) = put_route(&courier, "drv_07", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["tasks"], json!(order));
    assert_eq!(
        (answer["assigned"].as_u64(), answer["reassigned"].as_u64()),
        (Some(3), Some(0))
    );
    for id in &ids {
        assert_eq!(
            status_of(&courier, id).await,
            ("assigned".into(), json!("drv_07"))
        );
    }
    let events = receiver.wait_for(3).await;
    assert!(
        events.iter().all(|e| e.json()["status"] == "assigned"),
        "{:?}",
        events.len()
    );

    let (status, again) = put_route(&courier, "drv_07", body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["tasks"], json!(order));
    assert_eq!(again["assigned"], 0);
    let read = body_json(
        courier
            .get("/v1/drivers/drv_07/route")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        read,
        json!({"driver_id": "drv_07", "plan": "p1", "tasks": order})
    );
    // Events are sent for status changes only, and the repeat made none.
    for id in &ids {
        let task = body_json(
            courier
                .get(&format!("/v1/tasks/{id}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            task["status_history"].as_array().map(Vec::len),
            Some(2),
            "{task}"
        );
    }
}

#[tokio::test]
async fn started_tasks_stay_first_unlisted_ones_stay_and_a_task_moves_to_the_driver_who_is_given_it(
) {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let ids = tasks(&courier, 4).await;
    let (status, _) = put_route(
        &courier,
        "a",
        json!({"plan": "p1", "tasks": [ids[0], ids[1], ids[2]]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Driver a picks up the second task.
    assert_eq!(
        courier.advance(&ids[1], None).await.status(),
        StatusCode::OK
    );

    // A new plan for a: the new task first, then the first; the third is not listed.
    let (_, answer) = put_route(
        &courier,
        "a",
        json!({"plan": "p2", "tasks": [ids[3], ids[0]]}),
    )
    .await;
    assert_eq!(answer["tasks"], json!([ids[1], ids[3], ids[0], ids[2]]));

    // Driver b is given the third: it leaves a's route.
    let (_, answer) = put_route(&courier, "b", json!({"plan": "p3", "tasks": [ids[2]]})).await;
    assert_eq!(answer["reassigned"], 1);
    assert_eq!(
        status_of(&courier, &ids[2]).await,
        ("assigned".into(), json!("b"))
    );
    let a = body_json(courier.get("/v1/drivers/a/route").send().await.unwrap()).await;
    assert_eq!(a["tasks"], json!([ids[1], ids[3], ids[0]]));
    let nobody = body_json(
        courier
            .get("/v1/drivers/nobody/route")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(nobody, json!({"driver_id": "nobody", "tasks": []}));
}

#[tokio::test]
async fn refused_routes_change_nothing_and_say_why() {
    let sandbox = start().await;
    let courier = Courier::new(&sandbox);
    let ids = tasks(&courier, 2).await;
    put_route(&courier, "a", json!({"plan": "p1", "tasks": [ids[0]]})).await;
    assert_eq!(
        courier.advance(&ids[0], None).await.status(),
        StatusCode::OK
    );

    let cases = [
        (
            "b",
            json!({"plan": "p", "tasks": [ids[1], ids[0]]}),
            StatusCode::CONFLICT,
            "task_in_progress",
        ),
        (
            "b",
            json!({"plan": "p", "tasks": [ids[1], "tsk_missing"]}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "b",
            json!({"plan": "p", "tasks": [ids[1], ids[1]]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "b",
            json!({"plan": "", "tasks": [ids[1]]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "b",
            json!({"tasks": [ids[1]]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "b%20c",
            json!({"plan": "p", "tasks": [ids[1]]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
    ];
    for (driver, body, status, code) in cases {
        let (got, answer) = put_route(&courier, driver, body.clone()).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{body} {answer}"
        );
    }
    assert_eq!(
        status_of(&courier, &ids[1]).await,
        ("created".into(), Value::Null)
    );
    assert_eq!(
        status_of(&courier, &ids[0]).await,
        ("picked_up".into(), json!("a"))
    );

    assert_eq!(
        courier
            .post(&format!("/v1/tasks/{}/cancel", ids[1]))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let (got, answer) = put_route(&courier, "b", json!({"plan": "p", "tasks": [ids[1]]})).await;
    assert_eq!(
        (got, answer["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("task_cancelled"))
    );
}
