//! `courier-bridge dlq`: a message that failed for good, listed and sent back.

use crate::support::TestStack;

#[tokio::test]
async fn a_dead_letter_is_listed_and_redriven_to_its_queue() {
    let stack = TestStack::create("cli-dlq").await;
    let sqs = stack.sqs();
    let body = r#"{"shipment_key":"shopify:test-store:1:1","action":"create"}"#;
    sqs.send_message()
        .queue_url(stack.queue_url("TasksQueue"))
        .message_body(body)
        .send()
        .await
        .expect("SendMessage");
    // Fail it the way a consumer does: receive it and never delete it, until the queue's
    // redrive policy (template.yaml: maxReceiveCount) moves it to the DLQ.
    let mut receives = 0;
    loop {
        let out = sqs
            .receive_message()
            .queue_url(stack.queue_url("TasksQueue"))
            .visibility_timeout(0)
            .send()
            .await
            .expect("ReceiveMessage");
        if out.messages.unwrap_or_default().is_empty() {
            break;
        }
        receives += 1;
        assert!(receives < 20, "the message never reached the DLQ");
    }

    let text = stack
        .run(&["dlq", "list", "--queue", "TasksQueue"])
        .await
        .expect("dlq list");
    assert!(text.starts_with("1 message(s) in "), "{text}");
    assert!(text.contains("TasksDLQ") && text.contains(body), "{text}");
    // Listing does not consume: it is still there, and visible at once.
    let json = stack
        .run(&["dlq", "list", "--queue", "tasks", "--json"])
        .await
        .expect("dlq list --json");
    let listed: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(listed["messages"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["messages"][0]["body"], body);

    let text = stack
        .run(&["dlq", "redrive", "--queue", "TasksQueue"])
        .await
        .expect("redrive");
    assert!(text.starts_with("moved 1 message(s) from "), "{text}");
    assert!(stack.drain("TasksDLQ").await.is_empty());
    assert_eq!(stack.drain("TasksQueue").await, [body]);

    let text = stack
        .run(&["dlq", "list", "--queue", "IntakeQueue"])
        .await
        .expect("empty DLQ");
    assert!(text.starts_with("0 message(s) in "), "{text}");
    stack.teardown().await;
}
