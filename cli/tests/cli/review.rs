//! `courier-bridge review`: the inbox, fixing a draft, releasing it exactly once.

use crate::support::{file_bad_phone, TestStack, EVENT_MS, STORE};
use cli::error::exit;
use cli::review;
use cli::CliError;
use domain::messages::TaskAction;
use domain::ports::{ReviewInbox, ShipmentStore};
use domain::review::{DISMISSED, OPEN, RELEASED};
use domain::ReviewItem;
use domain::ReviewReason;

#[tokio::test]
async fn list_and_show_an_item() {
    let stack = TestStack::create("cli-list").await;
    let id = file_bad_phone(&stack, "1001").await;

    let text = stack.run(&["review", "list"]).await.expect("list");
    assert!(text.starts_with("ID "), "{text}");
    assert!(
        text.contains(&id) && text.contains("invalid_phone"),
        "{text}"
    );

    let json = stack
        .run(&["review", "list", "--json"])
        .await
        .expect("list --json");
    let items: Vec<serde_json::Value> = serde_json::from_str(&json).expect("JSON list");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["status"], OPEN);
    assert_eq!(items[0]["occurrences"], 1);

    let released = stack
        .run(&["review", "list", "--status", "released"])
        .await
        .expect("list released");
    assert_eq!(released, "no review items");

    // By its subject, as it appears in logs and the audit trail.
    let subject = id.trim_start_matches("review:");
    let text = stack.run(&["review", "show", subject]).await.expect("show");
    for expected in [
        id.as_str(),
        r#"invalid phone (value: "12")"#,
        "shopify orders/create received",
        "draft:",
        r#""recipient_name": "Kim Weber""#,
    ] {
        assert!(text.contains(expected), "{expected:?} missing in:\n{text}");
    }
    let json = stack
        .run(&["review", "show", &id, "--json"])
        .await
        .expect("show --json");
    let shown: serde_json::Value = serde_json::from_str(&json).expect("JSON item");
    assert_eq!(shown["item"]["event_ms"], EVENT_MS);
    assert_eq!(shown["item"]["draft"]["phones"][0], "12");
    assert_eq!(shown["source"]["topic"], "orders/create");

    let missing = stack.run(&["review", "show", "shopify:x:1:1"]).await;
    assert!(matches!(missing, Err(CliError::NotFound(_))), "{missing:?}");
    stack.teardown().await;
}

#[tokio::test]
async fn a_fixed_draft_is_released_exactly_once() {
    let stack = TestStack::create("cli-release").await;
    let id = file_bad_phone(&stack, "1002").await;

    // Released unfixed: refused, nothing sent, still open.
    let refused = stack.run(&["review", "release", &id]).await;
    let Err(err @ CliError::Invalid { .. }) = refused else {
        panic!("an invalid draft was released: {refused:?}");
    };
    assert_eq!(err.exit_code(), exit::REFUSED);
    assert!(err.to_string().contains("invalid phone"), "{err}");
    assert_eq!(item(&stack, &id).await.status, OPEN);
    assert!(stack.task_requests().await.is_empty());

    let text = stack
        .run(&[
            "review",
            "fix",
            &id,
            "--set",
            "phone=030 901820",
            "--by",
            "ana",
        ])
        .await
        .expect("fix");
    assert!(text.ends_with("valid: ready to release"), "{text}");
    let fixed = item(&stack, &id).await;
    assert!(fixed.reasons.is_empty(), "{:?}", fixed.reasons);
    assert_eq!(fixed.fixes, ["phone=030 901820 (by ana)"]);
    assert_eq!(fixed.draft.expect("draft").phones, ["030 901820"]);

    let text = stack
        .run(&["review", "release", &id, "--by", "ana"])
        .await
        .expect("release");
    assert!(text.contains("task requested"), "{text}");

    let shipments = stack.stores.shipments.all().await.expect("shipments");
    assert_eq!(shipments.len(), 1);
    let shipment = &shipments[0];
    assert_eq!(
        shipment.shipment.key.to_string(),
        format!("shopify:{STORE}:1002:1")
    );
    assert_eq!(
        shipment
            .shipment
            .recipient
            .phone
            .as_ref()
            .map(|p| p.e164.as_str()),
        Some("+4930901820")
    );
    // The record carries the payload of the original order, so the audit trail still leads
    // to it; its time is the release's, as the operator's fix is the newest word on it (it
    // replaces a pending record the courier refused).
    assert_eq!(shipment.source_inbound, format!("shopify:{STORE}:wh-1002"));
    assert!(shipment.source_event_ms > EVENT_MS);
    let requests = stack.task_requests().await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].shipment_key, shipment.shipment.key);
    assert_eq!(requests[0].action, TaskAction::Create);
    let released = item(&stack, &id).await;
    assert_eq!(released.status, RELEASED, "{:?}", released.resolution);
    assert_eq!(
        released.resolution.as_deref(),
        Some("released by ana: task requested")
    );

    // Again: refused before anything is sent.
    let again = stack.run(&["review", "release", &id]).await;
    let Err(err @ CliError::NotOpen { .. }) = again else {
        panic!("released twice: {again:?}");
    };
    assert_eq!(err.exit_code(), exit::REFUSED);
    assert!(stack.task_requests().await.is_empty());
    assert_eq!(stack.stores.shipments.all().await.expect("all").len(), 1);
    stack.teardown().await;
}

#[tokio::test]
async fn a_fix_is_held_to_the_text_limits_and_loses_its_bidi_controls() {
    let stack = TestStack::create("cli-hostile").await;
    let id = file_bad_phone(&stack, "1005").await;
    let long_name = "K".repeat(201);

    // Too long: kept whole, said so with the field, its length and its limit.
    let text = stack
        .run(&[
            "review",
            "fix",
            &id,
            "--set",
            "phone=030 901820",
            "--set",
            &format!("recipient_name={long_name}"),
            "--by",
            "ana",
        ])
        .await
        .expect("fix");
    assert!(text.contains("recipient_name too long"), "{text}");
    let fixed = item(&stack, &id).await;
    assert_eq!(
        fixed.reasons,
        [ReviewReason::TooLong {
            field: "recipient_name".into(),
            length: 201,
            limit: 200,
        }]
    );
    assert_eq!(
        fixed.draft.expect("draft").recipient_name.as_deref(),
        Some(long_name.as_str())
    );
    let refused = stack.run(&["review", "release", &id]).await;
    assert!(
        matches!(refused, Err(CliError::Invalid { .. })),
        "{refused:?}"
    );

    // A right-to-left override typed (or pasted) into a fix never reaches the shipment.
    stack
        .run(&[
            "review",
            "fix",
            &id,
            "--set",
            "recipient_name=\u{202E}Kim Weber",
            "--by",
            "ana",
        ])
        .await
        .expect("fix");
    let fixed = item(&stack, &id).await;
    assert!(fixed.reasons.is_empty(), "{:?}", fixed.reasons);
    assert_eq!(
        fixed.draft.expect("draft").recipient_name.as_deref(),
        Some("Kim Weber")
    );
    assert!(fixed.fixes.iter().all(|f| !f.contains('\u{202E}')));
    stack
        .run(&["review", "release", &id, "--by", "ana"])
        .await
        .expect("release");
    let shipments = stack.stores.shipments.all().await.expect("shipments");
    assert_eq!(shipments[0].shipment.recipient.name, "Kim Weber");
    stack.teardown().await;
}

#[tokio::test]
async fn concurrent_releases_admit_one_shipment_and_close_the_item_once() {
    let stack = TestStack::create("cli-race").await;
    let id = file_bad_phone(&stack, "1003").await;
    let fix = review::FieldFix {
        path: "phone".into(),
        value: "+4930901820".into(),
    };
    review::fix(&stack.stores, &id, &[fix], "ana")
        .await
        .expect("fix");

    let (a, b) = tokio::join!(
        review::release(&stack.stores, &id, "ana"),
        review::release(&stack.stores, &id, "ben"),
    );
    // Both may pass the "is it open?" check and both then admit: the shipment record is
    // conditional, so there is one; the second admit is recognised as a repeat of the same
    // source and may ask for the task again, which create-task deduplicates by shipment key
    // (one courier task). Closing the item is conditional on it being open, so exactly one
    // release reports success and the other says it was closed meanwhile (or, if it came
    // late, that the item is not open).
    let outcomes = [&a, &b];
    assert_eq!(
        outcomes.iter().filter(|r| r.is_ok()).count(),
        1,
        "{a:?} / {b:?}"
    );
    for outcome in outcomes {
        if let Err(e) = outcome {
            assert!(
                matches!(
                    e,
                    CliError::ClosedMeanwhile { .. } | CliError::NotOpen { .. }
                ),
                "{e:?}"
            );
            assert_eq!(e.exit_code(), exit::REFUSED);
        }
    }
    assert_eq!(stack.stores.shipments.all().await.expect("all").len(), 1);
    let requests = stack.task_requests().await;
    assert!(
        (1..=2).contains(&requests.len()),
        "one request, or a repeat of it: {requests:?}"
    );
    assert!(requests
        .iter()
        .all(|r| r.action == TaskAction::Create && r.shipment_key == requests[0].shipment_key));
    let closed = item(&stack, &id).await;
    assert_eq!(closed.status, RELEASED, "{:?}", closed.resolution);
    stack.teardown().await;
}

#[tokio::test]
async fn a_dismissed_item_can_no_longer_be_fixed_or_released() {
    let stack = TestStack::create("cli-dismiss").await;
    let id = file_bad_phone(&stack, "1004").await;

    let text = stack
        .run(&[
            "review",
            "dismiss",
            &id,
            "--reason",
            "test order",
            "--by",
            "ana",
        ])
        .await
        .expect("dismiss");
    assert_eq!(text, format!("dismissed {id}"));
    let dismissed = item(&stack, &id).await;
    assert_eq!(dismissed.status, DISMISSED);
    assert_eq!(
        dismissed.resolution.as_deref(),
        Some("dismissed by ana: test order")
    );

    let fix = stack
        .run(&["review", "fix", &id, "--set", "phone=+4930901820"])
        .await;
    let Err(err @ CliError::NotOpen { .. }) = fix else {
        panic!("fixed a dismissed item: {fix:?}");
    };
    assert_eq!(err.exit_code(), exit::REFUSED);
    assert!(err.to_string().contains("dismissed"), "{err}");
    assert!(matches!(
        stack.run(&["review", "release", &id]).await,
        Err(CliError::NotOpen { .. })
    ));
    assert!(matches!(
        stack
            .run(&["review", "dismiss", &id, "--reason", "again"])
            .await,
        Err(CliError::NotOpen { .. })
    ));
    assert!(matches!(
        stack
            .run(&["review", "dismiss", "shopify:x:9:1", "--reason", "r"])
            .await,
        Err(CliError::NotFound(_))
    ));
    assert_eq!(item(&stack, &id).await.fixes, Vec::<String>::new());
    assert!(stack.task_requests().await.is_empty());
    stack.teardown().await;
}

#[tokio::test]
async fn fix_refuses_items_without_a_draft_and_bad_paths() {
    let stack = TestStack::create("cli-nodraft").await;
    let payload = ReviewItem::new(
        "shopify:test-store:wh-broken",
        "payload",
        vec![ReviewReason::UnparseablePayload {
            error: "expected value at line 1".into(),
        }],
    );
    stack.stores.reviews.open(&payload).await.expect("opened");
    for action in ["fix", "release"] {
        let mut args = vec!["review", action, &payload.id];
        if action == "fix" {
            args.extend(["--set", "phone=+4930901820"]);
        }
        let result = stack.run(&args).await;
        let Err(err @ CliError::NoDraft { .. }) = result else {
            panic!("{action} of a payload item: {result:?}");
        };
        assert_eq!(err.exit_code(), exit::REFUSED);
        assert!(err.to_string().contains("review dismiss"), "{err}");
    }

    let id = file_bad_phone(&stack, "1005").await;
    for (set, expected) in [
        ("weight=1", "not a field"),
        ("order_id=9", "cannot be changed"),
    ] {
        let result = stack.run(&["review", "fix", &id, "--set", set]).await;
        let Err(err @ CliError::Fix(_)) = result else {
            panic!("--set {set}: {result:?}");
        };
        assert_eq!(err.exit_code(), exit::USAGE);
        assert!(err.to_string().contains(expected), "{err}");
    }
    // A fix that leaves the draft invalid is stored, and says what is still wrong.
    let text = stack
        .run(&["review", "fix", &id, "--set", "address.country_code=de"])
        .await
        .expect("fix");
    assert!(text.contains("still invalid"), "{text}");
    assert!(text.contains("invalid country"), "{text}");
    let stored = item(&stack, &id).await;
    assert_eq!(stored.status, OPEN);
    assert_eq!(stored.fixes.len(), 1);
    stack.teardown().await;
}

async fn item(stack: &TestStack, id: &str) -> ReviewItem {
    stack
        .stores
        .reviews
        .get(id)
        .await
        .expect("GetItem")
        .expect("the item exists")
}
