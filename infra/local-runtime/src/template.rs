//! Reads the SAM template (`template.yaml`) into typed specs of what the local
//! runtime reproduces: DynamoDB tables, SQS queues and the functions with their
//! environment and event sources.
//!
//! The template stays the single source of truth: nothing about the stack's
//! resources is restated in Rust. Anything the local runtime would have to
//! reproduce but cannot (an intrinsic it does not evaluate, a table or queue
//! property or an event type it does not model) is an error rather than being
//! dropped, so local runs never quietly diverge from a deployment. Properties
//! that only matter to a real deployment (IAM policies, packaging, billing,
//! backups, encryption, tags) are ignored.
//!
//! serde_yaml's accessors (`as_str`, `as_mapping`, ...) look through YAML tags,
//! so `!Ref Foo` would read as the string `"Foo"`. Every value here is therefore
//! matched on its variant explicitly instead.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

/// SAM's default function timeout when neither the function nor Globals sets one.
const SAM_DEFAULT_TIMEOUT_SECS: u32 = 3;
/// SQS's default visibility timeout for a queue that does not set one.
const SQS_DEFAULT_VISIBILITY_TIMEOUT_SECS: u32 = 30;
/// SAM's default batch size for an SQS event source.
const SQS_EVENT_DEFAULT_BATCH_SIZE: u32 = 10;

/// Queue properties that map one to one onto SQS queue attributes of the same
/// name and are passed through as literals.
const PASS_THROUGH_QUEUE_ATTRIBUTES: &[&str] = &[
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
];

/// Table properties with no effect in an emulator: capacity, backups,
/// encryption at rest, protection against deletion and tags.
const IGNORED_TABLE_PROPERTIES: &[&str] = &[
    "BillingMode",
    "ContributorInsightsSpecification",
    "DeletionProtectionEnabled",
    "OnDemandThroughput",
    "PointInTimeRecoverySpecification",
    "ProvisionedThroughput",
    "SSESpecification",
    "TableClass",
    "Tags",
    "WarmThroughput",
];

/// Index properties with no effect in an emulator (capacity only).
const IGNORED_INDEX_PROPERTIES: &[&str] = &[
    "ContributorInsightsSpecification",
    "OnDemandThroughput",
    "ProvisionedThroughput",
    "WarmThroughput",
];

/// Why a template could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read template {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("template is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    /// An intrinsic function this module does not evaluate.
    #[error("{at}: unsupported intrinsic function {intrinsic}")]
    UnsupportedIntrinsic { at: String, intrinsic: String },
    /// An intrinsic function where the local runtime needs a literal value.
    #[error("{at}: {intrinsic} is not supported here, the local runtime needs a literal value")]
    IntrinsicNotAllowed { at: String, intrinsic: String },
    /// A resource or event property the local runtime would have to reproduce but does not.
    #[error("{at}: property {property} is not supported by the local runtime")]
    UnsupportedProperty { at: String, property: String },
    #[error("{at}: event type {event_type} is not supported by the local runtime")]
    UnsupportedEventType { at: String, event_type: String },
    /// The template is malformed at `at`.
    #[error("{at}: {message}")]
    Invalid { at: String, message: String },
}

/// Why an [`Expr`] could not be resolved against a set of [`Bindings`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("Ref {0} names no parameter, pseudo parameter or provisioned resource")]
    UnboundRef(String),
    #[error("GetAtt {resource}.{attribute} names no attribute of a provisioned resource")]
    UnboundAttribute { resource: String, attribute: String },
}

/// A template value that may still contain intrinsic functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A plain scalar; YAML numbers and booleans are kept in their string form.
    Literal(String),
    /// `!Ref Name` / `{"Ref": "Name"}`.
    Ref(String),
    /// `!GetAtt Resource.Attribute` / `{"Fn::GetAtt": [Resource, Attribute]}`.
    GetAtt { resource: String, attribute: String },
    /// `!Sub "..."` (string form), split into literal text and substitutions.
    Sub(Vec<SubPart>),
}

/// One piece of an `Fn::Sub` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubPart {
    Text(String),
    /// `${Name}`: a parameter, pseudo parameter or resource, as with `Ref`.
    Ref(String),
    /// `${Resource.Attribute}`, as with `GetAtt`.
    GetAtt {
        resource: String,
        attribute: String,
    },
}

/// Values for `Ref` and `GetAtt`: parameters, pseudo parameters and the
/// physical identities of provisioned resources.
#[derive(Debug, Clone, Default)]
pub struct Bindings {
    refs: BTreeMap<String, String>,
    attributes: BTreeMap<(String, String), String>,
}

impl Bindings {
    /// Binds what `Ref name` (and `${name}`) resolves to.
    pub fn bind_ref(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.refs.insert(name.into(), value.into());
    }

    /// Binds what `GetAtt resource.attribute` (and `${resource.attribute}`) resolves to.
    pub fn bind_attribute(
        &mut self,
        resource: impl Into<String>,
        attribute: impl Into<String>,
        value: impl Into<String>,
    ) {
        self.attributes
            .insert((resource.into(), attribute.into()), value.into());
    }

    fn reference(&self, name: &str) -> Result<&str, ResolveError> {
        self.refs
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| ResolveError::UnboundRef(name.to_owned()))
    }

    fn attribute(&self, resource: &str, attribute: &str) -> Result<&str, ResolveError> {
        self.attributes
            .get(&(resource.to_owned(), attribute.to_owned()))
            .map(String::as_str)
            .ok_or_else(|| ResolveError::UnboundAttribute {
                resource: resource.to_owned(),
                attribute: attribute.to_owned(),
            })
    }
}

impl Expr {
    /// Evaluates the expression; every reference in it must be bound.
    pub fn resolve(&self, bindings: &Bindings) -> Result<String, ResolveError> {
        match self {
            Expr::Literal(value) => Ok(value.clone()),
            Expr::Ref(name) => bindings.reference(name).map(str::to_owned),
            Expr::GetAtt {
                resource,
                attribute,
            } => bindings.attribute(resource, attribute).map(str::to_owned),
            Expr::Sub(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        SubPart::Text(text) => out.push_str(text),
                        SubPart::Ref(name) => out.push_str(bindings.reference(name)?),
                        SubPart::GetAtt {
                            resource,
                            attribute,
                        } => out.push_str(bindings.attribute(resource, attribute)?),
                    }
                }
                Ok(out)
            }
        }
    }

    /// The value when the expression is a plain literal.
    pub fn as_literal(&self) -> Option<&str> {
        match self {
            Expr::Literal(value) => Some(value),
            _ => None,
        }
    }
}

/// Short-form YAML, for error messages and logs.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Literal(value) => write!(f, "{value:?}"),
            Expr::Ref(name) => write!(f, "!Ref {name}"),
            Expr::GetAtt {
                resource,
                attribute,
            } => write!(f, "!GetAtt {resource}.{attribute}"),
            Expr::Sub(parts) => {
                let mut text = String::new();
                for part in parts {
                    match part {
                        // Re-escape literal `${` so the output reads back the same.
                        SubPart::Text(t) => text.push_str(&t.replace("${", "${!")),
                        SubPart::Ref(name) => {
                            text.push_str("${");
                            text.push_str(name);
                            text.push('}');
                        }
                        SubPart::GetAtt {
                            resource,
                            attribute,
                        } => {
                            text.push_str("${");
                            text.push_str(resource);
                            text.push('.');
                            text.push_str(attribute);
                            text.push('}');
                        }
                    }
                }
                write!(f, "!Sub {text:?}")
            }
        }
    }
}

/// A DynamoDB table (`AWS::DynamoDB::Table`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub logical_id: String,
    /// `TableName`, when the template fixes the physical name.
    pub name: Option<Expr>,
    pub key_schema: Vec<KeyElement>,
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    /// Attribute named by an enabled `TimeToLiveSpecification`.
    pub ttl_attribute: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyElement {
    pub attribute_name: String,
    pub key_type: KeyType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Hash,
    Range,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDefinition {
    pub attribute_name: String,
    pub attribute_type: AttributeType,
}

/// Key attribute types: DynamoDB's `S`, `N` and `B`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    String,
    Number,
    Binary,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalSecondaryIndex {
    pub index_name: String,
    pub key_schema: Vec<KeyElement>,
    pub projection: Projection,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

/// An SQS queue (`AWS::SQS::Queue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    pub logical_id: String,
    /// `QueueName`, when the template fixes the physical name.
    pub name: Option<Expr>,
    pub fifo: bool,
    /// The template's `VisibilityTimeout`, or SQS's default.
    pub visibility_timeout_secs: u32,
    /// Other SQS attributes, by SQS attribute name (`MessageRetentionPeriod`, ...).
    pub attributes: BTreeMap<String, String>,
    pub redrive: Option<Redrive>,
    pub redrive_allow: Option<RedriveAllow>,
}

/// A queue's `RedrivePolicy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    /// Logical id of the dead-letter queue, a queue of this template.
    pub dead_letter_queue: String,
    pub max_receive_count: u32,
}

/// A dead-letter queue's `RedriveAllowPolicy`: which queues may use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedriveAllow {
    AllowAll,
    DenyAll,
    /// Source queue ARNs, unresolved.
    ByQueue(Vec<Expr>),
}

/// An S3 bucket (`AWS::S3::Bucket`). Encryption, versioning and public access settings
/// have no local behaviour to emulate; only the name matters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSpec {
    pub logical_id: String,
    /// `BucketName`, when the template fixes the physical name.
    pub name: Option<Expr>,
}

/// A Cognito user pool (`AWS::Cognito::UserPool`) with the app clients
/// (`AWS::Cognito::UserPoolClient`) and groups (`AWS::Cognito::UserPoolGroup`) that name it:
/// the console's sign-in. Password policy, MFA and the like are left to the emulator's
/// defaults; the pool's id, its clients' ids and its groups are what the console uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPoolSpec {
    pub logical_id: String,
    pub clients: Vec<UserPoolClientSpec>,
    /// Group names.
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPoolClientSpec {
    pub logical_id: String,
    /// `ClientName`, else the logical id.
    pub name: String,
    /// `ExplicitAuthFlows`.
    pub auth_flows: Vec<String>,
}

/// A function (`AWS::Serverless::Function`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    pub logical_id: String,
    /// Cargo binary, from `Metadata.BuildProperties.Binary`.
    pub binary: String,
    /// The function's `Timeout`, else Globals', else SAM's default.
    pub timeout_secs: u32,
    /// Globals' variables overlaid with the function's own, unresolved.
    pub environment: BTreeMap<String, Expr>,
    pub events: Vec<EventSpec>,
}

/// A function's event source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSpec {
    Sqs {
        /// Logical id of the queue, a queue of this template.
        queue: String,
        batch_size: u32,
        max_batching_window_secs: u32,
        report_batch_item_failures: bool,
    },
    HttpApi {
        method: String,
        path: String,
    },
    Schedule {
        expression: String,
    },
}

/// A parsed SAM template.
#[derive(Debug, Clone)]
pub struct Template {
    /// Every declared parameter, with its default if it has one.
    parameters: BTreeMap<String, Option<String>>,
    tables: Vec<TableSpec>,
    queues: Vec<QueueSpec>,
    buckets: Vec<BucketSpec>,
    functions: Vec<FunctionSpec>,
    user_pools: Vec<UserPoolSpec>,
}

impl Template {
    pub fn from_path(path: &Path) -> Result<Template, TemplateError> {
        let yaml = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.to_owned(),
            source,
        })?;
        Template::from_str(&yaml)
    }

    // The name is the crate's public API; `FromStr` is implemented as well.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(yaml: &str) -> Result<Template, TemplateError> {
        let root: Value = serde_yaml::from_str(yaml)?;
        let root = mapping(&root, "template")?;

        let parameters = match root.get("Parameters") {
            Some(value) => parse_parameters(mapping(value, "Parameters")?)?,
            None => BTreeMap::new(),
        };
        let globals = parse_globals(root.get("Globals"))?;

        let resources = root
            .get("Resources")
            .ok_or_else(|| TemplateError::Invalid {
                at: "template".to_owned(),
                message: "has no Resources".to_owned(),
            })?;
        let resources = mapping(resources, "Resources")?;

        let mut tables = Vec::new();
        let mut queues = Vec::new();
        let mut buckets = Vec::new();
        let mut functions = Vec::new();
        let mut user_pools: Vec<UserPoolSpec> = Vec::new();
        // Clients and groups name their pool; they are attached once every pool is read.
        let mut pool_clients: Vec<(String, UserPoolClientSpec)> = Vec::new();
        let mut pool_groups: Vec<(String, String)> = Vec::new();
        for (id, resource) in resources {
            let id = key_string(id, "Resources")?;
            let at = format!("Resources.{id}");
            let resource = mapping(resource, &at)?;
            let resource_type = literal_string(required(resource, "Type", &at)?, &at)?;
            let empty = Mapping::new();
            let properties = match resource.get("Properties") {
                Some(value) => mapping(value, &format!("{at}.Properties"))?,
                None => &empty,
            };
            let props_at = format!("{at}.Properties");
            let modelled = matches!(
                resource_type.as_str(),
                "AWS::DynamoDB::Table"
                    | "AWS::SQS::Queue"
                    | "AWS::S3::Bucket"
                    | "AWS::Serverless::Function"
                    | "AWS::Cognito::UserPool"
                    | "AWS::Cognito::UserPoolClient"
                    | "AWS::Cognito::UserPoolGroup"
            );
            // Conditions are not evaluated: a conditional resource would be
            // provisioned whatever the condition says.
            if modelled && resource.get("Condition").is_some() {
                return Err(unsupported_property(&at, "Condition"));
            }
            // Other resource types (the HTTP API, roles, ...) have no local counterpart
            // to provision: the runtime serves routes from the functions' events.
            match resource_type.as_str() {
                "AWS::DynamoDB::Table" => tables.push(parse_table(&id, properties, &props_at)?),
                "AWS::SQS::Queue" => queues.push(parse_queue(&id, properties, &props_at)?),
                "AWS::S3::Bucket" => buckets.push(BucketSpec {
                    name: properties
                        .get("BucketName")
                        .map(|v| parse_expr(v, &format!("{props_at}.BucketName")))
                        .transpose()?,
                    logical_id: id.clone(),
                }),
                "AWS::Serverless::Function" => {
                    functions.push(parse_function(&id, resource, properties, &globals, &at)?)
                }
                "AWS::Cognito::UserPool" => user_pools.push(UserPoolSpec {
                    logical_id: id.clone(),
                    clients: Vec::new(),
                    groups: Vec::new(),
                }),
                "AWS::Cognito::UserPoolClient" => {
                    let pool = pool_ref(properties, &props_at)?;
                    let name = match properties.get("ClientName") {
                        Some(v) => literal_string(v, &format!("{props_at}.ClientName"))?,
                        None => id.clone(),
                    };
                    let auth_flows = match properties.get("ExplicitAuthFlows") {
                        Some(Value::Sequence(flows)) => flows
                            .iter()
                            .map(|f| literal_string(f, &format!("{props_at}.ExplicitAuthFlows")))
                            .collect::<Result<_, _>>()?,
                        Some(_) => {
                            return Err(TemplateError::Invalid {
                                at: format!("{props_at}.ExplicitAuthFlows"),
                                message: "is not a list".into(),
                            })
                        }
                        None => Vec::new(),
                    };
                    pool_clients.push((
                        pool,
                        UserPoolClientSpec {
                            logical_id: id.clone(),
                            name,
                            auth_flows,
                        },
                    ));
                }
                "AWS::Cognito::UserPoolGroup" => {
                    let pool = pool_ref(properties, &props_at)?;
                    let name = literal_string(
                        required(properties, "GroupName", &props_at)?,
                        &format!("{props_at}.GroupName"),
                    )?;
                    pool_groups.push((pool, name));
                }
                _ => {}
            }
        }
        for (pool, client) in pool_clients {
            let at = format!("Resources.{}", client.logical_id);
            find_pool(&mut user_pools, &pool, &at)?.clients.push(client);
        }
        for (pool, group) in pool_groups {
            find_pool(&mut user_pools, &pool, &format!("a group {group}"))?
                .groups
                .push(group);
        }

        let template = Template {
            parameters,
            tables,
            queues,
            buckets,
            functions,
            user_pools,
        };
        template.check_queue_references()?;
        Ok(template)
    }

    pub fn tables(&self) -> Vec<TableSpec> {
        self.tables.clone()
    }

    pub fn queues(&self) -> Vec<QueueSpec> {
        self.queues.clone()
    }

    pub fn buckets(&self) -> Vec<BucketSpec> {
        self.buckets.clone()
    }

    pub fn functions(&self) -> Vec<FunctionSpec> {
        self.functions.clone()
    }

    pub fn user_pools(&self) -> Vec<UserPoolSpec> {
        self.user_pools.clone()
    }

    /// Default value of every parameter that has one.
    pub fn parameter_defaults(&self) -> BTreeMap<String, String> {
        self.parameters
            .iter()
            .filter_map(|(name, default)| Some((name.clone(), default.clone()?)))
            .collect()
    }

    /// Every declared parameter, with its default if it has one.
    pub fn parameters(&self) -> &BTreeMap<String, Option<String>> {
        &self.parameters
    }

    /// Redrive targets and SQS event sources must be queues of this template:
    /// the local runtime can neither provision nor poll anything else.
    fn check_queue_references(&self) -> Result<(), TemplateError> {
        let is_queue = |id: &str| self.queues.iter().any(|q| q.logical_id == id);
        for queue in &self.queues {
            if let Some(redrive) = &queue.redrive {
                if !is_queue(&redrive.dead_letter_queue) {
                    return Err(TemplateError::Invalid {
                        at: format!("Resources.{}.Properties.RedrivePolicy", queue.logical_id),
                        message: format!(
                            "dead-letter queue {} is not an AWS::SQS::Queue of this template",
                            redrive.dead_letter_queue
                        ),
                    });
                }
            }
        }
        for function in &self.functions {
            for event in &function.events {
                if let EventSpec::Sqs { queue, .. } = event {
                    if !is_queue(queue) {
                        return Err(TemplateError::Invalid {
                            at: format!("Resources.{}.Properties.Events", function.logical_id),
                            message: format!(
                                "SQS event source {queue} is not an AWS::SQS::Queue of this template"
                            ),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for Template {
    type Err = TemplateError;

    fn from_str(yaml: &str) -> Result<Self, Self::Err> {
        Template::from_str(yaml)
    }
}

/// What `Globals.Function` contributes to every function.
#[derive(Debug, Default)]
struct FunctionGlobals {
    timeout_secs: Option<u32>,
    environment: BTreeMap<String, Expr>,
}

fn parse_globals(globals: Option<&Value>) -> Result<FunctionGlobals, TemplateError> {
    let Some(globals) = globals else {
        return Ok(FunctionGlobals::default());
    };
    let Some(function) = mapping(globals, "Globals")?.get("Function") else {
        return Ok(FunctionGlobals::default());
    };
    let at = "Globals.Function";
    let function = mapping(function, at)?;
    Ok(FunctionGlobals {
        timeout_secs: function
            .get("Timeout")
            .map(|t| literal_u32(t, &format!("{at}.Timeout")))
            .transpose()?,
        environment: parse_environment(function.get("Environment"), at)?,
    })
}

fn parse_parameters(
    parameters: &Mapping,
) -> Result<BTreeMap<String, Option<String>>, TemplateError> {
    let mut out = BTreeMap::new();
    for (name, declaration) in parameters {
        let name = key_string(name, "Parameters")?;
        let at = format!("Parameters.{name}");
        let default = mapping(declaration, &at)?
            .get("Default")
            .map(|d| literal_string(d, &format!("{at}.Default")))
            .transpose()?;
        out.insert(name, default);
    }
    Ok(out)
}

fn parse_table(id: &str, props: &Mapping, at: &str) -> Result<TableSpec, TemplateError> {
    let mut spec = TableSpec {
        logical_id: id.to_owned(),
        name: None,
        key_schema: Vec::new(),
        attribute_definitions: Vec::new(),
        global_secondary_indexes: Vec::new(),
        ttl_attribute: None,
    };
    for (key, value) in props {
        let key = key_string(key, at)?;
        let at = format!("{at}.{key}");
        match key.as_str() {
            "TableName" => spec.name = Some(parse_expr(value, &at)?),
            "KeySchema" => spec.key_schema = parse_key_schema(value, &at)?,
            "AttributeDefinitions" => {
                for (i, definition) in sequence(value, &at)?.iter().enumerate() {
                    let at = format!("{at}[{i}]");
                    let definition = mapping(definition, &at)?;
                    let name = required(definition, "AttributeName", &at)?;
                    let attribute_type = required(definition, "AttributeType", &at)?;
                    spec.attribute_definitions.push(AttributeDefinition {
                        attribute_name: literal_string(name, &at)?,
                        attribute_type: match literal_string(attribute_type, &at)?.as_str() {
                            "S" => AttributeType::String,
                            "N" => AttributeType::Number,
                            "B" => AttributeType::Binary,
                            other => {
                                return Err(invalid(&at, format!("unknown AttributeType {other}")))
                            }
                        },
                    });
                }
            }
            "GlobalSecondaryIndexes" => {
                for (i, index) in sequence(value, &at)?.iter().enumerate() {
                    spec.global_secondary_indexes
                        .push(parse_index(index, &format!("{at}[{i}]"))?);
                }
            }
            "TimeToLiveSpecification" => {
                let ttl = mapping(value, &at)?;
                let enabled = literal_bool(required(ttl, "Enabled", &at)?, &at)?;
                if enabled {
                    let attribute = required(ttl, "AttributeName", &at)?;
                    spec.ttl_attribute = Some(literal_string(attribute, &at)?);
                }
            }
            ignored if IGNORED_TABLE_PROPERTIES.contains(&ignored) => {}
            other => return Err(unsupported_property(at_parent(&at), other)),
        }
    }
    if spec.key_schema.is_empty() {
        return Err(invalid(at, "table has no KeySchema"));
    }
    Ok(spec)
}

fn parse_index(value: &Value, at: &str) -> Result<GlobalSecondaryIndex, TemplateError> {
    let index = mapping(value, at)?;
    let mut index_name = None;
    let mut key_schema = None;
    let mut projection = None;
    for (key, value) in index {
        let key = key_string(key, at)?;
        let at = format!("{at}.{key}");
        match key.as_str() {
            "IndexName" => index_name = Some(literal_string(value, &at)?),
            "KeySchema" => key_schema = Some(parse_key_schema(value, &at)?),
            "Projection" => projection = Some(parse_projection(value, &at)?),
            ignored if IGNORED_INDEX_PROPERTIES.contains(&ignored) => {}
            other => return Err(unsupported_property(at_parent(&at), other)),
        }
    }
    Ok(GlobalSecondaryIndex {
        index_name: index_name.ok_or_else(|| invalid(at, "index has no IndexName"))?,
        key_schema: key_schema.ok_or_else(|| invalid(at, "index has no KeySchema"))?,
        projection: projection.ok_or_else(|| invalid(at, "index has no Projection"))?,
    })
}

fn parse_projection(value: &Value, at: &str) -> Result<Projection, TemplateError> {
    let projection = mapping(value, at)?;
    let projection_type = match projection.get("ProjectionType") {
        Some(t) => literal_string(t, at)?,
        // DynamoDB's default.
        None => "KEYS_ONLY".to_owned(),
    };
    match projection_type.as_str() {
        "ALL" => Ok(Projection::All),
        "KEYS_ONLY" => Ok(Projection::KeysOnly),
        "INCLUDE" => {
            let attributes = required(projection, "NonKeyAttributes", at)?;
            let attributes = sequence(attributes, at)?
                .iter()
                .map(|a| literal_string(a, at))
                .collect::<Result<_, _>>()?;
            Ok(Projection::Include(attributes))
        }
        other => Err(invalid(at, format!("unknown ProjectionType {other}"))),
    }
}

fn parse_key_schema(value: &Value, at: &str) -> Result<Vec<KeyElement>, TemplateError> {
    sequence(value, at)?
        .iter()
        .enumerate()
        .map(|(i, element)| {
            let at = format!("{at}[{i}]");
            let element = mapping(element, &at)?;
            let name = required(element, "AttributeName", &at)?;
            let key_type = required(element, "KeyType", &at)?;
            Ok(KeyElement {
                attribute_name: literal_string(name, &at)?,
                key_type: match literal_string(key_type, &at)?.as_str() {
                    "HASH" => KeyType::Hash,
                    "RANGE" => KeyType::Range,
                    other => return Err(invalid(&at, format!("unknown KeyType {other}"))),
                },
            })
        })
        .collect()
}

fn parse_queue(id: &str, props: &Mapping, at: &str) -> Result<QueueSpec, TemplateError> {
    let mut spec = QueueSpec {
        logical_id: id.to_owned(),
        name: None,
        fifo: false,
        visibility_timeout_secs: SQS_DEFAULT_VISIBILITY_TIMEOUT_SECS,
        attributes: BTreeMap::new(),
        redrive: None,
        redrive_allow: None,
    };
    for (key, value) in props {
        let key = key_string(key, at)?;
        let at = format!("{at}.{key}");
        match key.as_str() {
            "QueueName" => spec.name = Some(parse_expr(value, &at)?),
            "FifoQueue" => spec.fifo = literal_bool(value, &at)?,
            "VisibilityTimeout" => spec.visibility_timeout_secs = literal_u32(value, &at)?,
            "RedrivePolicy" => spec.redrive = Some(parse_redrive(value, &at)?),
            "RedriveAllowPolicy" => spec.redrive_allow = Some(parse_redrive_allow(value, &at)?),
            // Tags have no behaviour.
            "Tags" => {}
            attribute if PASS_THROUGH_QUEUE_ATTRIBUTES.contains(&attribute) => {
                spec.attributes
                    .insert(attribute.to_owned(), literal_string(value, &at)?);
            }
            other => return Err(unsupported_property(at_parent(&at), other)),
        }
    }
    Ok(spec)
}

fn parse_redrive(value: &Value, at: &str) -> Result<Redrive, TemplateError> {
    // CloudFormation also accepts the policy as a JSON string, which cannot
    // reference the dead-letter queue through GetAtt: not supported.
    let policy = mapping(value, at)?;
    let mut dead_letter_queue = None;
    let mut max_receive_count = None;
    for (key, value) in policy {
        let key = key_string(key, at)?;
        let at = format!("{at}.{key}");
        match key.as_str() {
            "deadLetterTargetArn" => match parse_expr(value, &at)? {
                Expr::GetAtt {
                    resource,
                    attribute,
                } if attribute == "Arn" => dead_letter_queue = Some(resource),
                other => {
                    return Err(invalid(
                        &at,
                        format!(
                        "expected !GetAtt <Queue>.Arn of a queue in this template, found {other}"
                    ),
                    ))
                }
            },
            "maxReceiveCount" => max_receive_count = Some(literal_u32(value, &at)?),
            other => return Err(unsupported_property(at_parent(&at), other)),
        }
    }
    let max_receive_count =
        max_receive_count.ok_or_else(|| invalid(at, "RedrivePolicy has no maxReceiveCount"))?;
    if max_receive_count == 0 {
        return Err(invalid(at, "maxReceiveCount must be at least 1"));
    }
    Ok(Redrive {
        dead_letter_queue: dead_letter_queue
            .ok_or_else(|| invalid(at, "RedrivePolicy has no deadLetterTargetArn"))?,
        max_receive_count,
    })
}

fn parse_redrive_allow(value: &Value, at: &str) -> Result<RedriveAllow, TemplateError> {
    let policy = mapping(value, at)?;
    let permission = literal_string(required(policy, "redrivePermission", at)?, at)?;
    match permission.as_str() {
        "allowAll" => Ok(RedriveAllow::AllowAll),
        "denyAll" => Ok(RedriveAllow::DenyAll),
        "byQueue" => {
            let at = format!("{at}.sourceQueueArns");
            let sources = required(policy, "sourceQueueArns", at_parent(&at))?;
            let sources = sequence(sources, &at)?
                .iter()
                .enumerate()
                .map(|(i, arn)| parse_expr(arn, &format!("{at}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            if sources.is_empty() {
                return Err(invalid(&at, "byQueue needs at least one source queue"));
            }
            Ok(RedriveAllow::ByQueue(sources))
        }
        other => Err(invalid(at, format!("unknown redrivePermission {other}"))),
    }
}

fn parse_function(
    id: &str,
    resource: &Mapping,
    props: &Mapping,
    globals: &FunctionGlobals,
    at: &str,
) -> Result<FunctionSpec, TemplateError> {
    let binary = resource
        .get("Metadata")
        .map(|m| mapping(m, &format!("{at}.Metadata")))
        .transpose()?
        .and_then(|m| m.get("BuildProperties"))
        .map(|b| mapping(b, &format!("{at}.Metadata.BuildProperties")))
        .transpose()?
        .and_then(|b| b.get("Binary"))
        .ok_or_else(|| {
            invalid(
                at,
                "has no Metadata.BuildProperties.Binary, which names the binary the local runtime runs",
            )
        })?;
    let binary = literal_string(binary, &format!("{at}.Metadata.BuildProperties.Binary"))?;

    let props_at = format!("{at}.Properties");
    let timeout_secs = match props.get("Timeout") {
        Some(t) => literal_u32(t, &format!("{props_at}.Timeout"))?,
        None => globals.timeout_secs.unwrap_or(SAM_DEFAULT_TIMEOUT_SECS),
    };

    // SAM merges Globals' variables with the function's, the function winning.
    let mut environment = globals.environment.clone();
    environment.extend(parse_environment(props.get("Environment"), &props_at)?);

    let mut events = Vec::new();
    if let Some(declared) = props.get("Events") {
        let events_at = format!("{props_at}.Events");
        for (name, event) in mapping(declared, &events_at)? {
            let name = key_string(name, &events_at)?;
            events.push(parse_event(event, &format!("{events_at}.{name}"))?);
        }
    }

    // Everything else (code location, runtime, IAM policies, tracing, ...) only
    // shapes a real deployment; the local runtime runs the binary in-process.
    Ok(FunctionSpec {
        logical_id: id.to_owned(),
        binary,
        timeout_secs,
        environment,
        events,
    })
}

fn parse_environment(
    environment: Option<&Value>,
    at: &str,
) -> Result<BTreeMap<String, Expr>, TemplateError> {
    let Some(environment) = environment else {
        return Ok(BTreeMap::new());
    };
    let at = format!("{at}.Environment");
    let environment = mapping(environment, &at)?;
    let mut out = BTreeMap::new();
    for (key, value) in environment {
        let key = key_string(key, &at)?;
        if key != "Variables" {
            return Err(unsupported_property(&at, &key));
        }
        let at = format!("{at}.Variables");
        for (name, value) in mapping(value, &at)? {
            let name = key_string(name, &at)?;
            let expr = parse_expr(value, &format!("{at}.{name}"))?;
            out.insert(name, expr);
        }
    }
    Ok(out)
}

fn parse_event(event: &Value, at: &str) -> Result<EventSpec, TemplateError> {
    let event = mapping(event, at)?;
    let event_type = literal_string(required(event, "Type", at)?, at)?;
    let props_at = format!("{at}.Properties");
    let empty = Mapping::new();
    let props = match event.get("Properties") {
        Some(p) => mapping(p, &props_at)?,
        None => &empty,
    };
    match event_type.as_str() {
        "SQS" => parse_sqs_event(props, &props_at),
        "HttpApi" => {
            let mut method = None;
            let mut path = None;
            for (key, value) in props {
                let key = key_string(key, &props_at)?;
                let at = format!("{props_at}.{key}");
                match key.as_str() {
                    "Method" => method = Some(literal_string(value, &at)?),
                    "Path" => path = Some(literal_string(value, &at)?),
                    // The local runtime serves every route on one listener.
                    "ApiId" => {}
                    other => return Err(unsupported_property(&props_at, other)),
                }
            }
            Ok(EventSpec::HttpApi {
                method: method.ok_or_else(|| invalid(&props_at, "HttpApi event has no Method"))?,
                path: path.ok_or_else(|| invalid(&props_at, "HttpApi event has no Path"))?,
            })
        }
        "Schedule" => {
            let mut expression = None;
            for (key, value) in props {
                let key = key_string(key, &props_at)?;
                let at = format!("{props_at}.{key}");
                match key.as_str() {
                    "Schedule" => expression = Some(literal_string(value, &at)?),
                    "Name" | "Description" => {}
                    other => return Err(unsupported_property(&props_at, other)),
                }
            }
            Ok(EventSpec::Schedule {
                expression: expression
                    .ok_or_else(|| invalid(&props_at, "Schedule event has no Schedule"))?,
            })
        }
        other => Err(TemplateError::UnsupportedEventType {
            at: at.to_owned(),
            event_type: other.to_owned(),
        }),
    }
}

fn parse_sqs_event(props: &Mapping, at: &str) -> Result<EventSpec, TemplateError> {
    let mut queue = None;
    let mut batch_size = SQS_EVENT_DEFAULT_BATCH_SIZE;
    let mut max_batching_window_secs = 0;
    let mut report_batch_item_failures = false;
    for (key, value) in props {
        let key = key_string(key, at)?;
        let field_at = format!("{at}.{key}");
        match key.as_str() {
            "Queue" => match parse_expr(value, &field_at)? {
                Expr::GetAtt {
                    resource,
                    attribute,
                } if attribute == "Arn" => queue = Some(resource),
                other => {
                    return Err(invalid(
                        &field_at,
                        format!(
                        "expected !GetAtt <Queue>.Arn of a queue in this template, found {other}"
                    ),
                    ))
                }
            },
            "BatchSize" => batch_size = literal_u32(value, &field_at)?,
            "MaximumBatchingWindowInSeconds" => {
                max_batching_window_secs = literal_u32(value, &field_at)?
            }
            "FunctionResponseTypes" => {
                for response_type in sequence(value, &field_at)? {
                    match literal_string(response_type, &field_at)?.as_str() {
                        "ReportBatchItemFailures" => report_batch_item_failures = true,
                        other => {
                            return Err(invalid(
                                &field_at,
                                format!("unknown function response type {other}"),
                            ))
                        }
                    }
                }
            }
            // Caps concurrency only; the local poller runs one batch at a time anyway.
            "ScalingConfig" => {}
            other => return Err(unsupported_property(at, other)),
        }
    }
    Ok(EventSpec::Sqs {
        queue: queue.ok_or_else(|| invalid(at, "SQS event has no Queue"))?,
        batch_size,
        max_batching_window_secs,
        report_batch_item_failures,
    })
}

// ------------------------------------------------------------ intrinsics

/// Parses a value that may be a scalar or one of the supported intrinsics.
fn parse_expr(value: &Value, at: &str) -> Result<Expr, TemplateError> {
    match value {
        Value::String(s) => Ok(Expr::Literal(s.clone())),
        Value::Number(n) => Ok(Expr::Literal(n.to_string())),
        Value::Bool(b) => Ok(Expr::Literal(b.to_string())),
        Value::Tagged(tagged) => {
            let name = long_intrinsic_name(&tagged.tag);
            parse_intrinsic(&name, &tagged.value, at)
        }
        Value::Mapping(map) => match long_form_intrinsic(map) {
            Some((name, argument)) => parse_intrinsic(name, argument, at),
            None => Err(invalid(
                at,
                "expected a scalar or an intrinsic function, found a mapping",
            )),
        },
        Value::Sequence(_) => Err(invalid(
            at,
            "expected a scalar or an intrinsic function, found a list",
        )),
        Value::Null => Err(invalid(
            at,
            "expected a scalar or an intrinsic function, found null",
        )),
    }
}

fn parse_intrinsic(name: &str, argument: &Value, at: &str) -> Result<Expr, TemplateError> {
    match name {
        "Ref" => match argument {
            Value::String(target) => Ok(Expr::Ref(target.clone())),
            _ => Err(invalid(at, "Ref takes the name of a parameter or resource")),
        },
        "Fn::GetAtt" => {
            let (resource, attribute) = match argument {
                // CloudFormation splits the short form at the first dot.
                Value::String(s) => s
                    .split_once('.')
                    .map(|(r, a)| (r.to_owned(), a.to_owned()))
                    .ok_or_else(|| {
                        invalid(at, format!("Fn::GetAtt {s:?} is not Resource.Attribute"))
                    })?,
                Value::Sequence(items) => match items.as_slice() {
                    [Value::String(r), Value::String(a)] => (r.clone(), a.clone()),
                    _ => {
                        return Err(invalid(
                            at,
                            "Fn::GetAtt takes [Resource, Attribute] as two strings",
                        ))
                    }
                },
                _ => {
                    return Err(invalid(
                        at,
                        "Fn::GetAtt takes Resource.Attribute or [Resource, Attribute]",
                    ))
                }
            };
            if resource.is_empty() || attribute.is_empty() {
                return Err(invalid(
                    at,
                    "Fn::GetAtt has an empty resource or attribute name",
                ));
            }
            Ok(Expr::GetAtt {
                resource,
                attribute,
            })
        }
        "Fn::Sub" => match argument {
            Value::String(s) => Ok(Expr::Sub(parse_sub(s, at)?)),
            Value::Sequence(_) => Err(TemplateError::UnsupportedIntrinsic {
                at: at.to_owned(),
                intrinsic: "Fn::Sub with a variable map (only the string form is supported)"
                    .to_owned(),
            }),
            _ => Err(invalid(at, "Fn::Sub takes a string")),
        },
        other => Err(TemplateError::UnsupportedIntrinsic {
            at: at.to_owned(),
            intrinsic: other.to_owned(),
        }),
    }
}

/// Splits an `Fn::Sub` string into text and `${...}` substitutions.
fn parse_sub(template: &str, at: &str) -> Result<Vec<SubPart>, TemplateError> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        text.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        // `${!Literal}` is CloudFormation's escape for a literal `${Literal}`.
        if let Some(escaped) = after.strip_prefix('!') {
            text.push_str("${");
            rest = escaped;
            continue;
        }
        let end = after
            .find('}')
            .ok_or_else(|| invalid(at, format!("Fn::Sub {template:?} has an unterminated ${{")))?;
        let variable = &after[..end];
        if variable.is_empty() {
            return Err(invalid(
                at,
                format!("Fn::Sub {template:?} has an empty ${{}}"),
            ));
        }
        if !text.is_empty() {
            parts.push(SubPart::Text(std::mem::take(&mut text)));
        }
        parts.push(match variable.split_once('.') {
            Some((resource, attribute)) => SubPart::GetAtt {
                resource: resource.to_owned(),
                attribute: attribute.to_owned(),
            },
            None => SubPart::Ref(variable.to_owned()),
        });
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(SubPart::Text(text));
    }
    Ok(parts)
}

/// `!GetAtt` is `Fn::GetAtt`; `!Ref` and `!Condition` have no `Fn::` prefix.
fn long_intrinsic_name(tag: &serde_yaml::value::Tag) -> String {
    let tag = tag.to_string();
    let name = tag.strip_prefix('!').unwrap_or(&tag);
    match name {
        "Ref" | "Condition" => name.to_owned(),
        _ => format!("Fn::{name}"),
    }
}

/// `{"Ref": ...}` or `{"Fn::Name": ...}`: a mapping with a single such key.
fn long_form_intrinsic(map: &Mapping) -> Option<(&str, &Value)> {
    if map.len() != 1 {
        return None;
    }
    let (key, value) = map.iter().next()?;
    match key {
        Value::String(name) if name == "Ref" || name.starts_with("Fn::") => Some((name, value)),
        _ => None,
    }
}

// ------------------------------------------------------------ strict accessors

/// A client's or group's `UserPoolId`: `!Ref` of a pool of this template.
fn pool_ref(properties: &Mapping, at: &str) -> Result<String, TemplateError> {
    let at = format!("{at}.UserPoolId");
    match parse_expr(required(properties, "UserPoolId", &at)?, &at)? {
        Expr::Ref(pool) => Ok(pool),
        _ => Err(TemplateError::Invalid {
            at,
            message: "is not !Ref of a user pool of this template".into(),
        }),
    }
}

fn find_pool<'a>(
    pools: &'a mut [UserPoolSpec],
    logical_id: &str,
    at: &str,
) -> Result<&'a mut UserPoolSpec, TemplateError> {
    pools
        .iter_mut()
        .find(|p| p.logical_id == logical_id)
        .ok_or_else(|| TemplateError::Invalid {
            at: at.to_owned(),
            message: format!("{logical_id} is not an AWS::Cognito::UserPool of this template"),
        })
}

fn mapping<'a>(value: &'a Value, at: &str) -> Result<&'a Mapping, TemplateError> {
    match value {
        Value::Mapping(map) if long_form_intrinsic(map).is_none() => Ok(map),
        other => Err(literal_error(other, at, "a mapping")),
    }
}

fn sequence<'a>(value: &'a Value, at: &str) -> Result<&'a [Value], TemplateError> {
    match value {
        Value::Sequence(items) => Ok(items),
        other => Err(literal_error(other, at, "a list")),
    }
}

fn literal_string(value: &Value, at: &str) -> Result<String, TemplateError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(literal_error(other, at, "a scalar")),
    }
}

fn literal_u32(value: &Value, at: &str) -> Result<u32, TemplateError> {
    let text = literal_string(value, at)?;
    text.parse().map_err(|_| {
        invalid(
            at,
            format!("expected a non-negative integer, found {text:?}"),
        )
    })
}

fn literal_bool(value: &Value, at: &str) -> Result<bool, TemplateError> {
    match literal_string(value, at)?.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(invalid(
            at,
            format!("expected true or false, found {other:?}"),
        )),
    }
}

/// The error for a value of the wrong shape; intrinsics get a dedicated one.
fn literal_error(value: &Value, at: &str, expected: &str) -> TemplateError {
    let intrinsic = match value {
        Value::Tagged(tagged) => Some(long_intrinsic_name(&tagged.tag)),
        Value::Mapping(map) => long_form_intrinsic(map).map(|(name, _)| name.to_owned()),
        _ => None,
    };
    match intrinsic {
        Some(intrinsic) => TemplateError::IntrinsicNotAllowed {
            at: at.to_owned(),
            intrinsic,
        },
        None => invalid(at, format!("expected {expected}")),
    }
}

fn key_string(key: &Value, at: &str) -> Result<String, TemplateError> {
    match key {
        Value::String(s) => Ok(s.clone()),
        _ => Err(invalid(at, "keys must be strings")),
    }
}

fn required<'a>(map: &'a Mapping, key: &str, at: &str) -> Result<&'a Value, TemplateError> {
    map.get(key)
        .ok_or_else(|| invalid(at, format!("missing required property {key}")))
}

fn invalid(at: &str, message: impl Into<String>) -> TemplateError {
    TemplateError::Invalid {
        at: at.to_owned(),
        message: message.into(),
    }
}

fn unsupported_property(at: &str, property: &str) -> TemplateError {
    TemplateError::UnsupportedProperty {
        at: at.to_owned(),
        property: property.to_owned(),
    }
}

/// `a.b.c` -> `a.b`: the location that holds the property named by the last segment.
fn at_parent(at: &str) -> &str {
    at.rsplit_once('.').map_or(at, |(parent, _)| parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(yaml: &str) -> BTreeMap<String, Expr> {
        let template = Template::from_str(yaml).expect("template parses");
        template.functions()[0].environment.clone()
    }

    fn function_with_env(variables: &str) -> String {
        format!(
            "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildProperties:\n        Binary: fn\n    Properties:\n      Environment:\n        Variables:\n{variables}"
        )
    }

    fn bindings() -> Bindings {
        let mut b = Bindings::default();
        b.bind_ref("AWS::Region", "eu-west-1");
        b.bind_ref("AWS::AccountId", "123456789012");
        b.bind_ref("AWS::Partition", "aws");
        b.bind_ref("AWS::URLSuffix", "amazonaws.com");
        b.bind_ref("Prefix", "cb/");
        b.bind_ref("Queue", "http://localhost/q");
        b.bind_attribute("Queue", "Arn", "arn:aws:sqs:eu-west-1:123456789012:q");
        b
    }

    #[test]
    fn short_form_intrinsics() {
        let env = env_of(&function_with_env(
            "          A: !Ref Prefix\n          B: !GetAtt Queue.Arn\n          C: !GetAtt [Queue, Arn]\n          D: plain\n          E: 42\n",
        ));
        assert_eq!(env["A"], Expr::Ref("Prefix".into()));
        let get_att = Expr::GetAtt {
            resource: "Queue".into(),
            attribute: "Arn".into(),
        };
        assert_eq!(env["B"], get_att);
        assert_eq!(env["C"], get_att);
        assert_eq!(env["D"], Expr::Literal("plain".into()));
        assert_eq!(env["E"], Expr::Literal("42".into()));
    }

    #[test]
    fn long_form_intrinsics() {
        let env = env_of(&function_with_env(
            "          A: {Ref: Prefix}\n          B: {\"Fn::GetAtt\": [Queue, Arn]}\n          C: {\"Fn::GetAtt\": Queue.Arn}\n          D: {\"Fn::Sub\": \"${Prefix}x\"}\n",
        ));
        assert_eq!(env["A"], Expr::Ref("Prefix".into()));
        assert_eq!(env["B"], env["C"]);
        assert_eq!(env["D"].resolve(&bindings()).as_deref(), Ok("cb/x"));
    }

    #[test]
    fn sub_resolves_refs_attributes_pseudo_parameters_and_escapes() {
        let env = env_of(&function_with_env(concat!(
            "          S: !Sub \"arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${Prefix}*\"\n",
            "          U: !Sub \"https://api.execute-api.${AWS::Region}.${AWS::URLSuffix}/x\"\n",
            "          Q: !Sub \"${Queue.Arn}|${Queue}\"\n",
            "          L: !Sub \"${!Literal}-${Prefix}\"\n",
        )));
        let b = bindings();
        assert_eq!(
            env["S"].resolve(&b).as_deref(),
            Ok("arn:aws:secretsmanager:eu-west-1:123456789012:secret:cb/*")
        );
        assert_eq!(
            env["U"].resolve(&b).as_deref(),
            Ok("https://api.execute-api.eu-west-1.amazonaws.com/x")
        );
        assert_eq!(
            env["Q"].resolve(&b).as_deref(),
            Ok("arn:aws:sqs:eu-west-1:123456789012:q|http://localhost/q")
        );
        assert_eq!(env["L"].resolve(&b).as_deref(), Ok("${Literal}-cb/"));
        assert_eq!(env["L"].to_string(), "!Sub \"${!Literal}-${Prefix}\"");
    }

    #[test]
    fn unbound_references_are_errors() {
        let b = bindings();
        assert_eq!(
            Expr::Ref("Nope".into()).resolve(&b),
            Err(ResolveError::UnboundRef("Nope".into()))
        );
        assert_eq!(
            Expr::Sub(vec![SubPart::GetAtt {
                resource: "Queue".into(),
                attribute: "QueueName".into(),
            }])
            .resolve(&b),
            Err(ResolveError::UnboundAttribute {
                resource: "Queue".into(),
                attribute: "QueueName".into(),
            })
        );
    }

    #[test]
    fn unsupported_intrinsic_is_named() {
        for (yaml, expected) in [
            ("          A: !Join [\"\", [a, b]]\n", "Fn::Join"),
            ("          A: {\"Fn::If\": [c, a, b]}\n", "Fn::If"),
            ("          A: !FindInMap [M, k, v]\n", "Fn::FindInMap"),
        ] {
            match Template::from_str(&function_with_env(yaml)) {
                Err(TemplateError::UnsupportedIntrinsic { at, intrinsic }) => {
                    assert_eq!(intrinsic, expected);
                    assert_eq!(at, "Resources.Fn.Properties.Environment.Variables.A");
                }
                other => panic!("expected UnsupportedIntrinsic for {yaml}, got {other:?}"),
            }
        }
        match Template::from_str(&function_with_env("          A: !Sub [\"${x}\", {x: 1}]\n")) {
            Err(TemplateError::UnsupportedIntrinsic { intrinsic, .. }) => {
                assert!(intrinsic.starts_with("Fn::Sub"), "{intrinsic}")
            }
            other => panic!("expected UnsupportedIntrinsic, got {other:?}"),
        }
    }

    #[test]
    fn intrinsic_where_a_literal_is_needed_is_an_error() {
        let yaml = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      VisibilityTimeout: !Ref Vis\n";
        match Template::from_str(yaml) {
            Err(TemplateError::IntrinsicNotAllowed { at, intrinsic }) => {
                assert_eq!(at, "Resources.Q.Properties.VisibilityTimeout");
                assert_eq!(intrinsic, "Ref");
            }
            other => panic!("expected IntrinsicNotAllowed, got {other:?}"),
        }
    }

    #[test]
    fn malformed_sub_is_an_error() {
        let result = Template::from_str(&function_with_env("          A: !Sub \"${Unclosed\"\n"));
        assert!(
            matches!(result, Err(TemplateError::Invalid { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn tables_queues_functions_and_globals() {
        let yaml = r#"
Parameters:
  Level: {Type: String, Default: info}
  Required: {Type: String}
Globals:
  Function:
    Timeout: 30
    Environment:
      Variables:
        SHARED: !Ref Level
        OVERRIDDEN: global
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: gk, AttributeType: N}
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      GlobalSecondaryIndexes:
        - IndexName: by_g
          KeySchema: [{AttributeName: gk, KeyType: HASH}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [a]}
      TimeToLiveSpecification: {AttributeName: expires_at, Enabled: true}
  Main:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      VisibilityTimeout: 180
      MessageRetentionPeriod: 345600
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 5}
  Dlq:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      RedriveAllowPolicy:
        redrivePermission: byQueue
        sourceQueueArns: [!Sub "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:main"]
  Api:
    Type: AWS::Serverless::HttpApi
  Worker:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: worker}}
    Properties:
      Timeout: 10
      Environment: {Variables: {OVERRIDDEN: own}}
      Events:
        Q:
          Type: SQS
          Properties:
            Queue: !GetAtt Main.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
        Web: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: "/x/{id}", Method: POST}}
        Cron: {Type: Schedule, Properties: {Schedule: rate(1 day)}}
  Plain:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: plain}}
"#;
        let template = Template::from_str(yaml).expect("template parses");

        assert_eq!(
            template.parameter_defaults(),
            BTreeMap::from([("Level".to_owned(), "info".to_owned())])
        );
        assert_eq!(template.parameters().get("Required"), Some(&None));

        let [table] = template.tables().try_into().expect("one table");
        assert_eq!(table.key_schema.len(), 1);
        assert_eq!(
            table.attribute_definitions[1].attribute_type,
            AttributeType::Number
        );
        assert_eq!(table.global_secondary_indexes[0].index_name, "by_g");
        assert_eq!(
            table.global_secondary_indexes[0].projection,
            Projection::Include(vec!["a".into()])
        );
        assert_eq!(table.ttl_attribute.as_deref(), Some("expires_at"));

        let queues = template.queues();
        let main = &queues[0];
        assert!(main.fifo);
        assert_eq!(main.visibility_timeout_secs, 180);
        assert_eq!(main.attributes["MessageRetentionPeriod"], "345600");
        assert_eq!(
            main.redrive,
            Some(Redrive {
                dead_letter_queue: "Dlq".into(),
                max_receive_count: 5
            })
        );
        assert_eq!(
            queues[1].visibility_timeout_secs,
            SQS_DEFAULT_VISIBILITY_TIMEOUT_SECS
        );
        assert!(
            matches!(&queues[1].redrive_allow, Some(RedriveAllow::ByQueue(arns)) if arns.len() == 1)
        );

        let functions = template.functions();
        let worker = &functions[0];
        assert_eq!(worker.binary, "worker");
        assert_eq!(worker.timeout_secs, 10);
        assert_eq!(worker.environment["SHARED"], Expr::Ref("Level".into()));
        assert_eq!(
            worker.environment["OVERRIDDEN"],
            Expr::Literal("own".into())
        );
        assert_eq!(
            worker.events,
            vec![
                EventSpec::Sqs {
                    queue: "Main".into(),
                    batch_size: 5,
                    max_batching_window_secs: 0,
                    report_batch_item_failures: true
                },
                EventSpec::HttpApi {
                    method: "POST".into(),
                    path: "/x/{id}".into()
                },
                EventSpec::Schedule {
                    expression: "rate(1 day)".into()
                },
            ]
        );
        assert_eq!(functions[1].timeout_secs, 30, "Globals timeout applies");
        assert_eq!(
            functions[1].environment["OVERRIDDEN"],
            Expr::Literal("global".into())
        );
    }

    #[test]
    fn references_to_queues_outside_the_template_are_errors() {
        let yaml = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      RedrivePolicy: {deadLetterTargetArn: !GetAtt Missing.Arn, maxReceiveCount: 1}\n";
        assert!(matches!(
            Template::from_str(yaml),
            Err(TemplateError::Invalid { .. })
        ));
    }

    #[test]
    fn unmodelled_properties_and_events_are_errors() {
        let yaml = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      KeySchema: [{AttributeName: pk, KeyType: HASH}]\n      StreamSpecification: {StreamViewType: NEW_IMAGE}\n";
        match Template::from_str(yaml) {
            Err(TemplateError::UnsupportedProperty { at, property }) => {
                assert_eq!(at, "Resources.T.Properties");
                assert_eq!(property, "StreamSpecification");
            }
            other => panic!("expected UnsupportedProperty, got {other:?}"),
        }
        let yaml = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Condition: IsProd\n";
        assert!(matches!(
            Template::from_str(yaml),
            Err(TemplateError::UnsupportedProperty { property, .. }) if property == "Condition"
        ));
        let yaml = "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata: {BuildProperties: {Binary: f}}\n    Properties:\n      Events:\n        S3: {Type: S3, Properties: {}}\n";
        assert!(matches!(
            Template::from_str(yaml),
            Err(TemplateError::UnsupportedEventType { event_type, .. }) if event_type == "S3"
        ));
    }
}
