//! DynamoDB tables: on-demand, encrypted, point-in-time recovery on, retained or deleted with
//! the environment.

use super::ConstructError;
use super::function::Function;
use super::iam::Statement;
use crate::cfn::dynamodb;
use crate::cfn::dynamodb::table as t;
use crate::template::{Accepted, Attributes, Expr, Handle, Stack};
use serde_json::json;

/// The type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    String,
    Number,
}

impl KeyType {
    fn attribute(self) -> t::AttributeType {
        match self {
            Self::String => t::AttributeType::S,
            Self::Number => t::AttributeType::N,
        }
    }
}

/// A global secondary index. It inherits the table's on-demand billing: an index has no
/// `BillingMode` of its own (seed 003's mistake, rule L17).
#[derive(Debug, Clone, PartialEq)]
pub struct Gsi {
    pub name: String,
    pub partition_key: (String, KeyType),
    pub sort_key: Option<(String, KeyType)>,
}

/// Settings of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub struct TableProps {
    /// Physical name suffix: the table is `<prefix>-<name>`. Changing it replaces the table.
    pub name: String,
    /// Changing it replaces the table.
    pub partition_key: (String, KeyType),
    /// Changing it replaces the table.
    pub sort_key: Option<(String, KeyType)>,
    pub indexes: Vec<Gsi>,
    /// A stream of changes (`NEW_AND_OLD_IMAGES` when `Some`).
    pub stream: Option<t::StreamViewType>,
    pub ttl_attribute: Option<String>,
}

impl Default for TableProps {
    fn default() -> Self {
        Self {
            name: String::new(),
            partition_key: ("id".into(), KeyType::String),
            sort_key: None,
            indexes: vec![],
            stream: None,
            ttl_attribute: None,
        }
    }
}

/// A DynamoDB table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub id: String,
    pub handle: Handle,
}

impl TableProps {
    /// The key attributes of the table and its indexes, each once; a table without a name, or a
    /// key attribute with two types, is refused.
    fn validate(&self, what: &str) -> Result<Vec<(String, KeyType)>, ConstructError> {
        if self.name.is_empty() {
            return Err(ConstructError::invalid(what, "has no name", "set TableProps::name"));
        }
        let mut attributes: Vec<(String, KeyType)> = vec![];
        let mut add = |k: &(String, KeyType)| -> Result<(), ConstructError> {
            match attributes.iter().find(|(n, _)| *n == k.0) {
                Some((_, ty)) if *ty != k.1 => Err(ConstructError::invalid(
                    what,
                    &format!("uses key attribute `{}` with two types", k.0),
                    "give a key attribute one type across the table and its indexes",
                )),
                Some(_) => Ok(()),
                None => {
                    attributes.push(k.clone());
                    Ok(())
                }
            }
        };
        add(&self.partition_key)?;
        if let Some(k) = &self.sort_key {
            add(k)?;
        }
        for g in &self.indexes {
            add(&g.partition_key)?;
            if let Some(k) = &g.sort_key {
                add(k)?;
            }
        }
        Ok(attributes)
    }
}

/// A key schema: the partition key, and the sort key when there is one.
fn key_schema(pk: &(String, KeyType), sk: &Option<(String, KeyType)>) -> Vec<serde_json::Value> {
    let mut v = vec![json!({"AttributeName": pk.0, "KeyType": "HASH"})];
    if let Some(k) = sk {
        v.push(json!({"AttributeName": k.0, "KeyType": "RANGE"}));
    }
    v
}

/// An index projecting every attribute.
fn gsi(g: &Gsi) -> t::GlobalSecondaryIndex {
    let keys = key_schema(&g.partition_key, &g.sort_key)
        .into_iter()
        .map(|k| {
            t::KeySchema::new(
                k["AttributeName"].as_str().unwrap_or_default(),
                k["KeyType"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    t::GlobalSecondaryIndex::new(
        g.name.as_str(),
        keys,
        t::Projection { projection_type: Some(t::ProjectionType::All.into()), ..Default::default() },
    )
}

impl Table {
    pub fn new(stack: &mut Stack, id: &str, props: TableProps) -> Result<Self, ConstructError> {
        let attributes = props.validate(&format!("table `{id}`"))?;
        let gsis: Vec<t::GlobalSecondaryIndex> = props.indexes.iter().map(gsi).collect();
        let table = dynamodb::Table {
            table_name: Some(stack.physical_name(&props.name).into()),
            billing_mode: Some(t::BillingMode::PayPerRequest.into()),
            attribute_definitions: Some(
                attributes.iter().map(|(n, ty)| t::AttributeDefinition::new(n.as_str(), ty.attribute())).collect(),
            ),
            global_secondary_indexes: (!gsis.is_empty()).then_some(gsis),
            point_in_time_recovery_specification: Some(t::PointInTimeRecoverySpecification {
                point_in_time_recovery_enabled: Some(true.into()),
                ..Default::default()
            }),
            sse_specification: Some(t::SSESpecification::new(true)),
            stream_specification: props.stream.map(t::StreamSpecification::new),
            time_to_live_specification: props.ttl_attribute.as_ref().map(|a| t::TimeToLiveSpecification {
                attribute_name: Some(a.as_str().into()),
                ..t::TimeToLiveSpecification::new(true)
            }),
            deletion_protection_enabled: stack.retain_data.then(|| true.into()),
            ..dynamodb::Table::new(json!(key_schema(&props.partition_key, &props.sort_key)))
        };
        let handle = stack.template.add_with(id, &table, Attributes::stateful(stack.retain_data))?;
        stack.template.accept(
            &handle.id,
            Accepted::Checkov("CKV_AWS_119"),
            "encrypted at rest with DynamoDB's AWS owned key, its default at no charge (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html); a customer managed key adds KMS charges per request and makes the table unreadable if its key policy or key is lost",
        )?;
        stack.output(&format!("{id}Name"), handle.reference(), &format!("name of table {id}"))?;
        stack.output(&format!("{id}Arn"), handle.get_att(dynamodb::Table::ATTR_ARN), &format!("ARN of table {id}"))?;
        if props.stream.is_some() {
            stack.output(
                &format!("{id}StreamArn"),
                handle.get_att(dynamodb::Table::ATTR_STREAM_ARN),
                &format!("stream ARN of table {id}"),
            )?;
        }
        Ok(Self { id: id.to_string(), handle })
    }

    pub fn name(&self) -> Expr<String> {
        self.handle.reference()
    }

    pub fn arn(&self) -> Expr<String> {
        self.handle.get_att(dynamodb::Table::ATTR_ARN)
    }

    /// Read and write access to the table and its indexes for a function in the same stack.
    pub fn grant_read_write(&self, stack: &mut Stack, function: &Function) -> Result<(), ConstructError> {
        function.role.grant(stack, vec![read_write(self.arn())])
    }
}

/// The item-level actions an API needs, on a table ARN and its indexes.
pub fn read_write(table_arn: Expr<String>) -> Statement {
    Statement::allow(
        &[
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
        ],
        vec![table_arn.clone(), Expr::join("", vec![table_arn, "/index/*".into()])],
    )
}
