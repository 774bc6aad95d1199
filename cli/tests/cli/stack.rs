//! Finding a stack: CloudFormation outputs first, the local runtime's names otherwise.

use crate::support::{sdk, TestStack};
use cli::error::exit;
use cli::stack::{Origin, Stack};
use cli::CliError;

#[tokio::test]
async fn a_stack_that_exists_nowhere_is_an_aws_error_naming_it() {
    let result = cli::run(["courier-bridge", "--stack", "nosuchstack", "review", "list"]).await;
    let Err(err @ CliError::Stack { .. }) = result else {
        panic!("an unknown stack resolved: {result:?}");
    };
    assert_eq!(err.exit_code(), exit::AWS);
    let text = err.to_string();
    assert!(text.contains("nosuchstack-ReviewTable"), "{text}");
}

#[tokio::test]
async fn a_local_stack_is_found_by_its_names() {
    let stack = TestStack::create("cli-local").await;
    let resolved = Stack::resolve(&stack.sdk, &stack.name)
        .await
        .expect("resolve");
    assert_eq!(resolved.origin, Origin::LocalConvention);
    assert_eq!(
        resolved.table("ReviewTable").expect("table"),
        format!("{}-ReviewTable", stack.name)
    );
    assert_eq!(
        resolved.queue_url("TasksDLQ").await.expect("queue"),
        stack.queue_url("TasksDLQ")
    );
    // The CLI's stores are the stack's own tables.
    assert_eq!(
        stack.stores.resources.table("ReviewTable").expect("table"),
        format!("{}-ReviewTable", stack.name)
    );
    stack.teardown().await;
}

/// On AWS the tables have names CloudFormation made up; only the outputs know them. moto
/// runs CloudFormation too, so this is the same code path as a real deployment.
#[tokio::test]
async fn a_cloudformation_stack_is_found_by_its_outputs() {
    let sdk = sdk().await;
    let name = format!("cli-cfn-{:06x}", rand::random::<u32>() & 0xff_ffff);
    let mut resources = serde_json::Map::new();
    let mut outputs = serde_json::Map::new();
    for table in [
        "InboundTable",
        "ShipmentsTable",
        "IdempotencyTable",
        "ReviewTable",
        "StoresTable",
        "OutboxTable",
        "ShipmentEventsTable",
        "CashTable",
    ] {
        resources.insert(
            table.into(),
            serde_json::json!({
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]
                }
            }),
        );
        outputs.insert(
            format!("{table}Name"),
            serde_json::json!({"Value": {"Ref": table}}),
        );
    }
    for queue in ["IntakeQueue", "TasksQueue", "SyncQueue", "OutboxQueue"] {
        resources.insert(queue.into(), serde_json::json!({"Type": "AWS::SQS::Queue"}));
        outputs.insert(
            format!("{queue}Url"),
            serde_json::json!({"Value": {"Ref": queue}}),
        );
    }
    resources.insert(
        "ReportsBucket".into(),
        serde_json::json!({"Type": "AWS::S3::Bucket"}),
    );
    outputs.insert(
        "ReportsBucketName".into(),
        serde_json::json!({"Value": {"Ref": "ReportsBucket"}}),
    );
    let template = serde_json::json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"SecretsPrefix": {"Type": "String"}},
        "Resources": resources,
        "Outputs": outputs,
    });
    let cloudformation = aws_sdk_cloudformation::Client::new(&sdk);
    cloudformation
        .create_stack()
        .stack_name(&name)
        .template_body(template.to_string())
        .parameters(
            aws_sdk_cloudformation::types::Parameter::builder()
                .parameter_key("SecretsPrefix")
                .parameter_value("cfn-test/")
                .build(),
        )
        .send()
        .await
        .expect("CreateStack");

    let resolved = Stack::resolve(&sdk, &name).await.expect("resolve");
    assert_eq!(resolved.origin, Origin::CloudFormation);
    let stores_table = resolved.table("StoresTable").expect("output");
    assert_ne!(stores_table, format!("{name}-StoresTable"));
    let stores = cli::stores(&sdk, &resolved).await.expect("stores");
    // The bucket's name is CloudFormation's, from the output, not the local convention.
    let bucket = stores.resources.bucket("ReportsBucket").expect("bucket");
    assert_eq!(bucket, resolved.bucket("ReportsBucket").expect("output"));
    assert_ne!(bucket, format!("{name}-reportsbucket"));
    assert_eq!(
        stores.resources.table("ReviewTable").expect("table"),
        resolved.table("ReviewTable").expect("output")
    );

    let list = cli::run(["courier-bridge", "--stack", &name, "review", "list"])
        .await
        .expect("review list");
    assert_eq!(list, "no review items");
    let file = std::env::temp_dir().join(format!("{name}.json"));
    std::fs::write(&file, r#"{"trigger": "ready_to_ship"}"#).expect("write");
    cli::run([
        "courier-bridge",
        "--stack",
        &name,
        "store",
        "put",
        "--channel",
        "shopify",
        "--store",
        "acme",
        "--file",
        file.to_str().expect("UTF-8"),
    ])
    .await
    .expect("store put");
    let _ = std::fs::remove_file(&file);
    // Written where the stack's output says, not under a guessed name.
    let item = aws_sdk_dynamodb::Client::new(&sdk)
        .get_item()
        .table_name(&stores_table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("shopify:acme".into()),
        )
        .send()
        .await
        .expect("GetItem");
    assert!(item.item.is_some());

    let _ = cloudformation.delete_stack().stack_name(&name).send().await;
}
