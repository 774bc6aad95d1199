//! Provisions a [`Template`]'s tables and queues into an AWS emulator (moto)
//! and resolves every function's environment against them, so local runs and
//! tests use exactly the resources `template.yaml` declares.
//!
//! Every physical name is scoped by a stack name (`{stack}-{LogicalId}`), so
//! any number of stacks, e.g. tests running in parallel, share one emulator
//! without colliding. Provisioning is idempotent for a given stack name.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types as ddb;
use aws_sdk_sqs::types::QueueAttributeName;
use futures::future::{join_all, try_join_all};

use crate::template::{
    AttributeType, Bindings, EventSpec, Expr, KeyElement, KeyType, Projection, QueueSpec,
    RedriveAllow, ResolveError, TableSpec, Template, UserPoolSpec,
};

const LOCAL_PARTITION: &str = "aws";
const LOCAL_URL_SUFFIX: &str = "amazonaws.com";

/// Bound on waiting for a table (and its indexes) to become ACTIVE: moto is
/// immediate, DynamoDB Local and real DynamoDB take seconds.
const TABLE_ACTIVE_POLLS: u32 = 100;
const TABLE_ACTIVE_POLL_INTERVAL: Duration = Duration::from_millis(200);

const MAX_TABLE_NAME_LEN: usize = 255;
const MAX_QUEUE_NAME_LEN: usize = 80;
const MAX_BUCKET_NAME_LEN: usize = 63;

/// Why provisioning or tearing down failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("invalid stack name {name:?}: {reason}")]
    InvalidStackName { name: String, reason: &'static str },
    #[error("the SDK config has no region (set AWS_REGION)")]
    NoRegion,
    #[error("parameter override {0} is not a parameter of the template")]
    UnknownParameter(String),
    #[error("parameter {0} has no default; pass it as an override")]
    MissingParameter(String),
    #[error("{context}: {source}")]
    Resolve {
        context: String,
        #[source]
        source: ResolveError,
    },
    #[error("{resource}: physical name {name:?} does not start with the stack prefix {prefix:?}, so stacks would collide")]
    NameNotStackScoped {
        resource: String,
        name: String,
        prefix: String,
    },
    #[error("{resource}: physical name {name:?} is longer than {max} characters; use a shorter stack name")]
    NameTooLong {
        resource: String,
        name: String,
        max: usize,
    },
    /// An emulator call failed. `message` carries the SDK error's whole cause
    /// chain (its `Display` alone says little more than "service error").
    #[error("{operation} {resource}: {message}")]
    Aws {
        operation: &'static str,
        resource: String,
        message: String,
    },
    #[error("{operation} {resource}: the response has no {field}")]
    MissingField {
        operation: &'static str,
        resource: String,
        field: &'static str,
    },
    #[error("invalid request for {resource}: {source}")]
    Build {
        resource: String,
        #[source]
        source: aws_sdk_dynamodb::error::BuildError,
    },
    #[error("table {table} is not ACTIVE after {waited:?}")]
    TableNotActive { table: String, waited: Duration },
    #[error("table {table} already exists and does not match the template ({detail}); tear the stack down or use a new stack name")]
    TableMismatch { table: String, detail: String },
    #[error("queues {0:?} redrive into each other in a cycle")]
    RedriveCycle(Vec<String>),
    #[error("RedriveAllowPolicy of {queue} allows {arn}, which is not a queue of this stack; check the source queue's QueueName")]
    UnknownRedriveSource { queue: String, arn: String },
}

/// A provisioned queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueInfo {
    pub url: String,
    pub arn: String,
    pub name: String,
}

/// A function with its environment resolved against a provisioned stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedFunction {
    pub binary: String,
    pub timeout_secs: u32,
    pub env: BTreeMap<String, String>,
    pub events: Vec<EventSpec>,
}

/// The physical resources of one provisioned stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    /// Prefix of every physical name, e.g. `cb-3f9a1c`.
    pub name: String,
    /// Logical id -> table name.
    pub tables: BTreeMap<String, String>,
    pub queues: BTreeMap<String, QueueInfo>,
    /// Logical id -> bucket name.
    pub buckets: BTreeMap<String, String>,
    pub functions: BTreeMap<String, DeployedFunction>,
    /// Effective parameter values: overrides over defaults.
    pub parameters: BTreeMap<String, String>,
    /// Logical id -> the user pool as provisioned.
    pub user_pools: BTreeMap<String, UserPoolInfo>,
}

/// A provisioned user pool: its id and its app clients' ids by logical id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPoolInfo {
    pub id: String,
    pub clients: BTreeMap<String, String>,
}

/// Creates the template's tables and queues under `stack_name` (or finds them
/// from an earlier run) and resolves every function's environment.
pub async fn provision(
    template: &Template,
    stack_name: &str,
    parameter_overrides: &BTreeMap<String, String>,
    sdk: &SdkConfig,
) -> Result<Stack, ProvisionError> {
    check_stack_name(stack_name)?;
    let parameters = effective_parameters(template, parameter_overrides)?;
    let region = sdk.region().ok_or(ProvisionError::NoRegion)?.to_string();

    let mut bindings = Bindings::default();
    bindings.bind_ref("AWS::StackName", stack_name);
    bindings.bind_ref("AWS::Region", region);
    let account = account_id(sdk).await?;
    bindings.bind_ref("AWS::AccountId", &account);
    bindings.bind_ref("AWS::Partition", LOCAL_PARTITION);
    bindings.bind_ref("AWS::URLSuffix", LOCAL_URL_SUFFIX);
    for (name, value) in &parameters {
        bindings.bind_ref(name, value);
    }

    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);

    let table_specs = template.tables();
    let table_names = table_specs
        .iter()
        .map(|spec| {
            physical_name(
                spec.name.as_ref(),
                stack_name,
                &spec.logical_id,
                "",
                MAX_TABLE_NAME_LEN,
                &bindings,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let table_arns = try_join_all(
        table_specs
            .iter()
            .zip(&table_names)
            .map(|(spec, name)| provision_table(&dynamodb, spec, name)),
    )
    .await?;
    let mut tables = BTreeMap::new();
    for ((spec, name), arn) in table_specs.iter().zip(table_names).zip(table_arns) {
        bindings.bind_ref(&spec.logical_id, &name);
        bindings.bind_attribute(&spec.logical_id, "Arn", arn);
        tables.insert(spec.logical_id.clone(), name);
    }

    record_parameters(sdk, stack_name, &parameters).await?;
    let queues = provision_queues(&sqs, template.queues(), stack_name, &mut bindings).await?;
    let buckets = provision_buckets(sdk, template.buckets(), stack_name, &mut bindings).await?;
    let user_pools = provision_user_pools(
        sdk,
        template.user_pools(),
        stack_name,
        &account,
        &mut bindings,
    )
    .await?;

    let mut functions = BTreeMap::new();
    for function in template.functions() {
        let env = function
            .environment
            .iter()
            .map(|(variable, expr)| {
                let value = expr
                    .resolve(&bindings)
                    .map_err(|source| ProvisionError::Resolve {
                        context: format!(
                            "{}: environment variable {variable}",
                            function.logical_id
                        ),
                        source,
                    })?;
                Ok((variable.clone(), value))
            })
            .collect::<Result<BTreeMap<_, _>, ProvisionError>>()?;
        functions.insert(
            function.logical_id,
            DeployedFunction {
                binary: function.binary,
                timeout_secs: function.timeout_secs,
                env,
                events: function.events,
            },
        );
    }

    tracing::info!(
        stack = stack_name,
        tables = tables.len(),
        queues = queues.len(),
        functions = functions.len(),
        "stack provisioned"
    );
    Ok(Stack {
        name: stack_name.to_owned(),
        tables,
        queues,
        buckets,
        functions,
        parameters,
        user_pools,
    })
}

/// Without CloudFormation nothing else remembers what a stack was made with; the operator's
/// CLI (`doctor`: the courier, the message providers; the secrets prefix) reads the
/// parameters back from this secret ([`aws::stack::local_parameters_secret`]).
async fn record_parameters(
    sdk: &SdkConfig,
    stack_name: &str,
    parameters: &BTreeMap<String, String>,
) -> Result<(), ProvisionError> {
    let name = aws::stack::local_parameters_secret(stack_name);
    // A map of strings always serializes.
    let text = serde_json::to_string(parameters).unwrap_or_default();
    let secrets = aws_sdk_secretsmanager::Client::new(sdk);
    let created = secrets
        .create_secret()
        .name(&name)
        .secret_string(&text)
        .send()
        .await;
    match created {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_exists_exception()) =>
        {
            secrets
                .put_secret_value()
                .secret_id(&name)
                .secret_string(&text)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("PutSecretValue", &name, e))
        }
        Err(e) => Err(aws_error("CreateSecret", &name, e)),
    }
}

/// Each user pool as `{stack}-{LogicalId}` (found again by that name on a later run), its
/// app clients by `ClientName` and its groups. `Ref` of a pool is its id, of a client its
/// client id, as in CloudFormation.
async fn provision_user_pools(
    sdk: &SdkConfig,
    specs: Vec<UserPoolSpec>,
    stack_name: &str,
    account: &str,
    bindings: &mut Bindings,
) -> Result<BTreeMap<String, UserPoolInfo>, ProvisionError> {
    use aws_sdk_cognitoidentityprovider::types::ExplicitAuthFlowsType;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(sdk);
    let mut pools = BTreeMap::new();
    for spec in specs {
        let name = format!("{stack_name}-{}", spec.logical_id);
        let existing = cognito
            .list_user_pools()
            .max_results(60)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| aws_error("ListUserPools", &name, e))?
            .into_iter()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| p.id);
        let id = match existing {
            Some(id) => id,
            None => cognito
                .create_user_pool()
                .pool_name(&name)
                .send()
                .await
                .map_err(|e| aws_error("CreateUserPool", &name, e))?
                .user_pool
                .and_then(|p| p.id)
                .ok_or_else(|| ProvisionError::Aws {
                    operation: "CreateUserPool",
                    resource: name.clone(),
                    message: "no pool id in the answer".into(),
                })?,
        };
        let known: Vec<(String, String)> = cognito
            .list_user_pool_clients()
            .user_pool_id(&id)
            .max_results(60)
            .send()
            .await
            .map_err(|e| aws_error("ListUserPoolClients", &name, e))?
            .user_pool_clients
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| Some((c.client_name?, c.client_id?)))
            .collect();
        let mut clients = BTreeMap::new();
        for client in &spec.clients {
            let client_id = match known.iter().find(|(n, _)| *n == client.name) {
                Some((_, client_id)) => client_id.clone(),
                None => cognito
                    .create_user_pool_client()
                    .user_pool_id(&id)
                    .client_name(&client.name)
                    .set_explicit_auth_flows(Some(
                        client
                            .auth_flows
                            .iter()
                            .map(|f| ExplicitAuthFlowsType::from(f.as_str()))
                            .collect(),
                    ))
                    .send()
                    .await
                    .map_err(|e| aws_error("CreateUserPoolClient", &client.name, e))?
                    .user_pool_client
                    .and_then(|c| c.client_id)
                    .ok_or_else(|| ProvisionError::Aws {
                        operation: "CreateUserPoolClient",
                        resource: client.name.clone(),
                        message: "no client id in the answer".into(),
                    })?,
            };
            bindings.bind_ref(&client.logical_id, &client_id);
            clients.insert(client.logical_id.clone(), client_id);
        }
        for group in &spec.groups {
            match cognito
                .create_group()
                .user_pool_id(&id)
                .group_name(group)
                .send()
                .await
            {
                Ok(_) => {}
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(|e| e.is_group_exists_exception()) => {}
                Err(err) => return Err(aws_error("CreateGroup", group, err)),
            }
        }
        bindings.bind_ref(&spec.logical_id, &id);
        bindings.bind_attribute(
            &spec.logical_id,
            "Arn",
            format!(
                "arn:{LOCAL_PARTITION}:cognito-idp:{}:{account}:userpool/{id}",
                sdk.region().map(|r| r.to_string()).unwrap_or_default()
            ),
        );
        pools.insert(spec.logical_id, UserPoolInfo { id, clients });
    }
    Ok(pools)
}

/// `AWS::AccountId`: the caller's account as the emulator (or AWS) answers it, as
/// CloudFormation binds it. ARNs the template builds from it must match the ones the
/// emulator issues (a DLQ's RedriveAllowPolicy names its source queues by ARN), and
/// emulators differ: moto answers 123456789012, LocalStack and ministack 000000000000.
async fn account_id(sdk: &SdkConfig) -> Result<String, ProvisionError> {
    let identity = aws_sdk_sts::Client::new(sdk)
        .get_caller_identity()
        .send()
        .await
        .map_err(|err| ProvisionError::Aws {
            operation: "GetCallerIdentity",
            resource: "the caller".into(),
            message: aws_sdk_sts::error::DisplayErrorContext(err).to_string(),
        })?;
    identity
        .account()
        .map(str::to_owned)
        .ok_or(ProvisionError::MissingField {
            operation: "GetCallerIdentity",
            resource: "the caller".into(),
            field: "Account",
        })
}

// ------------------------------------------------------------ buckets

/// Creates each bucket (an existing one of the same stack is adopted). S3 names are
/// lower case, so the stack-scoped default name is lowered.
async fn provision_buckets(
    sdk: &SdkConfig,
    specs: Vec<crate::template::BucketSpec>,
    stack_name: &str,
    bindings: &mut Bindings,
) -> Result<BTreeMap<String, String>, ProvisionError> {
    let s3 = aws::reports::s3_client(sdk);
    let mut buckets = BTreeMap::new();
    for spec in specs {
        let name = physical_name(
            spec.name.as_ref(),
            stack_name,
            &spec.logical_id,
            "",
            MAX_BUCKET_NAME_LEN,
            bindings,
        )?
        .to_ascii_lowercase();
        match s3.create_bucket().bucket(&name).send().await {
            Ok(_) => {}
            Err(err)
                if err.as_service_error().is_some_and(|e| {
                    e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()
                }) => {}
            Err(err) => return Err(aws_error("CreateBucket", &name, err)),
        }
        bindings.bind_ref(&spec.logical_id, &name);
        bindings.bind_attribute(&spec.logical_id, "Arn", format!("arn:aws:s3:::{name}"));
        buckets.insert(spec.logical_id, name);
    }
    Ok(buckets)
}

/// Empties and deletes a bucket; one that is gone already is fine.
async fn delete_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<(), ProvisionError> {
    let gone = |code: Option<&str>| code == Some("NoSuchBucket");
    let mut token = None;
    loop {
        let listed = match s3
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(token.take())
            .send()
            .await
        {
            Ok(out) => out,
            Err(err) if gone(err.as_service_error().and_then(|e| e.meta().code())) => return Ok(()),
            Err(err) => return Err(aws_error("ListObjectVersions", bucket, err)),
        };
        for version in listed.versions.unwrap_or_default() {
            if let Some(key) = version.key {
                s3.delete_object()
                    .bucket(bucket)
                    .key(key)
                    .set_version_id(version.version_id)
                    .send()
                    .await
                    .map_err(|err| aws_error("DeleteObject", bucket, err))?;
            }
        }
        for marker in listed.delete_markers.unwrap_or_default() {
            if let Some(key) = marker.key {
                s3.delete_object()
                    .bucket(bucket)
                    .key(key)
                    .set_version_id(marker.version_id)
                    .send()
                    .await
                    .map_err(|err| aws_error("DeleteObject", bucket, err))?;
            }
        }
        if listed.is_truncated != Some(true) {
            break;
        }
        token = listed.next_key_marker;
    }
    match s3.delete_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(err) if gone(err.as_service_error().and_then(|e| e.meta().code())) => Ok(()),
        Err(err) => Err(aws_error("DeleteBucket", bucket, err)),
    }
}

/// Deletes the stack's tables and queues. Resources already gone are fine;
/// every deletion is attempted even when one fails, and the first failure is
/// returned.
pub async fn teardown(stack: &Stack, sdk: &SdkConfig) -> Result<(), ProvisionError> {
    let dynamodb = &aws_sdk_dynamodb::Client::new(sdk);
    let sqs = &aws_sdk_sqs::Client::new(sdk);

    let tables = join_all(stack.tables.values().map(|table| async move {
        match dynamodb.delete_table().table_name(table).send().await {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(err) => Err(aws_error("DeleteTable", table, err)),
        }
    }));
    let queues = join_all(stack.queues.values().map(|queue| async move {
        match sqs.delete_queue().queue_url(&queue.url).send().await {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_queue_does_not_exist()) =>
            {
                Ok(())
            }
            Err(err) => Err(aws_error("DeleteQueue", &queue.name, err)),
        }
    }));
    let s3 = &aws::reports::s3_client(sdk);
    let buckets = join_all(
        stack
            .buckets
            .values()
            .map(|bucket| delete_bucket(s3, bucket)),
    );
    // Best effort: a parameters secret left behind only names a stack that is gone.
    let _ = aws_sdk_secretsmanager::Client::new(sdk)
        .delete_secret()
        .secret_id(aws::stack::local_parameters_secret(&stack.name))
        .force_delete_without_recovery(true)
        .send()
        .await;
    let cognito = &aws_sdk_cognitoidentityprovider::Client::new(sdk);
    let pools = join_all(stack.user_pools.values().map(|pool| async move {
        match cognito
            .delete_user_pool()
            .user_pool_id(&pool.id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(err) => Err(aws_error("DeleteUserPool", &pool.id, err)),
        }
    }));
    let (tables, queues, buckets, pools) = futures::join!(tables, queues, buckets, pools);
    tables
        .into_iter()
        .chain(queues)
        .chain(buckets)
        .chain(pools)
        .collect::<Result<(), _>>()?;
    tracing::info!(stack = stack.name, "stack torn down");
    Ok(())
}

/// Stack names follow CloudFormation's rule, which also keeps them valid inside
/// DynamoDB table and SQS queue names.
fn check_stack_name(name: &str) -> Result<(), ProvisionError> {
    let invalid = |reason| ProvisionError::InvalidStackName {
        name: name.to_owned(),
        reason,
    };
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(invalid("must start with a letter"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(invalid("may only contain letters, digits and hyphens"));
    }
    Ok(())
}

fn effective_parameters(
    template: &Template,
    overrides: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ProvisionError> {
    let declared = template.parameters();
    // A misspelt override would otherwise silently leave the default in place.
    if let Some(unknown) = overrides.keys().find(|name| !declared.contains_key(*name)) {
        return Err(ProvisionError::UnknownParameter(unknown.clone()));
    }
    declared
        .iter()
        .map(|(name, default)| {
            let value = overrides
                .get(name)
                .or(default.as_ref())
                .ok_or_else(|| ProvisionError::MissingParameter(name.clone()))?;
            Ok((name.clone(), value.clone()))
        })
        .collect()
}

/// The template's declared name if it has one (it must still carry the stack
/// prefix, e.g. `${AWS::StackName}-IntakeQueue`), else `{stack}-{LogicalId}{suffix}`.
fn physical_name(
    declared: Option<&Expr>,
    stack_name: &str,
    logical_id: &str,
    suffix: &str,
    max_len: usize,
    bindings: &Bindings,
) -> Result<String, ProvisionError> {
    let name = match declared {
        None => format!("{stack_name}-{logical_id}{suffix}"),
        Some(declared) => {
            let name = declared
                .resolve(bindings)
                .map_err(|source| ProvisionError::Resolve {
                    context: format!("{logical_id}: name"),
                    source,
                })?;
            let prefix = format!("{stack_name}-");
            if !name.starts_with(&prefix) {
                return Err(ProvisionError::NameNotStackScoped {
                    resource: logical_id.to_owned(),
                    name,
                    prefix,
                });
            }
            name
        }
    };
    if name.len() > max_len {
        return Err(ProvisionError::NameTooLong {
            resource: logical_id.to_owned(),
            name,
            max: max_len,
        });
    }
    Ok(name)
}

// ------------------------------------------------------------ tables

/// Creates the table (or adopts it from an earlier run of the same stack),
/// waits for it to be usable, enables TTL, and returns its ARN.
async fn provision_table(
    client: &aws_sdk_dynamodb::Client,
    spec: &TableSpec,
    name: &str,
) -> Result<String, ProvisionError> {
    let build_error = |source| ProvisionError::Build {
        resource: name.to_owned(),
        source,
    };
    let indexes = spec
        .global_secondary_indexes
        .iter()
        .map(|index| {
            ddb::GlobalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .set_key_schema(Some(key_schema(&index.key_schema)?))
                .projection(projection(&index.projection))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(build_error)?;
    let attribute_definitions = spec
        .attribute_definitions
        .iter()
        .map(|definition| {
            ddb::AttributeDefinition::builder()
                .attribute_name(&definition.attribute_name)
                .attribute_type(match definition.attribute_type {
                    AttributeType::String => ddb::ScalarAttributeType::S,
                    AttributeType::Number => ddb::ScalarAttributeType::N,
                    AttributeType::Binary => ddb::ScalarAttributeType::B,
                })
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(build_error)?;

    // Capacity is meaningless in an emulator: always on-demand, so indexes
    // need no throughput either.
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(ddb::BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&spec.key_schema).map_err(build_error)?))
        .set_attribute_definitions(Some(attribute_definitions))
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .send()
        .await;
    match created {
        Ok(_) => tracing::info!(table = name, "table created"),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            tracing::debug!(table = name, "table already exists");
        }
        Err(err) => return Err(aws_error("CreateTable", name, err)),
    }

    let description = wait_until_active(client, name).await?;
    check_table_matches(spec, name, &description)?;
    if let Some(attribute) = &spec.ttl_attribute {
        enable_ttl(client, name, attribute).await?;
    }
    description
        .table_arn()
        .map(str::to_owned)
        .ok_or_else(|| ProvisionError::MissingField {
            operation: "DescribeTable",
            resource: name.to_owned(),
            field: "TableArn",
        })
}

fn key_schema(
    elements: &[KeyElement],
) -> Result<Vec<ddb::KeySchemaElement>, aws_sdk_dynamodb::error::BuildError> {
    elements
        .iter()
        .map(|element| {
            ddb::KeySchemaElement::builder()
                .attribute_name(&element.attribute_name)
                .key_type(ddb_key_type(element.key_type))
                .build()
        })
        .collect()
}

fn ddb_key_type(key_type: KeyType) -> ddb::KeyType {
    match key_type {
        KeyType::Hash => ddb::KeyType::Hash,
        KeyType::Range => ddb::KeyType::Range,
    }
}

fn projection(projection: &Projection) -> ddb::Projection {
    match projection {
        Projection::All => ddb::Projection::builder()
            .projection_type(ddb::ProjectionType::All)
            .build(),
        Projection::KeysOnly => ddb::Projection::builder()
            .projection_type(ddb::ProjectionType::KeysOnly)
            .build(),
        Projection::Include(attributes) => ddb::Projection::builder()
            .projection_type(ddb::ProjectionType::Include)
            .set_non_key_attributes(Some(attributes.clone()))
            .build(),
    }
}

/// Polls until the table and all its indexes are ACTIVE, within a bound.
async fn wait_until_active(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
) -> Result<ddb::TableDescription, ProvisionError> {
    for _ in 0..TABLE_ACTIVE_POLLS {
        let described = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|err| aws_error("DescribeTable", name, err))?;
        let table = described
            .table
            .ok_or_else(|| ProvisionError::MissingField {
                operation: "DescribeTable",
                resource: name.to_owned(),
                field: "Table",
            })?;
        let active = table.table_status() == Some(&ddb::TableStatus::Active)
            && table
                .global_secondary_indexes()
                .iter()
                .all(|index| index.index_status() == Some(&ddb::IndexStatus::Active));
        if active {
            return Ok(table);
        }
        tokio::time::sleep(TABLE_ACTIVE_POLL_INTERVAL).await;
    }
    Err(ProvisionError::TableNotActive {
        table: name.to_owned(),
        waited: TABLE_ACTIVE_POLL_INTERVAL * TABLE_ACTIVE_POLLS,
    })
}

/// An existing table left by an earlier run must have the template's keys and
/// indexes; code written against the template would otherwise fail obscurely.
fn check_table_matches(
    spec: &TableSpec,
    name: &str,
    table: &ddb::TableDescription,
) -> Result<(), ProvisionError> {
    let mismatch = |detail: String| ProvisionError::TableMismatch {
        table: name.to_owned(),
        detail,
    };
    let same_keys = |want: &[KeyElement], have: &[ddb::KeySchemaElement]| {
        want.len() == have.len()
            && want.iter().zip(have).all(|(w, h)| {
                w.attribute_name == h.attribute_name() && &ddb_key_type(w.key_type) == h.key_type()
            })
    };
    if !same_keys(&spec.key_schema, table.key_schema()) {
        return Err(mismatch(format!("key schema is {:?}", table.key_schema())));
    }
    let have: BTreeMap<&str, &[ddb::KeySchemaElement]> = table
        .global_secondary_indexes()
        .iter()
        .filter_map(|index| Some((index.index_name()?, index.key_schema())))
        .collect();
    if have.len() != spec.global_secondary_indexes.len() {
        return Err(mismatch(format!(
            "global secondary indexes are {:?}",
            have.keys().collect::<Vec<_>>()
        )));
    }
    for index in &spec.global_secondary_indexes {
        match have.get(index.index_name.as_str()) {
            Some(keys) if same_keys(&index.key_schema, keys) => {}
            _ => {
                return Err(mismatch(format!(
                    "index {} is missing or has other keys",
                    index.index_name
                )))
            }
        }
    }
    Ok(())
}

/// Enables TTL unless it already is: DynamoDB rejects re-enabling it.
async fn enable_ttl(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    attribute: &str,
) -> Result<(), ProvisionError> {
    let current = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|err| aws_error("DescribeTimeToLive", name, err))?;
    let current = current.time_to_live_description();
    let status = current.and_then(|d| d.time_to_live_status());
    let enabled = matches!(
        status,
        Some(ddb::TimeToLiveStatus::Enabled | ddb::TimeToLiveStatus::Enabling)
    );
    let current_attribute = current.and_then(|d| d.attribute_name());
    if enabled {
        if current_attribute == Some(attribute) {
            return Ok(());
        }
        return Err(ProvisionError::TableMismatch {
            table: name.to_owned(),
            detail: format!("TTL is on attribute {current_attribute:?}, not {attribute:?}"),
        });
    }
    let specification = ddb::TimeToLiveSpecification::builder()
        .attribute_name(attribute)
        .enabled(true)
        .build()
        .map_err(|source| ProvisionError::Build {
            resource: name.to_owned(),
            source,
        })?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(specification)
        .send()
        .await
        .map_err(|err| aws_error("UpdateTimeToLive", name, err))?;
    Ok(())
}

// ------------------------------------------------------------ queues

/// Creates the queues in waves, each queue after the dead-letter queue it
/// redrives into (its RedrivePolicy needs the DLQ's real ARN), binding each
/// queue's URL, ARN and name as soon as it exists.
async fn provision_queues(
    client: &aws_sdk_sqs::Client,
    specs: Vec<QueueSpec>,
    stack_name: &str,
    bindings: &mut Bindings,
) -> Result<BTreeMap<String, QueueInfo>, ProvisionError> {
    let mut queues: BTreeMap<String, QueueInfo> = BTreeMap::new();
    let mut pending = specs.clone();
    while !pending.is_empty() {
        let (ready, blocked): (Vec<QueueSpec>, Vec<QueueSpec>) =
            pending.into_iter().partition(|spec| {
                spec.redrive
                    .as_ref()
                    .is_none_or(|r| queues.contains_key(&r.dead_letter_queue))
            });
        if ready.is_empty() {
            return Err(ProvisionError::RedriveCycle(
                blocked.into_iter().map(|spec| spec.logical_id).collect(),
            ));
        }
        let created = try_join_all(
            ready
                .iter()
                .map(|spec| provision_queue(client, spec, stack_name, bindings, &queues)),
        )
        .await?;
        for (spec, info) in ready.iter().zip(created) {
            bindings.bind_ref(&spec.logical_id, &info.url);
            bindings.bind_attribute(&spec.logical_id, "Arn", &info.arn);
            bindings.bind_attribute(&spec.logical_id, "QueueName", &info.name);
            bindings.bind_attribute(&spec.logical_id, "QueueUrl", &info.url);
            queues.insert(spec.logical_id.clone(), info);
        }
        pending = blocked;
    }
    check_redrive_sources(&specs, &queues, bindings)?;
    Ok(queues)
}

async fn provision_queue(
    client: &aws_sdk_sqs::Client,
    spec: &QueueSpec,
    stack_name: &str,
    bindings: &Bindings,
    created: &BTreeMap<String, QueueInfo>,
) -> Result<QueueInfo, ProvisionError> {
    let suffix = if spec.fifo { ".fifo" } else { "" };
    let name = physical_name(
        spec.name.as_ref(),
        stack_name,
        &spec.logical_id,
        suffix,
        MAX_QUEUE_NAME_LEN,
        bindings,
    )?;

    let mut attributes: HashMap<QueueAttributeName, String> = spec
        .attributes
        .iter()
        .map(|(key, value)| (QueueAttributeName::from(key.as_str()), value.clone()))
        .collect();
    attributes.insert(
        QueueAttributeName::VisibilityTimeout,
        spec.visibility_timeout_secs.to_string(),
    );
    if let Some(redrive) = &spec.redrive {
        // Ordering in provision_queues guarantees the DLQ exists by now.
        let dlq = created
            .get(&redrive.dead_letter_queue)
            .ok_or_else(|| ProvisionError::RedriveCycle(vec![spec.logical_id.clone()]))?;
        let policy = serde_json::json!({
            "deadLetterTargetArn": dlq.arn,
            "maxReceiveCount": redrive.max_receive_count,
        });
        attributes.insert(QueueAttributeName::RedrivePolicy, policy.to_string());
    }
    if let Some(allow) = &spec.redrive_allow {
        let policy = match allow {
            RedriveAllow::AllowAll => serde_json::json!({ "redrivePermission": "allowAll" }),
            RedriveAllow::DenyAll => serde_json::json!({ "redrivePermission": "denyAll" }),
            RedriveAllow::ByQueue(sources) => serde_json::json!({
                "redrivePermission": "byQueue",
                "sourceQueueArns": resolve_all(sources, bindings, &spec.logical_id)?,
            }),
        };
        attributes.insert(QueueAttributeName::RedriveAllowPolicy, policy.to_string());
    }
    // FifoQueue can only be given at creation, so it is kept out of the
    // attributes that SetQueueAttributes re-applies below.
    let mut create_attributes = attributes.clone();
    if spec.fifo {
        create_attributes.insert(QueueAttributeName::FifoQueue, "true".to_owned());
    }

    let created = client
        .create_queue()
        .queue_name(&name)
        .set_attributes(Some(create_attributes))
        .send()
        .await;
    let url = match created {
        // CreateQueue returns the existing queue when its attributes are the same.
        Ok(output) => output
            .queue_url
            .ok_or_else(|| ProvisionError::MissingField {
                operation: "CreateQueue",
                resource: name.clone(),
                field: "QueueUrl",
            })?,
        // It exists with other attributes (the template changed since the last
        // run of this stack): bring it in line.
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_queue_name_exists()) =>
        {
            let url = client
                .get_queue_url()
                .queue_name(&name)
                .send()
                .await
                .map_err(|err| aws_error("GetQueueUrl", &name, err))?
                .queue_url
                .ok_or_else(|| ProvisionError::MissingField {
                    operation: "GetQueueUrl",
                    resource: name.clone(),
                    field: "QueueUrl",
                })?;
            client
                .set_queue_attributes()
                .queue_url(&url)
                .set_attributes(Some(attributes))
                .send()
                .await
                .map_err(|err| aws_error("SetQueueAttributes", &name, err))?;
            tracing::info!(queue = name, "existing queue updated to the template");
            url
        }
        Err(err) => return Err(aws_error("CreateQueue", &name, err)),
    };

    let arn = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|err| aws_error("GetQueueAttributes", &name, err))?
        .attributes
        .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| ProvisionError::MissingField {
            operation: "GetQueueAttributes",
            resource: name.clone(),
            field: "QueueArn",
        })?;
    tracing::debug!(queue = name, url, "queue ready");
    Ok(QueueInfo { url, arn, name })
}

fn resolve_all(
    exprs: &[Expr],
    bindings: &Bindings,
    logical_id: &str,
) -> Result<Vec<String>, ProvisionError> {
    exprs
        .iter()
        .map(|expr| {
            expr.resolve(bindings)
                .map_err(|source| ProvisionError::Resolve {
                    context: format!("{logical_id}: RedriveAllowPolicy"),
                    source,
                })
        })
        .collect()
}

/// A byQueue RedriveAllowPolicy has to name the ARNs of the stack's own source
/// queues. The template builds them from the source's QueueName by hand (a
/// GetAtt would be a circular dependency), so a drift between the two would
/// only show once SQS refuses to dead-letter in a real deployment.
fn check_redrive_sources(
    specs: &[QueueSpec],
    queues: &BTreeMap<String, QueueInfo>,
    bindings: &Bindings,
) -> Result<(), ProvisionError> {
    let arns: BTreeSet<&str> = queues.values().map(|q| q.arn.as_str()).collect();
    for spec in specs {
        if let Some(RedriveAllow::ByQueue(sources)) = &spec.redrive_allow {
            for arn in resolve_all(sources, bindings, &spec.logical_id)? {
                if !arns.contains(arn.as_str()) {
                    return Err(ProvisionError::UnknownRedriveSource {
                        queue: spec.logical_id.clone(),
                        arn,
                    });
                }
            }
        }
    }
    Ok(())
}

// ------------------------------------------------------------ errors

fn aws_error<E: std::error::Error>(
    operation: &'static str,
    resource: &str,
    err: E,
) -> ProvisionError {
    ProvisionError::Aws {
        operation,
        resource: resource.to_owned(),
        message: DisplayErrorContext(&err).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names_are_checked() {
        assert!(check_stack_name("cb-3f9a1c").is_ok());
        for bad in ["", "3cb", "cb_x", "cb.x"] {
            assert!(
                matches!(
                    check_stack_name(bad),
                    Err(ProvisionError::InvalidStackName { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn parameters_take_overrides_over_defaults_and_reject_unknown_or_missing() {
        let template = Template::from_str(
            "Parameters:\n  A: {Type: String, Default: a}\n  B: {Type: String}\nResources: {}\n",
        )
        .expect("template parses");
        let overrides = BTreeMap::from([("B".to_owned(), "b".to_owned())]);
        let effective = effective_parameters(&template, &overrides).expect("parameters resolve");
        assert_eq!(effective["A"], "a");
        assert_eq!(effective["B"], "b");

        assert!(matches!(
            effective_parameters(&template, &BTreeMap::new()),
            Err(ProvisionError::MissingParameter(name)) if name == "B"
        ));
        let typo = BTreeMap::from([
            ("C".to_owned(), "c".to_owned()),
            ("B".to_owned(), "b".to_owned()),
        ]);
        assert!(matches!(
            effective_parameters(&template, &typo),
            Err(ProvisionError::UnknownParameter(name)) if name == "C"
        ));
    }

    #[test]
    fn declared_names_must_carry_the_stack_prefix() {
        let mut bindings = Bindings::default();
        bindings.bind_ref("AWS::StackName", "cb-1");
        let scoped = Expr::Sub(vec![
            crate::template::SubPart::Ref("AWS::StackName".into()),
            crate::template::SubPart::Text("-Q".into()),
        ]);
        assert_eq!(
            physical_name(Some(&scoped), "cb-1", "Q", "", 80, &bindings).ok(),
            Some("cb-1-Q".to_owned())
        );
        assert_eq!(
            physical_name(None, "cb-1", "Q", ".fifo", 80, &bindings).ok(),
            Some("cb-1-Q.fifo".to_owned())
        );
        assert!(matches!(
            physical_name(
                Some(&Expr::Literal("fixed".into())),
                "cb-1",
                "Q",
                "",
                80,
                &bindings
            ),
            Err(ProvisionError::NameNotStackScoped { .. })
        ));
        assert!(matches!(
            physical_name(None, &"c".repeat(80), "Q", "", 80, &bindings),
            Err(ProvisionError::NameTooLong { .. })
        ));
    }
}
