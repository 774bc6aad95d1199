//! A stack for one test, in the emulator, laid out as the local runtime lays it out: every
//! table and queue of template.yaml, named `{stack}-{LogicalId}`. It is created here with
//! the SDK rather than by `local_runtime::provision`, because the local runtime links every
//! function crate and the CLI is built and tested without them. Keys, indexes and redrive
//! policies are taken from template.yaml, so a renamed or added resource shows up here.

use aws::stack::StackStores;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types as ddb;
use aws_sdk_sqs::types::QueueAttributeName;
use domain::messages::TaskRequested;
use domain::ports::AuditTrail;
use domain::{Channel, ShipmentDraft};
use serde_yaml::Value;
use std::collections::BTreeMap;

pub const STORE: &str = "test-store";

pub async fn sdk() -> SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run with infra/scripts/with-emulator.sh, which starts moto"
    );
    aws::config::sdk_config().await
}

pub struct TestStack {
    pub name: String,
    pub sdk: SdkConfig,
    pub stores: StackStores,
    tables: Vec<String>,
    queues: BTreeMap<String, String>,
}

impl TestStack {
    pub async fn create(test: &str) -> TestStack {
        TestStack::create_with(test, &[]).await
    }

    /// A stack made with these parameters, recorded as the local runtime records them (tags
    /// of its review table), so the CLI reads them back.
    pub async fn create_with(test: &str, parameters: &[(&str, &str)]) -> TestStack {
        let sdk = sdk().await;
        let name = format!("{test}-{:06x}", rand::random::<u32>() & 0xff_ffff);
        let template: Value = serde_yaml::from_str(include_str!("../../../template.yaml"))
            .expect("template.yaml parses");
        let resources = template["Resources"]
            .as_mapping()
            .expect("template has Resources");
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let mut tables = Vec::new();
        let mut queues = BTreeMap::new();
        let mut redrives = Vec::new();
        for (id, resource) in resources {
            let id = id.as_str().expect("logical ids are text");
            let physical = format!("{name}-{id}");
            let properties = &resource["Properties"];
            match resource["Type"].as_str() {
                Some("AWS::DynamoDB::Table") => {
                    create_table(&dynamodb, &physical, properties).await;
                    tables.push(physical);
                }
                Some("AWS::S3::Bucket") => {
                    // Bucket names are lower case; the CLI's local convention lowers them too.
                    aws::reports::s3_client(&sdk)
                        .create_bucket()
                        .bucket(physical.to_ascii_lowercase())
                        .send()
                        .await
                        .expect("CreateBucket");
                }
                Some("AWS::SQS::Queue") => {
                    let url = sqs
                        .create_queue()
                        .queue_name(&physical)
                        .send()
                        .await
                        .expect("CreateQueue")
                        .queue_url
                        .expect("queue URL");
                    queues.insert(id.to_owned(), url);
                    if let Some(policy) = properties.get("RedrivePolicy") {
                        redrives.push((id.to_owned(), policy.clone()));
                    }
                }
                _ => {}
            }
        }
        // Redrive policies need the DLQs' ARNs, so they come once every queue exists.
        for (id, policy) in redrives {
            let target = tagged_target(&policy["deadLetterTargetArn"]);
            let arn = queue_arn(&sqs, &queues[&target]).await;
            let max = policy["maxReceiveCount"].as_u64().expect("maxReceiveCount");
            sqs.set_queue_attributes()
                .queue_url(&queues[&id])
                .attributes(
                    QueueAttributeName::RedrivePolicy,
                    serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": max})
                        .to_string(),
                )
                .send()
                .await
                .expect("SetQueueAttributes");
        }
        if !parameters.is_empty() {
            let recorded: BTreeMap<&str, &str> = parameters.iter().copied().collect();
            aws_sdk_secretsmanager::Client::new(&sdk)
                .create_secret()
                .name(aws::stack::local_parameters_secret(&name))
                .secret_string(serde_json::to_string(&recorded).expect("JSON"))
                .send()
                .await
                .expect("CreateSecret");
        }
        let stack = cli::stack::Stack::resolve(&sdk, &name)
            .await
            .expect("the CLI finds the stack");
        let stores = cli::stores(&sdk, &stack).await.expect("the stack's stores");
        TestStack {
            name,
            sdk,
            stores,
            tables,
            queues,
        }
    }

    /// Runs the CLI as `courier-bridge --stack <this stack> <args>`.
    pub async fn run(&self, args: &[&str]) -> Result<String, cli::CliError> {
        let mut argv = vec!["courier-bridge", "--stack", &self.name];
        argv.extend_from_slice(args);
        cli::run(argv).await
    }

    pub fn queue_url(&self, logical_id: &str) -> &str {
        &self.queues[logical_id]
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    /// Receives (and deletes) every message now on the queue.
    pub async fn drain(&self, logical_id: &str) -> Vec<String> {
        let sqs = self.sqs();
        let url = self.queue_url(logical_id);
        let mut bodies = Vec::new();
        loop {
            let out = sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("ReceiveMessage");
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                return bodies;
            }
            for m in messages {
                bodies.extend(m.body);
                sqs.delete_message()
                    .queue_url(url)
                    .set_receipt_handle(m.receipt_handle)
                    .send()
                    .await
                    .expect("DeleteMessage");
            }
        }
    }

    /// The task requests on the tasks queue (consumed).
    pub async fn task_requests(&self) -> Vec<TaskRequested> {
        self.drain("TasksQueue")
            .await
            .iter()
            .map(|body| serde_json::from_str(body).expect("a TaskRequested"))
            .collect()
    }

    pub async fn teardown(self) {
        let dynamodb = aws_sdk_dynamodb::Client::new(&self.sdk);
        let sqs = self.sqs();
        for table in &self.tables {
            let _ = dynamodb.delete_table().table_name(table).send().await;
        }
        for url in self.queues.values() {
            let _ = sqs.delete_queue().queue_url(url).send().await;
        }
    }
}

async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str, properties: &Value) {
    let key_schema = |keys: &Value| -> Vec<ddb::KeySchemaElement> {
        keys.as_sequence()
            .expect("KeySchema")
            .iter()
            .map(|k| {
                ddb::KeySchemaElement::builder()
                    .attribute_name(k["AttributeName"].as_str().expect("AttributeName"))
                    .key_type(ddb::KeyType::from(k["KeyType"].as_str().expect("KeyType")))
                    .build()
                    .expect("key schema element")
            })
            .collect()
    };
    let attributes = properties["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions")
        .iter()
        .map(|a| {
            ddb::AttributeDefinition::builder()
                .attribute_name(a["AttributeName"].as_str().expect("AttributeName"))
                .attribute_type(ddb::ScalarAttributeType::from(
                    a["AttributeType"].as_str().expect("AttributeType"),
                ))
                .build()
                .expect("attribute definition")
        })
        .collect();
    let indexes: Vec<ddb::GlobalSecondaryIndex> = properties
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .map(|indexes| {
            indexes
                .iter()
                .map(|index| {
                    ddb::GlobalSecondaryIndex::builder()
                        .index_name(index["IndexName"].as_str().expect("IndexName"))
                        .set_key_schema(Some(key_schema(&index["KeySchema"])))
                        .projection(
                            ddb::Projection::builder()
                                .projection_type(ddb::ProjectionType::All)
                                .build(),
                        )
                        .build()
                        .expect("index")
                })
                .collect()
        })
        .unwrap_or_default();
    client
        .create_table()
        .table_name(name)
        .billing_mode(ddb::BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&properties["KeySchema"])))
        .set_attribute_definitions(Some(attributes))
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .send()
        .await
        .expect("CreateTable");
}

/// The logical id in `!GetAtt IntakeDLQ.Arn`.
fn tagged_target(value: &Value) -> String {
    let Value::Tagged(tagged) = value else {
        panic!("deadLetterTargetArn is not a !GetAtt: {value:?}");
    };
    let text = tagged.value.as_str().expect("!GetAtt X.Arn");
    text.trim_end_matches(".Arn").to_owned()
}

pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .expect("QueueArn")
}

/// A complete prepaid order to Berlin, except for an unusable phone number.
pub fn draft_with_bad_phone(order_id: &str) -> ShipmentDraft {
    let mut draft = ShipmentDraft::new(Channel::Shopify, STORE, order_id, "1");
    draft.order_name = Some(format!("#{order_id}"));
    draft.recipient_name = Some("Kim Weber".into());
    draft.phones = vec!["12".into()];
    draft.address = Some(domain::draft::AddressDraft {
        street: Some("Torstraße 1".into()),
        city: Some("Berlin".into()),
        postal_code: Some("10119".into()),
        country_code: Some("DE".into()),
        ..Default::default()
    });
    draft.pieces = 1;
    draft.currency = Some("EUR".into());
    draft.amount = Some("42.50".into());
    draft
}

/// When the order event behind the test drafts happened.
pub const EVENT_MS: i64 = 1_763_000_000_000;

/// Files an order with a bad phone for review as normalize does, with the payload it came
/// from in the audit trail. Returns the item id.
pub async fn file_bad_phone(stack: &TestStack, order_id: &str) -> String {
    let draft = draft_with_bad_phone(order_id);
    let reasons = draft
        .validate(&domain::StoreConfig::default())
        .expect_err("the phone is invalid");
    assert_eq!(
        reasons
            .iter()
            .map(domain::ReviewReason::code)
            .collect::<Vec<_>>(),
        ["invalid_phone"]
    );
    let webhook_id = format!("wh-{order_id}");
    let inbound = domain::audit::NewInbound {
        channel: "shopify",
        store: STORE,
        topic: "orders/create",
        webhook_id: &webhook_id,
        triggered_at: None,
        body: b"{}",
        state: domain::audit::InboundState::Review,
        signed_with: domain::audit::SignedWith::Current,
    };
    stack
        .stores
        .inbound
        .receive(&inbound)
        .await
        .expect("inbound stored");
    stack
        .stores
        .intake()
        .file_for_review(&draft, reasons, EVENT_MS, &inbound.id())
        .await
        .expect("filed for review")
        .id
}
