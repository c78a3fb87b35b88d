//! The CloudFormation document: logical ids, parameters, conditions, resources, outputs, and
//! their deterministic JSON and YAML forms.

mod asset;
pub mod bundle;
mod expr;
mod folder;
mod stack;
mod yaml;

pub use asset::{Asset, AssetError, texts as asset_texts, zip_asset, zip_folder, zip_with};
pub use expr::{Expr, PSEUDO_PARAMETERS, sub_placeholders};
pub use folder::{files as folder_files, inside as folder_inside, sha256_hex};
pub use stack::{
    ASSETS_BUCKET_PARAMETER, Adopted, App, FileValue, Import, OutputRef, OutputRole, RenderedFile, Stack, StackError,
    Upload,
};
pub use yaml::to_yaml;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::fmt;

/// A CloudFormation resource type: its properties serialize one to one to `Properties`. The L1
/// types of `cfn/` implement it.
pub trait CfnResource: serde::Serialize {
    /// `AWS::Service::Type`
    const TYPE_NAME: &'static str;
}

/// How a resource type takes tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagShape {
    /// `[{"Key": k, "Value": v}]`
    List,
    /// `{k: v}`
    Map,
    /// not taggable through CloudFormation
    None,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TemplateError {
    #[error("logical id `{id}` is not valid: expected 1 to 255 letters and digits (^[A-Za-z0-9]{{1,255}}$)")]
    InvalidLogicalId { id: String },
    #[error("logical id `{id}` is used twice in this template; logical ids must be unique")]
    DuplicateLogicalId { id: String },
    #[error("{at}: `{target}` is referenced but is neither a parameter, a resource nor a pseudo parameter")]
    UnknownReference { at: String, target: String },
    #[error(
        "{at}: Fn::Sub placeholder `${{{placeholder}}}` names no parameter, resource, variable or pseudo parameter"
    )]
    BadSubPlaceholder { at: String, placeholder: String },
    #[error("{at}: Fn::Sub text has an unterminated placeholder `{text}`")]
    UnterminatedSub { at: String, text: String },
    #[error("{at}: condition `{condition}` is not defined in Conditions")]
    UnknownCondition { at: String, condition: String },
    #[error("{at}: resource properties did not serialize: {message}")]
    Serialize { at: String, message: String },
    #[error("{at}: accepts {check} without a reason; every accepted finding says why")]
    AcceptedWithoutReason { at: String, check: String },
    #[error("`{id}` is not a resource of this template, so no finding can be accepted on it")]
    UnknownResource { id: String },
}

/// A checked logical id: 1 to 255 ASCII letters and digits. Renaming one replaces the resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct LogicalId(String);

impl LogicalId {
    pub fn new(id: &str) -> Result<Self, TemplateError> {
        if id.is_empty() || id.len() > 255 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(TemplateError::InvalidLogicalId { id: id.to_string() });
        }
        Ok(Self(id.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DeletionPolicy {
    Delete,
    Retain,
    RetainExceptOnCreate,
    Snapshot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum UpdateReplacePolicy {
    Delete,
    Retain,
    Snapshot,
}

/// A template parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    #[serde(rename = "Type")]
    pub type_: String,
    #[serde(rename = "Description", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "Default", skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(rename = "AllowedPattern", skip_serializing_if = "Option::is_none")]
    pub allowed_pattern: Option<String>,
    #[serde(rename = "NoEcho", skip_serializing_if = "Option::is_none")]
    pub no_echo: Option<bool>,
}

impl Parameter {
    pub fn string(description: &str) -> Self {
        Self {
            type_: "String".into(),
            description: Some(description.into()),
            default: None,
            allowed_pattern: None,
            no_echo: None,
        }
    }
}

/// A stack output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Output {
    #[serde(rename = "Description", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "Value")]
    pub value: Expr<String>,
}

/// Resource attributes beside its properties.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes {
    pub depends_on: Vec<String>,
    pub deletion_policy: Option<DeletionPolicy>,
    pub update_replace_policy: Option<UpdateReplacePolicy>,
    pub condition: Option<String>,
    pub metadata: Option<Value>,
}

impl Attributes {
    /// `Retain` for both policies when `retain` is true, `Delete` otherwise (rule L05).
    pub fn stateful(retain: bool) -> Self {
        let (d, u) = if retain {
            (DeletionPolicy::Retain, UpdateReplacePolicy::Retain)
        } else {
            (DeletionPolicy::Delete, UpdateReplacePolicy::Delete)
        };
        Self { deletion_policy: Some(d), update_replace_policy: Some(u), ..Self::default() }
    }
}

/// One resource as it will be written: its type, its properties as JSON, its attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub type_name: String,
    pub properties: Value,
    pub attributes: Attributes,
}

/// A handle to a resource already in a template, for references to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handle {
    pub id: LogicalId,
    pub type_name: &'static str,
}

impl Handle {
    /// `{"Ref": id}`
    pub fn reference<T>(&self) -> Expr<T> {
        Expr::reference(self.id.as_str())
    }
    /// `{"Fn::GetAtt": [id, attribute]}`
    pub fn get_att<T>(&self, attribute: &str) -> Expr<T> {
        Expr::get_att(self.id.as_str(), attribute)
    }
}

/// A finding a construct accepts on purpose for one resource. Both scanners' forms are written
/// from here, with the same reason, into the resource's `Metadata`, where each reads its own:
/// castform's rules from `castform.suppress[{rule, reason}]`, checkov's checks from
/// `checkov.skip[{id, comment}]` (checkov's documented CloudFormation form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// A castform rule id, such as `L13`.
    Rule(&'static str),
    /// A checkov check id, such as `CKV_AWS_116`.
    Checkov(&'static str),
}

impl std::fmt::Display for Accepted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rule(id) => write!(f, "castform rule {id}"),
            Self::Checkov(id) => write!(f, "checkov check {id}"),
        }
    }
}

/// A CloudFormation template under construction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template {
    pub description: Option<String>,
    pub parameters: IndexMap<LogicalId, Parameter>,
    pub conditions: IndexMap<LogicalId, Value>,
    pub resources: IndexMap<LogicalId, Resource>,
    pub outputs: IndexMap<LogicalId, Output>,
}

impl Template {
    pub fn new(description: impl Into<String>) -> Self {
        Self { description: Some(description.into()), ..Self::default() }
    }

    fn claim(&self, id: &str) -> Result<LogicalId, TemplateError> {
        let id = LogicalId::new(id)?;
        if self.parameters.contains_key(&id) || self.resources.contains_key(&id) || self.conditions.contains_key(&id) {
            return Err(TemplateError::DuplicateLogicalId { id: id.0 });
        }
        Ok(id)
    }

    /// Adds a typed resource.
    pub fn add<R: CfnResource>(&mut self, id: &str, resource: &R) -> Result<Handle, TemplateError> {
        self.add_with(id, resource, Attributes::default())
    }

    /// Adds a typed resource with attributes (policies, dependencies, condition, metadata).
    pub fn add_with<R: CfnResource>(
        &mut self,
        id: &str,
        resource: &R,
        attributes: Attributes,
    ) -> Result<Handle, TemplateError> {
        let id = self.claim(id)?;
        let properties = serde_json::to_value(resource)
            .map_err(|e| TemplateError::Serialize { at: id.to_string(), message: e.to_string() })?;
        self.resources.insert(id.clone(), Resource { type_name: R::TYPE_NAME.to_string(), properties, attributes });
        Ok(Handle { id, type_name: R::TYPE_NAME })
    }

    /// Records that the resource `id` deliberately does what `check` reports, and why. The
    /// reason is written into the template, so a reviewer reads it beside the resource.
    pub fn accept(&mut self, id: &LogicalId, check: Accepted, reason: &str) -> Result<(), TemplateError> {
        if reason.trim().is_empty() {
            return Err(TemplateError::AcceptedWithoutReason { at: id.to_string(), check: check.to_string() });
        }
        let resource =
            self.resources.get_mut(id).ok_or_else(|| TemplateError::UnknownResource { id: id.to_string() })?;
        let metadata = resource.attributes.metadata.get_or_insert_with(|| Value::Object(Map::new()));
        if !metadata.is_object() {
            *metadata = Value::Object(Map::new());
        }
        let (tool, list, field, reason_field, key) = match check {
            Accepted::Rule(rule) => ("castform", "suppress", "rule", "reason", rule),
            Accepted::Checkov(id) => ("checkov", "skip", "id", "comment", id),
        };
        let tool = &mut metadata[tool];
        if !tool.is_object() {
            *tool = Value::Object(Map::new());
        }
        let entries = &mut tool[list];
        if !entries.is_array() {
            *entries = json!([]);
        }
        if let Some(entries) = entries.as_array_mut() {
            // accepting the same finding twice keeps the first reason
            if !entries.iter().any(|e| e[field] == key) {
                entries.push(json!({field: key, reason_field: reason}));
            }
        }
        Ok(())
    }

    pub fn add_parameter(&mut self, id: &str, parameter: Parameter) -> Result<Expr<String>, TemplateError> {
        let id = self.claim(id)?;
        let e = Expr::reference(id.as_str());
        self.parameters.insert(id, parameter);
        Ok(e)
    }

    pub fn add_condition(&mut self, id: &str, condition: Value) -> Result<(), TemplateError> {
        let id = self.claim(id)?;
        self.conditions.insert(id, condition);
        Ok(())
    }

    pub fn add_output(&mut self, id: &str, value: Expr<String>, description: &str) -> Result<(), TemplateError> {
        let id = LogicalId::new(id)?;
        if self.outputs.contains_key(&id) {
            return Err(TemplateError::DuplicateLogicalId { id: id.0 });
        }
        self.outputs.insert(id, Output { description: Some(description.to_string()), value });
        Ok(())
    }

    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.get(&LogicalId(id.to_string()))
    }

    pub fn resource_mut(&mut self, id: &str) -> Option<&mut Resource> {
        self.resources.get_mut(&LogicalId(id.to_string()))
    }

    /// The whole document as JSON, in a fixed key order.
    pub fn to_value(&self) -> Value {
        let mut doc = Map::new();
        doc.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
        if let Some(d) = &self.description {
            doc.insert("Description".into(), json!(d));
        }
        if !self.parameters.is_empty() {
            doc.insert("Parameters".into(), serde_json::to_value(&self.parameters).unwrap_or_default());
        }
        if !self.conditions.is_empty() {
            doc.insert("Conditions".into(), serde_json::to_value(&self.conditions).unwrap_or_default());
        }
        let mut resources = Map::new();
        for (id, r) in &self.resources {
            let mut m = Map::new();
            m.insert("Type".into(), json!(r.type_name));
            let a = &r.attributes;
            if let Some(c) = &a.condition {
                m.insert("Condition".into(), json!(c));
            }
            if !a.depends_on.is_empty() {
                m.insert("DependsOn".into(), json!(a.depends_on));
            }
            if let Some(p) = a.deletion_policy {
                m.insert("DeletionPolicy".into(), serde_json::to_value(p).unwrap_or_default());
            }
            if let Some(p) = a.update_replace_policy {
                m.insert("UpdateReplacePolicy".into(), serde_json::to_value(p).unwrap_or_default());
            }
            if let Some(md) = &a.metadata {
                m.insert("Metadata".into(), md.clone());
            }
            if r.properties.as_object().is_some_and(|p| !p.is_empty()) {
                m.insert("Properties".into(), r.properties.clone());
            }
            resources.insert(id.to_string(), Value::Object(m));
        }
        doc.insert("Resources".into(), Value::Object(resources));
        if !self.outputs.is_empty() {
            doc.insert("Outputs".into(), serde_json::to_value(&self.outputs).unwrap_or_default());
        }
        Value::Object(doc)
    }

    /// Pretty JSON with a trailing newline: the same template gives the same bytes.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.to_value()).unwrap_or_default() + "\n"
    }

    /// Checks every reference in the document: `Ref`, `Fn::GetAtt`, `Fn::Sub` placeholders,
    /// `Fn::If` and `Condition` names, and `DependsOn`.
    pub fn validate(&self) -> Result<(), TemplateError> {
        let names = |id: &str| {
            let id = LogicalId(id.to_string());
            self.parameters.contains_key(&id) || self.resources.contains_key(&id)
        };
        let mut ctx = Refs { template: self, names: &names };
        for (id, r) in &self.resources {
            let at = format!("Resources.{id}");
            ctx.walk(&r.properties, &format!("{at}.Properties"), &[])?;
            for d in &r.attributes.depends_on {
                if self.resource(d).is_none() {
                    return Err(TemplateError::UnknownReference { at: format!("{at}.DependsOn"), target: d.clone() });
                }
            }
            if let Some(c) = &r.attributes.condition {
                ctx.condition(c, &at)?;
            }
        }
        for (id, o) in &self.outputs {
            let v = serde_json::to_value(&o.value).unwrap_or_default();
            ctx.walk(&v, &format!("Outputs.{id}.Value"), &[])?;
        }
        for (id, c) in &self.conditions {
            ctx.walk(c, &format!("Conditions.{id}"), &[])?;
        }
        Ok(())
    }
}

struct Refs<'a> {
    template: &'a Template,
    names: &'a dyn Fn(&str) -> bool,
}

impl Refs<'_> {
    fn known(&self, target: &str, vars: &[String]) -> bool {
        PSEUDO_PARAMETERS.contains(&target) || vars.iter().any(|v| v == target) || (self.names)(target)
    }

    fn condition(&self, c: &str, at: &str) -> Result<(), TemplateError> {
        if self.template.conditions.contains_key(&LogicalId(c.to_string())) {
            Ok(())
        } else {
            Err(TemplateError::UnknownCondition { at: at.to_string(), condition: c.to_string() })
        }
    }

    fn walk(&mut self, v: &Value, at: &str, vars: &[String]) -> Result<(), TemplateError> {
        match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, &format!("{at}[{i}]"), vars)?;
                }
                Ok(())
            }
            Value::Object(m) if m.len() == 1 => {
                let (k, inner) = m.iter().next().unwrap();
                match (k.as_str(), inner) {
                    ("Ref", Value::String(t)) => {
                        if self.known(t, vars) {
                            Ok(())
                        } else {
                            Err(TemplateError::UnknownReference { at: at.into(), target: t.clone() })
                        }
                    }
                    ("Fn::GetAtt", Value::Array(a)) => {
                        let t = a.first().and_then(Value::as_str).unwrap_or_default();
                        if self.template.resource(t).is_some() {
                            Ok(())
                        } else {
                            Err(TemplateError::UnknownReference { at: at.into(), target: t.to_string() })
                        }
                    }
                    ("Fn::Sub", Value::String(text)) => self.sub(text, &Map::new(), at),
                    ("Fn::Sub", Value::Array(a)) if a.len() == 2 => {
                        let text = a[0].as_str().unwrap_or_default();
                        let vars_map = a[1].as_object().cloned().unwrap_or_default();
                        for (k, vv) in &vars_map {
                            self.walk(vv, &format!("{at}.{k}"), vars)?;
                        }
                        self.sub(text, &vars_map, at)
                    }
                    ("Fn::If", Value::Array(a)) if a.len() == 3 => {
                        self.condition(a[0].as_str().unwrap_or_default(), at)?;
                        self.walk(&a[1], at, vars)?;
                        self.walk(&a[2], at, vars)
                    }
                    ("Condition", Value::String(c)) => self.condition(c, at),
                    _ => self.walk(inner, &format!("{at}.{k}"), vars),
                }
            }
            Value::Object(m) => {
                for (k, inner) in m {
                    self.walk(inner, &format!("{at}.{k}"), vars)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn sub(&self, text: &str, vars: &Map<String, Value>, at: &str) -> Result<(), TemplateError> {
        let placeholders = sub_placeholders(text)
            .map_err(|t| TemplateError::UnterminatedSub { at: at.into(), text: t.to_string() })?;
        for p in placeholders {
            let head = if PSEUDO_PARAMETERS.contains(&p) { p } else { p.split('.').next().unwrap_or(p) };
            let ok = vars.contains_key(p) || PSEUDO_PARAMETERS.contains(&head) || (self.names)(head);
            if !ok {
                return Err(TemplateError::BadSubPlaceholder { at: at.into(), placeholder: p.to_string() });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::sqs::Queue;

    #[test]
    fn logical_ids_are_checked() {
        assert!(LogicalId::new("ApiFunction1").is_ok());
        let e = LogicalId::new("api-function").unwrap_err();
        assert_eq!(
            e.to_string(),
            "logical id `api-function` is not valid: expected 1 to 255 letters and digits (^[A-Za-z0-9]{1,255}$)"
        );
        assert!(LogicalId::new("").is_err());
        assert!(LogicalId::new(&"a".repeat(256)).is_err());
    }

    #[test]
    fn duplicate_logical_ids_are_errors() {
        let mut t = Template::new("t");
        t.add("Q", &Queue::default()).unwrap();
        assert_eq!(t.add("Q", &Queue::default()).unwrap_err(), TemplateError::DuplicateLogicalId { id: "Q".into() });
        t.add_parameter("P", Parameter::string("p")).unwrap();
        assert!(t.add("P", &Queue::default()).is_err());
    }

    #[test]
    fn accepted_findings_are_written_for_each_scanner_with_their_reason() {
        let mut t = Template::new("t");
        let attrs =
            Attributes { metadata: Some(json!({"castform": {"edge": "viewer-request"}})), ..Attributes::default() };
        let q = t.add_with("Q", &Queue::default(), attrs).unwrap();
        t.accept(&q.id, Accepted::Checkov("CKV_AWS_27"), "SSE-SQS").unwrap();
        t.accept(&q.id, Accepted::Rule("L13"), "needs *").unwrap();
        t.accept(&q.id, Accepted::Checkov("CKV_AWS_27"), "a second reason is not added").unwrap();
        assert_eq!(
            t.to_value()["Resources"]["Q"]["Metadata"],
            json!({
                "castform": {"edge": "viewer-request", "suppress": [{"rule": "L13", "reason": "needs *"}]},
                "checkov": {"skip": [{"id": "CKV_AWS_27", "comment": "SSE-SQS"}]}
            })
        );
        let e = t.accept(&q.id, Accepted::Checkov("CKV_AWS_1"), "  ").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Q: accepts checkov check CKV_AWS_1 without a reason; every accepted finding says why"
        );
        let missing = LogicalId::new("Nope").unwrap();
        assert!(t.accept(&missing, Accepted::Rule("L01"), "x").is_err());
    }

    #[test]
    fn sub_placeholders_are_checked_against_the_template() {
        let mut t = Template::new("t");
        let q = t.add("Q", &Queue::default()).unwrap();
        t.add_output("Ok", Expr::sub("${Q.Arn}-${AWS::Region}"), "ok").unwrap();
        t.validate().unwrap();
        t.add_output("Bad", Expr::sub("${Nope}"), "bad").unwrap();
        let e = t.validate().unwrap_err();
        assert_eq!(
            e.to_string(),
            "Outputs.Bad.Value: Fn::Sub placeholder `${Nope}` names no parameter, resource, variable or pseudo parameter"
        );
        let _ = q;
    }

    #[test]
    fn sub_variables_count_as_known() {
        let mut t = Template::new("t");
        t.add_output("V", Expr::sub_with("${X}", vec![("X", "1".into())]), "v").unwrap();
        t.validate().unwrap();
    }

    #[test]
    fn refs_to_missing_resources_are_errors() {
        let mut t = Template::new("t");
        t.add_output("O", Expr::reference("Missing"), "o").unwrap();
        assert_eq!(
            t.validate().unwrap_err(),
            TemplateError::UnknownReference { at: "Outputs.O.Value".into(), target: "Missing".into() }
        );
    }

    #[test]
    fn if_names_a_defined_condition() {
        let mut t = Template::new("t");
        t.add_output("O", Expr::if_("IsProd", "a".into(), "b".into()), "o").unwrap();
        assert!(matches!(t.validate().unwrap_err(), TemplateError::UnknownCondition { .. }));
        t.add_condition("IsProd", json!({"Fn::Equals": ["a", "a"]})).unwrap();
        t.validate().unwrap();
    }

    #[test]
    fn output_is_deterministic_and_ordered() {
        let build = || {
            let mut t = Template::new("d");
            let q = t
                .add_with(
                    "Q",
                    &Queue { queue_name: None, visibility_timeout: Some(30.into()), ..Queue::default() },
                    Attributes::stateful(true),
                )
                .unwrap();
            t.add_output("QueueArn", q.get_att(crate::cfn::sqs::Queue::ATTR_ARN), "arn").unwrap();
            t.to_json()
        };
        let a = build();
        assert_eq!(a, build());
        let v: Value = serde_json::from_str(&a).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["AWSTemplateFormatVersion", "Description", "Resources", "Outputs"]);
        assert_eq!(v["Resources"]["Q"]["DeletionPolicy"], "Retain");
        assert_eq!(v["Resources"]["Q"]["Properties"], json!({"VisibilityTimeout": 30}));
        assert_eq!(v["Outputs"]["QueueArn"]["Value"], json!({"Fn::GetAtt": ["Q", "Arn"]}));
    }
}
