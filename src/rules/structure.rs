//! T01–T06: the template's own shape, before any resource type is looked at: its sections,
//! each resource's attributes, references that resolve, intrinsic functions CloudFormation
//! knows, and transforms that change the template before CloudFormation reads it. From
//! CloudFormation's template anatomy
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html>),
//! resource attributes
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-product-attribute-reference.html>)
//! the intrinsic function reference
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html>)
//! and the transforms and macros that process a template first
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-macros.html>).

use super::template_file::FUNCTIONS;
use super::util::each_node;
use super::{Hit, Severity, Target, registry};
use crate::template::{PSEUDO_PARAMETERS, sub_placeholders};
use serde_json::Value;

const SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
    "Hooks",
];

const RESOURCE_KEYS: &[&str] = &[
    "Type",
    "Properties",
    "DependsOn",
    "Metadata",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "UpdatePolicy",
    "CreationPolicy",
];

/// Parameter types (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html>).
const PARAMETER_TYPES: &[&str] = &["String", "Number", "List<Number>", "CommaDelimitedList"];

/// The closest of `names` to `word` when it is a likely misspelling (an edit distance of 1 or 2,
/// letter case aside).
fn suggest<'a>(word: &str, names: &[&'a str]) -> Option<&'a str> {
    let word = word.to_lowercase();
    names
        .iter()
        .map(|n| (strsim::levenshtein(&word, &n.to_lowercase()), *n))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| n)
}

fn did_you_mean(word: &str, names: &[&str]) -> String {
    suggest(word, names).map(|s| format!(" (did you mean {s}?)")).unwrap_or_default()
}

/// T01: the sections, parameters, conditions, mappings and outputs have CloudFormation's shape.
pub fn t01(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    let Some(top) = t.template.as_object() else { return hits };
    sections(t.template, top, &mut hits);
    format_version_and_description(top, &mut hits);
    for (name, p) in top.get("Parameters").and_then(Value::as_object).into_iter().flatten() {
        parameter(name, p, &mut hits);
    }
    for (name, c) in top.get("Conditions").and_then(Value::as_object).into_iter().flatten() {
        let ok = c.as_object().is_some_and(|m| {
            m.len() == 1
                && m.keys().all(|k| ["Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition"].contains(&k.as_str()))
        });
        if !ok {
            hits.push(Hit::new(
                &format!("Conditions.{name}"),
                "is not a condition function (Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition)",
                "write the condition with a condition function",
            ));
        }
    }
    for (name, m) in top.get("Mappings").and_then(Value::as_object).into_iter().flatten() {
        if !m.as_object().is_some_and(|m| m.values().all(Value::is_object)) {
            hits.push(Hit::new(
                &format!("Mappings.{name}"),
                "is not a mapping of keys to mappings of values",
                "write it as Key: {Name: Value}",
            ));
        }
    }
    for (name, o) in top
        .get("Outputs")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(n, _)| !n.starts_with("Fn::ForEach::"))
    {
        output(name, o, &mut hits);
    }
    hits
}

/// T01: only CloudFormation's sections (and SAM's Globals under its transform), and a Resources
/// section with at least one resource.
fn sections(template: &Value, top: &serde_json::Map<String, Value>, hits: &mut Vec<Hit>) {
    // the SAM transform adds a Globals section
    let sam = transforms(template).iter().any(|n| n.starts_with("AWS::Serverless"));
    for k in top.keys().filter(|k| !(SECTIONS.contains(&k.as_str()) || (sam && *k == "Globals"))) {
        hits.push(Hit::new(
            k,
            format!("{k} is not a template section{}", did_you_mean(k, SECTIONS)),
            format!("use one of {}", SECTIONS.join(", ")),
        ));
    }
    match top.get("Resources") {
        Some(Value::Object(m)) if !m.is_empty() => {}
        Some(Value::Object(_)) => {
            hits.push(Hit::new("Resources", "declares no resource", "declare at least one resource"))
        }
        Some(_) => {
            hits.push(Hit::new("Resources", "is not a mapping of logical ids to resources", "make Resources a mapping"))
        }
        None => hits.push(Hit::new(
            "Resources",
            "the template has no Resources section, which CloudFormation requires",
            "declare at least one resource under Resources, or check only CloudFormation templates",
        )),
    }
}

/// T01: the only format version, and a description that is text of at most 1024 bytes.
fn format_version_and_description(top: &serde_json::Map<String, Value>, hits: &mut Vec<Hit>) {
    if let Some(v) = top.get("AWSTemplateFormatVersion")
        && v.as_str() != Some("2010-09-09")
    {
        hits.push(Hit::new(
            "AWSTemplateFormatVersion",
            format!("is {v}; the only version is 2010-09-09"),
            "write '2010-09-09' (quoted)",
        ));
    }
    if let Some(v) = top.get("Description") {
        match v.as_str() {
            Some(s) if s.len() > 1024 => {
                hits.push(Hit::new("Description", format!("is {} bytes, at most 1024", s.len()), "shorten it"))
            }
            Some(_) => {}
            None => hits.push(Hit::new("Description", "is not a string", "write the description as text")),
        }
    }
}

/// T01: a parameter has a type CloudFormation knows, and a String's default is one of its
/// allowed values.
fn parameter(name: &str, p: &Value, hits: &mut Vec<Hit>) {
    let id = format!("Parameters.{name}");
    let Some(ty) = p["Type"].as_str() else {
        hits.push(Hit::new(&id, "has no Type", "give it a Type such as String or AWS::EC2::VPC::Id"));
        return;
    };
    let known = PARAMETER_TYPES.contains(&ty)
        || ty.starts_with("AWS::SSM::Parameter::")
        || (ty.starts_with("AWS::") && ty.matches("::").count() >= 2)
        || (ty.starts_with("List<AWS::") && ty.ends_with('>'));
    if !known {
        hits.push(Hit::new(
            &id,
            format!("{ty} is not a parameter type{}", did_you_mean(ty, PARAMETER_TYPES)),
            "use String, Number, List<Number>, CommaDelimitedList, an AWS-specific type or an SSM parameter type",
        ));
    }
    if let (Some(allowed), Some(default)) = (p["AllowedValues"].as_array(), p.get("Default"))
        && ty == "String"
        && !allowed
            .iter()
            .any(|a| a == default || a.to_string().trim_matches('"') == default.to_string().trim_matches('"'))
    {
        hits.push(Hit::new(
            &id,
            format!("its Default {default} is not one of its AllowedValues"),
            "make the default one of the allowed values",
        ));
    }
}

/// T01: an output is a mapping with a Value and only an output's attributes; an export has a Name.
fn output(name: &str, o: &Value, hits: &mut Vec<Hit>) {
    const ATTRIBUTES: [&str; 4] = ["Value", "Description", "Export", "Condition"];
    let id = format!("Outputs.{name}");
    let Some(m) = o.as_object() else {
        hits.push(Hit::new(&id, "is not a mapping with a Value", "write Value: (and Description, Export)"));
        return;
    };
    if !m.contains_key("Value") {
        hits.push(Hit::new(&id, "has no Value", "give the output a Value"));
    }
    for k in m.keys().filter(|k| !ATTRIBUTES.contains(&k.as_str())) {
        hits.push(Hit::new(
            &id,
            format!("{k} is not an output attribute{}", did_you_mean(k, &ATTRIBUTES)),
            "use Value, Description, Export or Condition",
        ));
    }
    if m.get("Export").is_some_and(|e| e.get("Name").is_none()) {
        hits.push(Hit::new(&id, "exports without a Name", "write Export: {Name: ...}"));
    }
}

/// T02: every resource has a Type and only CloudFormation's resource attributes, with values
/// CloudFormation accepts.
pub fn t02(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (id, r) in t.template["Resources"].as_object().into_iter().flatten() {
        if !id.chars().all(|c| c.is_ascii_alphanumeric()) || id.len() > 255 {
            hits.push(Hit::new(
                id,
                "a logical id is alphanumeric (A-Za-z0-9), at most 255 characters",
                "rename the resource",
            ));
        }
        let Some(m) = r.as_object() else {
            hits.push(Hit::new(id, "is not a mapping with a Type", "write Type: and Properties:"));
            continue;
        };
        resource_type(id, m.get("Type"), &mut hits);
        // custom resources also take a Version (the old custom resource syntax)
        let custom = m
            .get("Type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.starts_with("Custom::") || t == "AWS::CloudFormation::CustomResource");
        for k in m.keys().filter(|k| !(RESOURCE_KEYS.contains(&k.as_str()) || (custom && *k == "Version"))) {
            hits.push(Hit::new(
                id,
                format!("{k} is not a resource attribute{}", did_you_mean(k, RESOURCE_KEYS)),
                format!("use {} (properties go under Properties)", RESOURCE_KEYS.join(", ")),
            ));
        }
        if let Some(p) = m.get("Properties")
            && !p.is_object()
            && !super::util::is_intrinsic(p)
        {
            hits.push(Hit::new(id, "Properties is not a mapping", "write the properties as a mapping"));
        }
        for (attr, allowed) in [
            ("DeletionPolicy", &["Delete", "Retain", "RetainExceptOnCreate", "Snapshot"][..]),
            ("UpdateReplacePolicy", &["Delete", "Retain", "Snapshot"][..]),
        ] {
            if let Some(v) = m.get(attr)
                && !super::util::is_intrinsic(v)
                && !v.as_str().is_some_and(|s| allowed.contains(&s))
            {
                hits.push(Hit::new(
                    id,
                    format!(
                        "{attr} {v} is not one of {}{}",
                        allowed.join(", "),
                        v.as_str().map(|s| did_you_mean(s, allowed)).unwrap_or_default()
                    ),
                    format!("write one of {}", allowed.join(", ")),
                ));
            }
        }
        if let Some(d) = m.get("DependsOn")
            && !(d.is_string() || d.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
        {
            hits.push(Hit::new(
                id,
                "DependsOn is neither a logical id nor a list of them",
                "write DependsOn: Name or [A, B]",
            ));
        }
    }
    hits
}

/// T02: a resource's Type is a string of the form `Service::Resource` (or a module's, or a custom
/// resource's).
fn resource_type(id: &str, ty: Option<&Value>, hits: &mut Vec<Hit>) {
    match ty {
        None => hits.push(Hit::new(id, "has no Type", "give the resource a Type such as AWS::S3::Bucket")),
        Some(Value::String(ty)) => {
            let parts: Vec<&str> = ty.split("::").collect();
            let shaped = (parts.len() == 3
                || (parts.len() == 4 && parts[3] == "MODULE")
                || (parts.len() == 2 && parts[0] == "Custom"))
                && parts.iter().all(|p| !p.is_empty());
            if !shaped {
                hits.push(Hit::new(
                    id,
                    format!("Type {ty} is not of the form Service::Resource (AWS::S3::Bucket, Custom::Name)"),
                    "write the type's full name",
                ));
            }
        }
        Some(other) => hits.push(Hit::new(
            id,
            format!("Type is {} where CloudFormation wants a type name{}", brief(other), preprocessor_hint(other)),
            "write the resource type as a string",
        )),
    }
}

fn brief(v: &Value) -> String {
    match v {
        Value::Object(m) => format!("{{{}}}", m.keys().cloned().collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

/// What a value that is an unknown function needs (`Fn::Rain::Module` -> Rain).
fn preprocessor_hint(v: &Value) -> String {
    v.as_object()
        .and_then(|m| m.keys().next())
        .and_then(|k| k.strip_prefix("Fn::"))
        .filter(|f| !FUNCTIONS.contains(f))
        .map(|f| format!(": !{f} must be processed by the tool that defines it (`rain pkg` for Rain's) before CloudFormation reads the template"))
        .unwrap_or_default()
}

/// cfn-lint's list of types whose every property `Fn::GetAtt` reads, and of attributes beyond
/// the schemas' read-only properties (MIT-0, vendored with its source in the file).
static GETATT_EXTRAS: &str = include_str!("../../schemas/getatt-extras.json");

/// The attributes `Fn::GetAtt` may read of a type: its schema's read-only properties, as dotted
/// paths (`Endpoint.Address`), and the properties CloudFormation also returns for some types
/// (an SQS queue's `QueueName`). `None` when any attribute may exist (custom resources, nested
/// stacks, types without a schema).
fn attributes(ty: &str) -> Option<Vec<String>> {
    if ty.starts_with("Custom::") || ty == "AWS::CloudFormation::CustomResource" || ty == "AWS::CloudFormation::Stack" {
        return None;
    }
    let s = registry::schema(ty, registry::DEFAULT_REGION)?;
    static EXTRAS: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let extras = EXTRAS.get_or_init(|| serde_json::from_str(GETATT_EXTRAS).unwrap_or_default());
    let mut attrs: Vec<String> = s["readOnlyProperties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str()?.strip_prefix("/properties/").map(|p| p.replace('/', ".")))
        .collect();
    attrs.extend(extras["extra"][ty].as_array().into_iter().flatten().filter_map(|a| a.as_str().map(str::to_string)));
    // types whose every property is also an attribute (nested ones as dotted paths)
    if extras["all_properties"].as_array()?.iter().any(|t| t == ty) {
        attrs.extend(s["properties"].as_object().into_iter().flatten().map(|(k, _)| k.clone()));
    }
    attrs.sort();
    attrs.dedup();
    (!attrs.is_empty()).then_some(attrs)
}

/// T03: every `Ref`, `Fn::GetAtt`, `Fn::Sub` variable, `DependsOn`, condition name and mapping
/// name resolves to something the template declares.
pub fn t03(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    let tpl = t.template;
    let declared = Declared::of(tpl);
    for (id, r) in declared.resources.into_iter().flatten() {
        declared.scan(id, &r["Properties"], &mut hits);
        declared.scan(id, &r["Metadata"], &mut hits);
        for d in super::util::as_list(&r["DependsOn"]).into_iter().filter_map(Value::as_str) {
            if !declared.is_resource(d) {
                hits.push(Hit::new(
                    id,
                    format!("DependsOn {d}: no resource of that name"),
                    "name a resource of this template",
                ));
            }
        }
        if let Some(c) = r["Condition"].as_str()
            && !declared.is_condition(c)
        {
            hits.push(Hit::new(
                id,
                format!("Condition {c} is not declared under Conditions"),
                "declare it, or remove the resource's Condition",
            ));
        }
    }
    for (name, o) in tpl["Outputs"].as_object().into_iter().flatten() {
        let id = format!("Outputs.{name}");
        declared.scan(&id, o, &mut hits);
        if let Some(c) = o["Condition"].as_str()
            && !declared.is_condition(c)
        {
            hits.push(Hit::new(
                &id,
                format!("Condition {c} is not declared under Conditions"),
                "declare it under Conditions",
            ));
        }
    }
    for (name, c) in tpl["Conditions"].as_object().into_iter().flatten() {
        let id = format!("Conditions.{name}");
        each_node(c, &mut |node| {
            if let Some(Value::String(other)) = node.get("Condition")
                && !declared.is_condition(other)
            {
                hits.push(Hit::new(
                    &id,
                    format!("refers to the condition {other}, which is not declared"),
                    "declare it under Conditions",
                ));
            }
        });
        declared.scan(&id, c, &mut hits);
    }
    hits.dedup();
    hits
}

/// What a template declares, by name: what T03 resolves references against.
struct Declared<'a> {
    resources: Option<&'a serde_json::Map<String, Value>>,
    params: Vec<String>,
    conditions: Vec<String>,
    mappings: Vec<String>,
}

impl<'a> Declared<'a> {
    fn of(tpl: &'a Value) -> Self {
        let names = |section: &str| -> Vec<String> {
            tpl[section].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
        };
        Self {
            resources: tpl["Resources"].as_object(),
            params: names("Parameters"),
            conditions: names("Conditions"),
            mappings: names("Mappings"),
        }
    }

    fn is_resource(&self, n: &str) -> bool {
        self.resources.is_some_and(|r| r.contains_key(n))
    }

    fn is_condition(&self, n: &str) -> bool {
        self.conditions.iter().any(|x| x == n)
    }

    /// A name `Ref` may take: a resource, a parameter or a pseudo parameter.
    fn refable(&self, n: &str) -> bool {
        self.is_resource(n) || self.params.iter().any(|p| p == n) || PSEUDO_PARAMETERS.contains(&n)
    }

    fn type_of(&self, n: &str) -> String {
        self.resources.and_then(|r| r[n]["Type"].as_str()).unwrap_or_default().to_string()
    }

    /// Every function under `v` that names something, checked against what is declared.
    fn scan(&self, owner: &str, v: &Value, hits: &mut Vec<Hit>) {
        each_node(v, &mut |node| {
            let Some(m) = node.as_object() else { return };
            if let Some(Value::String(r)) = m.get("Ref")
                && !self.refable(r)
            {
                hits.push(Hit::new(
                    owner,
                    format!(
                        "Ref {r}: no parameter, resource or pseudo parameter of that name{}",
                        did_you_mean(r, &self.params.iter().map(String::as_str).collect::<Vec<_>>())
                    ),
                    "refer to a declared parameter or resource",
                ));
            }
            if let Some(v) = m.get("Fn::GetAtt") {
                self.get_att(owner, v, hits);
            }
            self.sub(owner, m, hits);
            if let Some(Value::Array(a)) = m.get("Fn::If")
                && let Some(c) = a.first().and_then(Value::as_str)
                && !self.is_condition(c)
            {
                hits.push(Hit::new(
                    owner,
                    format!("Fn::If names the condition {c}, which Conditions does not declare"),
                    "declare it under Conditions",
                ));
            }
            if let Some(Value::Array(a)) = m.get("Fn::FindInMap")
                && let Some(name) = a.first().and_then(Value::as_str)
                && !self.mappings.iter().any(|x| x == name)
            {
                hits.push(Hit::new(
                    owner,
                    format!("Fn::FindInMap reads the mapping {name}, which Mappings does not declare"),
                    "declare it under Mappings",
                ));
            }
        });
    }

    /// `Fn::GetAtt` as `[Resource, Attribute]` or `Resource.Attribute`.
    fn get_att(&self, owner: &str, v: &Value, hits: &mut Vec<Hit>) {
        match v {
            Value::Array(a) if a.len() == 2 => {
                if let (Some(res), Some(attr)) = (a[0].as_str(), a[1].as_str()) {
                    self.attribute(owner, res, attr, hits);
                }
            }
            Value::String(s) => match s.split_once('.') {
                Some((res, attr)) => self.attribute(owner, res, attr, hits),
                None => hits.push(Hit::new(
                    owner,
                    format!("Fn::GetAtt {s}: expected Resource.Attribute"),
                    "write !GetAtt Resource.Attribute",
                )),
            },
            other => hits.push(Hit::new(
                owner,
                format!("Fn::GetAtt {other}: expected [Resource, Attribute]"),
                "write !GetAtt Resource.Attribute",
            )),
        }
    }

    /// `res.attr` names a resource of the template and an attribute its type has.
    fn attribute(&self, owner: &str, res: &str, attr: &str, hits: &mut Vec<Hit>) {
        if !self.is_resource(res) {
            let why = if self.params.iter().any(|p| p == res) { " (it is a parameter: use Ref)" } else { "" };
            hits.push(Hit::new(
                owner,
                format!("Fn::GetAtt reads {res}.{attr}, and no resource {res} exists{why}"),
                "name a resource of this template",
            ));
            return;
        }
        let ty = self.type_of(res);
        if attr.starts_with("Outputs.") && ty == "AWS::CloudFormation::Stack" {
            return;
        }
        if let Some(attrs) = attributes(&ty)
            && !attrs
                .iter()
                .any(|a| a == attr || attr.strip_prefix(a.as_str()).is_some_and(|rest| rest.starts_with('.')))
        {
            let list: Vec<&str> = attrs.iter().map(String::as_str).collect();
            hits.push(Hit::new(
                owner,
                format!("Fn::GetAtt {res}.{attr}: {ty} has no attribute {attr}{}", did_you_mean(attr, &list)),
                format!("use one of {}", list.join(", ")),
            ));
        }
    }

    /// Every `${...}` of an `Fn::Sub` is one of its variables, a declared name, a pseudo parameter
    /// or a resource's attribute.
    fn sub(&self, owner: &str, m: &serde_json::Map<String, Value>, hits: &mut Vec<Hit>) {
        let (text, vars) = match m.get("Fn::Sub") {
            Some(Value::String(s)) => (Some(s.as_str()), None),
            Some(Value::Array(a)) => (a.first().and_then(Value::as_str), a.get(1).and_then(Value::as_object)),
            _ => (None, None),
        };
        let Some(text) = text else { return };
        let found = match sub_placeholders(text) {
            Ok(found) => found,
            Err(rest) => {
                hits.push(Hit::new(owner, format!("Fn::Sub: {rest} is never closed"), "close the variable with }"));
                return;
            }
        };
        for p in found {
            if vars.is_some_and(|v| v.contains_key(p)) {
                continue;
            }
            match p.split_once('.') {
                Some((res, attr)) if !PSEUDO_PARAMETERS.contains(&p) => self.attribute(owner, res, attr, hits),
                _ if self.refable(p) => {}
                _ => hits.push(Hit::new(
                    owner,
                    format!("Fn::Sub uses ${{{p}}}: no parameter, resource or variable of that name"),
                    "declare it, add it to the Sub's variables, or write ${!Literal} for a literal",
                )),
            }
        }
    }
}

/// T04: every function is one CloudFormation knows, used where it may be.
pub fn t04(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    let rule_only = ["Contains", "EachMemberEquals", "EachMemberIn", "RefAll", "ValueOf", "ValueOfAll"];
    let scan = |owner: &str, v: &Value, in_rules: bool, hits: &mut Vec<Hit>| {
        each_node(v, &mut |node| {
            for k in node.as_object().into_iter().flat_map(|m| m.keys()) {
                let Some(f) = k.strip_prefix("Fn::") else { continue };
                if f.starts_with("ForEach::") {
                    continue;
                }
                if !FUNCTIONS.contains(&f) {
                    hits.push(Hit::new(
                        owner,
                        format!("{k} (!{f}) is not a CloudFormation function: the template must be processed by the tool that defines it (Rain's `rain pkg` for Rain::*) before CloudFormation reads it"),
                        "run the tool and check its output, or write the value CloudFormation should see",
                    ));
                } else if rule_only.contains(&f) && !in_rules {
                    hits.push(Hit::new(
                        owner,
                        format!("{k} is a rule function: only a Rules section may use it"),
                        "move the assertion into Rules",
                    ));
                } else if let Some(want) = arguments_error(f, &node[k]) {
                    hits.push(Hit::new(
                        owner,
                        format!("{k} {}: {want}", brief(&node[k])),
                        "write the function with the arguments CloudFormation's intrinsic function reference gives",
                    ));
                }
            }
        });
    };
    for (id, r) in t.template["Resources"].as_object().into_iter().flatten() {
        scan(id, r, false, &mut hits);
    }
    for (name, o) in t.template["Outputs"].as_object().into_iter().flatten() {
        scan(&format!("Outputs.{name}"), o, false, &mut hits);
    }
    for (name, r) in t.template["Rules"].as_object().into_iter().flatten() {
        scan(&format!("Rules.{name}"), r, true, &mut hits);
    }
    hits.dedup();
    hits
}

/// What is wrong with a function's arguments, for the shapes CloudFormation documents; `None`
/// when they are right or are themselves a function.
fn arguments_error(f: &str, args: &Value) -> Option<&'static str> {
    let list = |n: std::ops::RangeInclusive<usize>| args.as_array().is_some_and(|a| n.contains(&a.len()));
    let scalar = args.is_string() || super::util::is_intrinsic(args);
    let ok = match f {
        "GetAZs" => scalar,
        "Base64" | "ImportValue" => scalar,
        "Select" | "Split" | "Equals" => list(2..=2),
        "Join" => list(2..=2) && args[0].is_string(),
        "Sub" => {
            args.is_string() || (list(1..=2) && args[0].is_string() && (args.get(1).is_none_or(|v| v.is_object())))
        }
        "If" => list(3..=3) && args[0].is_string(),
        "Not" => list(1..=1),
        "And" | "Or" => list(2..=10),
        "FindInMap" => list(3..=4),
        "Cidr" => list(3..=3),
        "Length" => args.is_array() || super::util::is_intrinsic(args),
        _ => true,
    };
    if ok {
        return None;
    }
    Some(match f {
        "GetAZs" => "takes a region name, \"\" for the stack's region, or !Ref AWS::Region",
        "Base64" | "ImportValue" => "takes a string or a function that gives one",
        "Select" => "takes [index, list]",
        "Split" => "takes [delimiter, string]",
        "Equals" => "takes [value, value]",
        "Join" => "takes [delimiter, [values]] with a literal delimiter",
        "Sub" => "takes a string, or [string, {Name: value}]",
        "If" => "takes [condition name, value if true, value if false]",
        "Not" => "takes [condition]",
        "And" | "Or" => "takes a list of 2 to 10 conditions",
        "FindInMap" => "takes [map name, top-level key, second-level key] (and a default with AWS::LanguageExtensions)",
        "Cidr" => "takes [ip block, count, cidr bits]",
        _ => "takes a list",
    })
}

/// The transforms a template names (`Transform: X` or a list).
pub fn transforms(template: &Value) -> Vec<String> {
    super::util::as_list(&template["Transform"]).into_iter().filter_map(|v| v.as_str().map(str::to_string)).collect()
}

/// T05: a template that a transform or macro changes before CloudFormation reads it: which, and
/// what castform checked.
pub fn t05(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    let names = transforms(t.template);
    let language = names.iter().any(|n| n == "AWS::LanguageExtensions");
    let mut loops = false;
    each_node(t.template, &mut |node| {
        loops |= node.as_object().is_some_and(|m| m.keys().any(|k| k.starts_with("Fn::ForEach::")))
    });
    if loops && !language {
        hits.push(Hit::new("Transform", "uses Fn::ForEach without the AWS::LanguageExtensions transform, which CloudFormation needs to expand it", "add Transform: AWS::LanguageExtensions").with_severity(Severity::Error));
    }
    let problems = if loops { super::intrinsics::expand_for_each(t.template).1 } else { vec![] };
    for p in problems {
        hits.push(
            Hit::new(
                "Transform",
                format!("a loop could not be expanded here, so its copies were not checked: {p}"),
                "give the collection literally or as a parameter with a Default",
            )
            .with_severity(Severity::Warning),
        );
    }
    for n in names.iter().filter(|n| *n != "AWS::LanguageExtensions") {
        let what = if n.starts_with("AWS::Serverless") {
            "the SAM transform turns AWS::Serverless::* resources into CloudFormation ones before CloudFormation reads the template: castform checked the template as written (its structure, and every resource that is not AWS::Serverless::*); `sam validate --lint` checks the rest".to_string()
        } else if n == "AWS::Include" {
            "AWS::Include inserts a snippet from S3 before CloudFormation reads the template: castform checked the template as written".to_string()
        } else {
            format!(
                "the macro {n} rewrites the template before CloudFormation reads it: castform checked the template as written (its structure, and the resources as they stand), not what the macro will make of it"
            )
        };
        hits.push(
            Hit::new(
                "Transform",
                what,
                "check the processed template too (for a macro, from the change set's processed template)",
            )
            .with_severity(Severity::Warning),
        );
    }
    let mut inline = vec![];
    each_node(&t.template["Resources"], &mut |node| {
        if let Some(name) = node.get("Fn::Transform").and_then(|x| x["Name"].as_str()) {
            inline.push(name.to_string());
        }
    });
    inline.sort();
    inline.dedup();
    for n in inline {
        hits.push(Hit::new("Transform", format!("Fn::Transform calls the macro {n}, which rewrites part of the template before CloudFormation reads it: that part was checked as written"), "check the processed template too").with_severity(Severity::Warning));
    }
    hits
}

/// T06: fires from `castform check` itself when a file cannot be read as a template; listed here
/// so the catalog and `--rules` have it.
pub fn t06(_: &Target) -> Vec<Hit> {
    vec![]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspellings_get_a_suggestion() {
        assert_eq!(suggest("Propertes", RESOURCE_KEYS), Some("Properties"));
        assert_eq!(suggest("Retian", &["Delete", "Retain", "Snapshot"]), Some("Retain"));
        assert_eq!(suggest("Zzzzzz", RESOURCE_KEYS), None);
    }

    #[test]
    fn letter_case_costs_nothing_and_a_swap_costs_two() {
        assert_eq!(suggest("PROPERTES", RESOURCE_KEYS), Some("Properties"));
        assert_eq!(suggest("dependson", RESOURCE_KEYS), Some("DependsOn"));
        // Levenshtein, not Damerau: a swapped pair is two edits, within reach; two swaps are not
        assert_eq!(suggest("Retian", &["Retain"]), Some("Retain"));
        assert_eq!(suggest("Rteian", &["Retain"]), None);
    }
}
