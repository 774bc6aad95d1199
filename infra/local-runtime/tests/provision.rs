//! Provisions the real `template.yaml` into the emulator and checks what the functions
//! and the local runtime rely on; also pins down the emulator behaviours the
//! project's tests depend on (redrive to the DLQ, visibility changes, GSIs, TTL).
//!
//! Needs a running emulator: `make test` starts moto server and sets
//! AWS_ENDPOINT_URL (plus test credentials and AWS_REGION); `make test-matrix` runs
//! them against the others.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ProjectionType,
    ScalarAttributeType, TimeToLiveStatus,
};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use local_runtime::functions::Function;
use local_runtime::provision::{provision, teardown, ProvisionError, Stack};
use local_runtime::template::{EventSpec, Template};

const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");

const TABLES: [&str; 9] = [
    "InboundTable",
    "ShipmentsTable",
    "IdempotencyTable",
    "StoresTable",
    "ReviewTable",
    "OutboxTable",
    "ShipmentEventsTable",
    "CashTable",
    "DispatchTable",
];
const QUEUES: [&str; 10] = [
    "IntakeQueue",
    "IntakeDLQ",
    "TasksQueue",
    "TasksDLQ",
    "SyncQueue",
    "SyncDLQ",
    "AmazonNotificationsQueue",
    "AmazonNotificationsDLQ",
    "OutboxQueue",
    "OutboxDLQ",
];
/// Main queue -> (its DLQ, maxReceiveCount).
const REDRIVES: [(&str, &str, u32); 5] = [
    ("IntakeQueue", "IntakeDLQ", 5),
    ("TasksQueue", "TasksDLQ", 8),
    ("SyncQueue", "SyncDLQ", 8),
    ("AmazonNotificationsQueue", "AmazonNotificationsDLQ", 5),
    ("OutboxQueue", "OutboxDLQ", 8),
];
const FUNCTIONS: [&str; 11] = [
    "WebhookIntakeFunction",
    "NormalizeFunction",
    "CreateTaskFunction",
    "StatusSyncFunction",
    "CodReconcileFunction",
    "MarketplaceIntakeFunction",
    "ShipByWatchFunction",
    "NotifyFunction",
    "DispatchFunction",
    "WebFunction",
    "ConsoleFunction",
];

async fn sdk() -> SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|url| !url.is_empty()),
        "AWS_ENDPOINT_URL is not set: these tests need the moto emulator; run them via `make test`, which starts moto and sets it"
    );
    aws::config::sdk_config().await
}

fn template() -> Template {
    Template::from_path(std::path::Path::new(TEMPLATE)).expect("template.yaml parses")
}

/// Unique per test, so tests running in parallel against one moto never collide.
fn stack_name() -> String {
    format!("cb-{:08x}", rand::random::<u32>())
}

async fn provisioned() -> (SdkConfig, Stack) {
    let sdk = sdk().await;
    let stack = provision(&template(), &stack_name(), &BTreeMap::new(), &sdk)
        .await
        .expect("template provisions");
    (sdk, stack)
}

fn keys(schema: &[aws_sdk_dynamodb::types::KeySchemaElement]) -> Vec<(String, KeyType)> {
    schema
        .iter()
        .map(|k| (k.attribute_name().to_owned(), k.key_type().clone()))
        .collect()
}

async fn queue_attributes(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
) -> std::collections::HashMap<QueueAttributeName, String> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .unwrap_or_default()
}

async fn stack_queue_urls(sqs: &aws_sdk_sqs::Client, stack: &Stack) -> Vec<String> {
    sqs.list_queues()
        .queue_name_prefix(format!("{}-", stack.name))
        .send()
        .await
        .expect("ListQueues")
        .queue_urls
        .unwrap_or_default()
}

#[tokio::test]
async fn provisions_the_template_idempotently_and_tears_it_down() {
    let sdk = sdk().await;
    let template = template();
    let name = stack_name();
    let stack = provision(&template, &name, &BTreeMap::new(), &sdk)
        .await
        .expect("template provisions");
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);

    // Tables: names, key schemas, the audit GSI and TTL.
    assert_eq!(
        stack.tables.keys().map(String::as_str).collect::<Vec<_>>(),
        {
            let mut t = TABLES.to_vec();
            t.sort_unstable();
            t
        }
    );
    for id in TABLES {
        let table_name = &stack.tables[id];
        assert_eq!(table_name, &format!("{name}-{id}"));
        let table = dynamodb
            .describe_table()
            .table_name(table_name)
            .send()
            .await
            .expect("DescribeTable")
            .table
            .expect("table description");
        let expected_keys = if ["ShipmentEventsTable", "CashTable", "DispatchTable"].contains(&id) {
            // The history (one shipment's events by time), the cash table (a day's items)
            // and the dispatch table (a plan's routes).
            vec![
                ("pk".to_owned(), KeyType::Hash),
                ("sk".to_owned(), KeyType::Range),
            ]
        } else {
            vec![("pk".to_owned(), KeyType::Hash)]
        };
        assert_eq!(keys(table.key_schema()), expected_keys, "{id}");
        let indexes = table.global_secondary_indexes();
        if id == "ShipmentsTable" {
            // Every shipment of an order, for cancellations; shipments by status, for
            // dispatch (with whether a plan took them).
            let mut indexes: Vec<_> = indexes.iter().collect();
            indexes.sort_by_key(|i| i.index_name().map(str::to_owned));
            // The console's day list (with the status its filter needs) and tracking search.
            assert_eq!(indexes.len(), 4);
            assert_eq!(indexes[0].index_name(), Some("by_day"));
            assert_eq!(
                keys(indexes[0].key_schema()),
                [
                    ("order_day".to_owned(), KeyType::Hash),
                    ("source_event_ms".to_owned(), KeyType::Range)
                ]
            );
            let projection = indexes[0].projection().expect("projection");
            assert_eq!(projection.projection_type(), Some(&ProjectionType::Include));
            assert_eq!(projection.non_key_attributes(), ["status"]);
            assert_eq!(indexes[1].index_name(), Some("by_order"));
            assert_eq!(
                keys(indexes[1].key_schema()),
                [("order_key".to_owned(), KeyType::Hash)]
            );
            assert_eq!(indexes[2].index_name(), Some("by_status"));
            assert_eq!(
                keys(indexes[2].key_schema()),
                [("status".to_owned(), KeyType::Hash)]
            );
            let projection = indexes[2].projection().expect("projection");
            assert_eq!(projection.projection_type(), Some(&ProjectionType::Include));
            assert_eq!(
                projection.non_key_attributes(),
                ["dispatch_plan", "dispatch_day"]
            );
            assert_eq!(indexes[3].index_name(), Some("by_tracking"));
            assert_eq!(
                keys(indexes[3].key_schema()),
                [("tracking_number".to_owned(), KeyType::Hash)]
            );
            assert_eq!(
                indexes[3].projection().and_then(|p| p.projection_type()),
                Some(&ProjectionType::KeysOnly)
            );
        } else if id == "InboundTable" {
            assert_eq!(indexes.len(), 1);
            assert_eq!(indexes[0].index_name(), Some("by_order"));
            assert_eq!(
                keys(indexes[0].key_schema()),
                [
                    ("order_key".to_owned(), KeyType::Hash),
                    ("received_at".to_owned(), KeyType::Range)
                ]
            );
            assert_eq!(
                indexes[0].projection().and_then(|p| p.projection_type()),
                Some(&ProjectionType::All)
            );
        } else if id == "ReviewTable" {
            assert_eq!(indexes.len(), 1);
            assert_eq!(indexes[0].index_name(), Some("by_status"));
            assert_eq!(
                keys(indexes[0].key_schema()),
                [
                    ("status".to_owned(), KeyType::Hash),
                    ("created_at".to_owned(), KeyType::Range)
                ]
            );
        } else {
            assert!(indexes.is_empty(), "{id} has no GSI");
        }
    }
    let ttl = dynamodb
        .describe_time_to_live()
        .table_name(&stack.tables["IdempotencyTable"])
        .send()
        .await
        .expect("DescribeTimeToLive");
    let ttl = ttl.time_to_live_description().expect("TTL description");
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some("expires_at"));

    // Queues: main queues redriving into their DLQs, and the outbox.
    assert_eq!(stack_queue_urls(&sqs, &stack).await.len(), QUEUES.len());
    for id in QUEUES {
        let queue = &stack.queues[id];
        assert_eq!(queue.name, format!("{name}-{id}"));
        let attributes = queue_attributes(&sqs, &queue.url).await;
        assert_eq!(attributes[&QueueAttributeName::QueueArn], queue.arn);
    }
    for (main, dlq, max_receive_count) in REDRIVES {
        let attributes = queue_attributes(&sqs, &stack.queues[main].url).await;
        assert_eq!(
            attributes[&QueueAttributeName::VisibilityTimeout],
            "180",
            "{main}"
        );
        assert_eq!(
            attributes[&QueueAttributeName::MessageRetentionPeriod],
            "345600",
            "{main}"
        );
        let policy: serde_json::Value =
            serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy])
                .expect("RedrivePolicy is JSON");
        assert_eq!(
            policy["deadLetterTargetArn"],
            stack.queues[dlq].arn.as_str(),
            "{main}"
        );
        assert_eq!(policy["maxReceiveCount"], max_receive_count, "{main}");

        let attributes = queue_attributes(&sqs, &stack.queues[dlq].url).await;
        assert_eq!(
            attributes[&QueueAttributeName::MessageRetentionPeriod],
            "1209600",
            "{dlq}"
        );
        assert!(
            !attributes.contains_key(&QueueAttributeName::RedrivePolicy),
            "{dlq}"
        );
    }

    // Functions: every variable resolved to this stack's physical resources, and each
    // function given exactly the variables its configuration reads.
    assert_eq!(stack.functions.len(), FUNCTIONS.len());
    let defaults = template.parameter_defaults();
    assert_eq!(defaults["SecretsPrefix"], "courier-bridge/");
    assert_eq!(stack.parameters, defaults);
    let resolved = BTreeMap::from([
        ("INBOUND_TABLE", stack.tables["InboundTable"].clone()),
        ("SHIPMENTS_TABLE", stack.tables["ShipmentsTable"].clone()),
        (
            "IDEMPOTENCY_TABLE",
            stack.tables["IdempotencyTable"].clone(),
        ),
        ("REVIEW_TABLE", stack.tables["ReviewTable"].clone()),
        ("STORES_TABLE", stack.tables["StoresTable"].clone()),
        ("OUTBOX_QUEUE_URL", stack.queues["OutboxQueue"].url.clone()),
        ("OUTBOX_TABLE", stack.tables["OutboxTable"].clone()),
        (
            "SHIPMENT_EVENTS_TABLE",
            stack.tables["ShipmentEventsTable"].clone(),
        ),
        ("CASH_TABLE", stack.tables["CashTable"].clone()),
        ("DISPATCH_TABLE", stack.tables["DispatchTable"].clone()),
        ("REPORTS_BUCKET", stack.buckets["ReportsBucket"].clone()),
        ("NOTIFY_SMS_PROVIDER", "twilio".to_owned()),
        ("NOTIFY_EMAIL_PROVIDER", "ses".to_owned()),
        ("INTAKE_QUEUE_URL", stack.queues["IntakeQueue"].url.clone()),
        ("TASKS_QUEUE_URL", stack.queues["TasksQueue"].url.clone()),
        ("SYNC_QUEUE_URL", stack.queues["SyncQueue"].url.clone()),
        ("SECRETS_PREFIX", "courier-bridge/".to_owned()),
        ("COURIER_NAME", "sandbox".to_owned()),
        ("IDEMPOTENCY_LEASE_SECONDS", "60".to_owned()),
        ("MAX_WEBHOOK_BODY_BYTES", "262144".to_owned()),
        ("RUST_LOG", "info".to_owned()),
        (
            "USER_POOL_ID",
            stack.user_pools["ConsoleUserPool"].id.clone(),
        ),
        (
            "USER_POOL_CLIENT_ID",
            stack.user_pools["ConsoleUserPool"].clients["ConsoleUserPoolClient"].clone(),
        ),
    ]);
    for id in FUNCTIONS {
        let function = &stack.functions[id];
        for (variable, value) in &function.env {
            // The SES sender is optional: e-mail is off until one is verified; so is where
            // the pages are (messages then carry the courier's tracking link).
            let may_be_empty = variable == "NOTIFY_EMAIL_FROM" || variable == "PAGES_URL";
            assert!(
                (may_be_empty || !value.is_empty())
                    && !value.contains("${")
                    && !value.starts_with('!'),
                "{id} {variable} is unresolved: {value:?}"
            );
            if let Some(expected) = resolved.get(variable.as_str()) {
                assert_eq!(value, expected, "{id} {variable}");
            }
        }
        // The function builds from its environment, and reads every variable it is given
        // (RUST_LOG is the logger's): nothing in template.yaml is there for nobody.
        let read = std::cell::RefCell::new(std::collections::BTreeSet::new());
        let lookup = |name: &str| {
            read.borrow_mut().insert(name.to_owned());
            function.env.get(name).cloned()
        };
        if let Err(problem) = Function::build_from(&function.binary, &sdk, &lookup) {
            panic!("{id} does not start from template.yaml's environment: {problem}");
        }
        let read = read.into_inner();
        for variable in function.env.keys() {
            assert!(
                variable == "RUST_LOG" || read.contains(variable),
                "{id} is given {variable}, which it never reads"
            );
        }
    }
    assert!(stack.queues["IntakeQueue"]
        .url
        .contains(&format!("{name}-IntakeQueue")));

    let normalize = &stack.functions["NormalizeFunction"];
    assert_eq!(normalize.binary, "normalize");
    assert_eq!(normalize.timeout_secs, 30);
    assert_eq!(
        normalize.events,
        [EventSpec::Sqs {
            queue: "IntakeQueue".into(),
            batch_size: 10,
            max_batching_window_secs: 1,
            report_batch_item_failures: true,
        }]
    );
    let webhook = &stack.functions["WebhookIntakeFunction"];
    assert_eq!(webhook.binary, "webhook-intake");
    assert_eq!(webhook.timeout_secs, 10);
    assert_eq!(
        webhook.events,
        [
            EventSpec::HttpApi {
                method: "POST".into(),
                path: "/webhooks/{channel}/{store}".into(),
            },
            // Onfleet's URL validation.
            EventSpec::HttpApi {
                method: "GET".into(),
                path: "/webhooks/{channel}/{store}".into(),
            }
        ]
    );
    for (function, queue) in [
        ("CreateTaskFunction", "TasksQueue"),
        ("StatusSyncFunction", "SyncQueue"),
        ("NotifyFunction", "OutboxQueue"),
    ] {
        assert!(
            matches!(
                stack.functions[function].events.as_slice(),
                [EventSpec::Sqs { queue: q, batch_size: 10, report_batch_item_failures: true, .. }] if q == queue
            ),
            "{function}: {:?}",
            stack.functions[function].events
        );
    }
    let reconcile = &stack.functions["CodReconcileFunction"];
    assert_eq!(reconcile.timeout_secs, 120);
    assert_eq!(
        reconcile.events,
        [EventSpec::Schedule {
            expression: "cron(30 2 * * ? *)".into()
        }]
    );

    // Idempotent: the same stack name again finds the same resources.
    let again = provision(&template, &name, &BTreeMap::new(), &sdk)
        .await
        .expect("provisioning twice succeeds");
    assert_eq!(again, stack);
    assert_eq!(stack_queue_urls(&sqs, &stack).await.len(), QUEUES.len());

    // A queue whose attributes drifted (CreateQueue then answers
    // QueueAlreadyExists) is brought back in line with the template.
    let intake_url = &stack.queues["IntakeQueue"].url;
    sqs.set_queue_attributes()
        .queue_url(intake_url)
        .attributes(QueueAttributeName::VisibilityTimeout, "99")
        .send()
        .await
        .expect("SetQueueAttributes");
    let converged = provision(&template, &name, &BTreeMap::new(), &sdk)
        .await
        .expect("provisioning over a drifted queue succeeds");
    assert_eq!(converged, stack);
    assert_eq!(
        queue_attributes(&sqs, intake_url).await[&QueueAttributeName::VisibilityTimeout],
        "180"
    );

    // The reports bucket: lower-case, stack-scoped, writable; torn down with its objects.
    let s3 = aws::reports::s3_client(&sdk);
    let bucket = stack.buckets["ReportsBucket"].clone();
    assert_eq!(bucket, format!("{name}-ReportsBucket").to_ascii_lowercase());
    s3.put_object()
        .bucket(&bucket)
        .key("cod/2026-11-24/report.html")
        .body(b"<p>x</p>".to_vec().into())
        .send()
        .await
        .expect("the bucket takes objects");

    // The console's user pool: its app client signs in with passwords, its groups are the
    // console's roles.
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let pool = &stack.user_pools["ConsoleUserPool"];
    let client = cognito
        .describe_user_pool_client()
        .user_pool_id(&pool.id)
        .client_id(&pool.clients["ConsoleUserPoolClient"])
        .send()
        .await
        .expect("DescribeUserPoolClient")
        .user_pool_client
        .expect("the client");
    assert_eq!(client.client_name(), Some("console"));
    assert!(client
        .explicit_auth_flows()
        .iter()
        .any(|f| f.as_str() == "ALLOW_USER_PASSWORD_AUTH"));
    let mut groups: Vec<String> = cognito
        .list_groups()
        .user_pool_id(&pool.id)
        .send()
        .await
        .expect("ListGroups")
        .groups
        .unwrap_or_default()
        .into_iter()
        .filter_map(|g| g.group_name)
        .collect();
    groups.sort();
    assert_eq!(groups, ["admin", "dispatcher", "viewer"]);

    // Teardown removes everything, and is itself idempotent.
    teardown(&stack, &sdk).await.expect("teardown");
    assert!(
        cognito
            .describe_user_pool()
            .user_pool_id(&pool.id)
            .send()
            .await
            .is_err(),
        "the user pool still exists"
    );
    assert!(
        s3.head_bucket().bucket(&bucket).send().await.is_err(),
        "{bucket} still exists"
    );
    for table in stack.tables.values() {
        let result = dynamodb.describe_table().table_name(table).send().await;
        assert!(
            result
                .as_ref()
                .err()
                .and_then(|e| e.as_service_error())
                .is_some_and(|e| e.is_resource_not_found_exception()),
            "{table} still exists: {result:?}"
        );
    }
    assert!(stack_queue_urls(&sqs, &stack).await.is_empty());
    teardown(&stack, &sdk).await.expect("second teardown");
}

#[tokio::test]
async fn parameter_overrides_reach_the_environment() {
    let sdk = sdk().await;
    let overrides = BTreeMap::from([
        ("SecretsPrefix".to_owned(), "test/".to_owned()),
        ("LogLevel".to_owned(), "debug".to_owned()),
    ]);
    let stack = provision(&template(), &stack_name(), &overrides, &sdk)
        .await
        .expect("template provisions");
    for function in stack.functions.values() {
        assert_eq!(function.env["RUST_LOG"], "debug");
        if let Some(prefix) = function.env.get("SECRETS_PREFIX") {
            assert_eq!(prefix, "test/");
        }
    }
    assert_eq!(
        stack.functions["CreateTaskFunction"].env["COURIER_NAME"],
        "sandbox"
    );
    teardown(&stack, &sdk).await.expect("teardown");
}

#[tokio::test]
async fn an_existing_table_with_other_keys_is_refused() {
    let sdk = sdk().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let name = stack_name();
    let stale = format!("{name}-ReviewTable");
    dynamodb
        .create_table()
        .table_name(&stale)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .expect("key schema"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition"),
        )
        .send()
        .await
        .expect("CreateTable");

    let error = provision(&template(), &name, &BTreeMap::new(), &sdk)
        .await
        .expect_err("a table with other keys is refused");
    assert!(
        matches!(&error, ProvisionError::TableMismatch { table, .. } if *table == stale),
        "{error}"
    );

    // Provisioning stopped before the queues; remove the tables it got to.
    let tables = dynamodb.list_tables().send().await.expect("ListTables");
    for table in tables.table_names() {
        if table.starts_with(&format!("{name}-")) {
            dynamodb
                .delete_table()
                .table_name(table)
                .send()
                .await
                .expect("DeleteTable");
        }
    }
}

/// moto moves a message to the DLQ once it has been received maxReceiveCount
/// times: on the next receive attempt, which then returns nothing.
#[tokio::test]
async fn the_emulator_redrives_to_the_dlq_after_max_receive_count() {
    let (sdk, stack) = provisioned().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let (main, dlq, max_receive_count) = REDRIVES[0];
    let main_url = &stack.queues[main].url;
    let dlq_url = &stack.queues[dlq].url;

    sqs.send_message()
        .queue_url(main_url)
        .message_body("poison")
        .send()
        .await
        .expect("SendMessage");
    for attempt in 1..=max_receive_count {
        let received = sqs
            .receive_message()
            .queue_url(main_url)
            .visibility_timeout(0)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .expect("ReceiveMessage")
            .messages
            .unwrap_or_default();
        assert_eq!(received.len(), 1, "receive {attempt} returns the message");
        let count = received[0]
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
            .map(String::as_str);
        assert_eq!(count, Some(attempt.to_string().as_str()));
    }
    let past_limit = sqs
        .receive_message()
        .queue_url(main_url)
        .visibility_timeout(0)
        .send()
        .await
        .expect("ReceiveMessage")
        .messages
        .unwrap_or_default();
    assert!(
        past_limit.is_empty(),
        "the message left the main queue: {past_limit:?}"
    );

    let dead = sqs
        .receive_message()
        .queue_url(dlq_url)
        .send()
        .await
        .expect("ReceiveMessage on the DLQ")
        .messages
        .unwrap_or_default();
    assert_eq!(dead.len(), 1, "the message is in the DLQ");
    assert_eq!(dead[0].body(), Some("poison"));
    teardown(&stack, &sdk).await.expect("teardown");
}

/// The functions back off by changing a message's visibility; moto honours it
/// (to 0: visible again at once, counted as another receive).
#[tokio::test]
async fn the_emulators_change_message_visibility_releases_a_message() {
    let (sdk, stack) = provisioned().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = &stack.queues["TasksQueue"].url;
    sqs.send_message()
        .queue_url(url)
        .message_body("retry me")
        .send()
        .await
        .expect("SendMessage");

    let receive = || {
        sqs.receive_message()
            .queue_url(url)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
    };
    let first = receive()
        .await
        .expect("ReceiveMessage")
        .messages
        .unwrap_or_default();
    assert_eq!(first.len(), 1);
    // The queue's 180 s visibility timeout hides it now.
    let hidden = receive()
        .await
        .expect("ReceiveMessage")
        .messages
        .unwrap_or_default();
    assert!(hidden.is_empty());

    sqs.change_message_visibility()
        .queue_url(url)
        .receipt_handle(first[0].receipt_handle().expect("receipt handle"))
        .visibility_timeout(0)
        .send()
        .await
        .expect("ChangeMessageVisibility");
    let again = receive()
        .await
        .expect("ReceiveMessage")
        .messages
        .unwrap_or_default();
    assert_eq!(
        again.len(),
        1,
        "visible again after ChangeMessageVisibility(0)"
    );
    assert_eq!(
        again[0]
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
            .map(String::as_str),
        Some("2")
    );
    teardown(&stack, &sdk).await.expect("teardown");
}

/// moto's GSIs are updated synchronously (DynamoDB's are eventually
/// consistent), and moto never deletes expired items: code must treat an item
/// past `expires_at` as absent itself, as it must on DynamoDB, whose TTL sweep
/// can lag by days.
#[tokio::test]
async fn the_emulators_gsi_is_synchronous_and_ttl_never_expires_items() {
    let (sdk, stack) = provisioned().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let s = |v: &str| AttributeValue::S(v.to_owned());

    let inbound = &stack.tables["InboundTable"];
    for (pk, received_at) in [
        ("delivery-2", "2024-01-01T00:00:02Z"),
        ("delivery-1", "2024-01-01T00:00:01Z"),
    ] {
        dynamodb
            .put_item()
            .table_name(inbound)
            .item("pk", s(pk))
            .item("order_key", s("store-1#1001"))
            .item("received_at", s(received_at))
            .send()
            .await
            .expect("PutItem");
    }
    let by_order = dynamodb
        .query()
        .table_name(inbound)
        .index_name("by_order")
        .key_condition_expression("order_key = :k")
        .expression_attribute_values(":k", s("store-1#1001"))
        .send()
        .await
        .expect("Query by_order");
    let order: Vec<_> = by_order
        .items()
        .iter()
        .filter_map(|item| item.get("pk")?.as_s().ok().cloned())
        .collect();
    assert_eq!(
        order,
        ["delivery-1", "delivery-2"],
        "oldest first, immediately visible"
    );

    let idempotency = &stack.tables["IdempotencyTable"];
    dynamodb
        .put_item()
        .table_name(idempotency)
        .item("pk", s("expired"))
        .item("expires_at", AttributeValue::N("1".to_owned()))
        .send()
        .await
        .expect("PutItem");
    let item = dynamodb
        .get_item()
        .table_name(idempotency)
        .key("pk", s("expired"))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem");
    assert!(item.item().is_some(), "moto keeps items past their TTL");
    teardown(&stack, &sdk).await.expect("teardown");
}
