//! L17: every resource's properties against AWS's registry schema of its type, in process:
//! names (`additionalProperties: false`), value types, required properties, enums, patterns,
//! lengths and ranges. Values that are intrinsic functions are resolved at deploy time and are
//! not checked here.

use super::util::is_intrinsic;
use super::{Hit, Target};
use regex::Regex;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The type's registry schema (the default region's; schemas do not differ between regions).
fn schema(type_name: &str) -> Option<&'static Value> {
    super::registry::schema(type_name, super::registry::DEFAULT_REGION)
}

/// Top-level properties the registry schema marks deprecated.
pub fn deprecated_properties(type_name: &str) -> Vec<String> {
    schema(type_name)
        .and_then(|s| s["deprecatedProperties"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str()?.strip_prefix("/properties/").filter(|r| !r.contains('/')).map(str::to_string))
        .collect()
}

/// Property paths the registry schema marks create-only (a change replaces the resource), as
/// dotted paths under `Properties`: `Name`, `Source.Name`.
pub fn create_only_properties(type_name: &str) -> Vec<String> {
    schema(type_name)
        .and_then(|s| s["createOnlyProperties"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str()?.strip_prefix("/properties/").map(|r| r.replace('/', ".")))
        .collect()
}

/// Top-level properties a template may set (the schema's properties less its read-only ones).
pub fn writable_properties(type_name: &str) -> Vec<String> {
    let Some(s) = schema(type_name) else { return vec![] };
    let read_only: Vec<&str> = s["readOnlyProperties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str()?.strip_prefix("/properties/"))
        .collect();
    s["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.clone())
        .filter(|k| !read_only.contains(&k.as_str()))
        .collect()
}

/// Whether CloudFormation's registry has a schema for the type.
pub fn has_schema(type_name: &str) -> bool {
    super::registry::exists(type_name)
}

fn pattern(p: &str) -> Option<&'static Regex> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<&'static Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = cache.lock().ok()?;
    if let Some(r) = map.get(p) {
        return *r;
    }
    // registry patterns are ECMA-262; the few that use look-around are skipped
    let compiled = Regex::new(p).ok().map(|r| &*Box::leak(Box::new(r)));
    map.insert(p.to_string(), compiled);
    compiled
}

struct Validator<'a> {
    root: &'a Value,
    errors: Vec<String>,
}

static NULL: Value = Value::Null;

impl<'a> Validator<'a> {
    fn resolve(&self, node: &'a Value) -> &'a Value {
        let root: &'a Value = self.root;
        match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => root.pointer(pointer).unwrap_or(&NULL),
            None => node,
        }
    }

    fn types(node: &Value) -> Vec<&str> {
        match node.get("type") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        }
    }

    fn type_ok(ty: &str, v: &Value) -> bool {
        match ty {
            // CloudFormation turns numbers and booleans into strings
            "string" => v.is_string() || v.is_number() || v.is_boolean(),
            "integer" => v.is_i64() || v.is_u64() || v.as_str().is_some_and(|s| s.parse::<i64>().is_ok()),
            "number" => v.is_number() || v.as_str().is_some_and(|s| s.parse::<f64>().is_ok()),
            "boolean" => v.is_boolean() || matches!(v.as_str(), Some("true" | "false")),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => true,
        }
    }

    fn validate(&mut self, node: &'a Value, v: &Value, path: &str, depth: usize) {
        if depth > 64 || is_intrinsic(v) {
            return;
        }
        // a dynamic reference (`{{resolve:ssm:...}}`, `{{resolve:secretsmanager:...}}`) is
        // replaced by CloudFormation with the stored value: only that value can be checked
        // (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html>)
        if v.as_str().is_some_and(|s| s.contains("{{resolve:")) {
            return;
        }
        let node = self.resolve(node);
        if node.is_null() {
            return;
        }
        if !self.alternatives(node, v, path, depth) {
            return;
        }
        if let Some(all) = node.get("allOf").and_then(Value::as_array) {
            for alt in all {
                self.validate(alt, v, path, depth + 1);
            }
        }
        let types = Self::types(node);
        if !types.is_empty() && !types.iter().any(|t| Self::type_ok(t, v)) {
            self.errors.push(format!("{path}: expected {}, found {}", types.join(" or "), kind(v)));
            return;
        }
        if let Some(c) = node.get("const")
            && c != v
            && c.as_str().is_none_or(|c| Some(c) != v.as_str())
        {
            self.errors.push(format!("{path}: {v} must be {c}"));
        }
        self.enumeration(node, v, path);
        match v {
            Value::String(s) => self.string(node, s, path),
            Value::Number(n) => self.number(node, n, path),
            Value::Array(items) => self.array(node, items, path, depth),
            Value::Object(m) => {
                self.object_keys(node, m, path);
                self.object_values(node, m, path, depth);
            }
            _ => {}
        }
    }

    /// `oneOf` and `anyOf`: when no alternative fits, the errors of the one that came closest
    /// (the fewest), and `false`: nothing more is checked of the value.
    fn alternatives(&mut self, node: &'a Value, v: &Value, path: &str, depth: usize) -> bool {
        for key in ["oneOf", "anyOf"] {
            if let Some(alts) = node.get(key).and_then(Value::as_array) {
                let mut best: Option<Vec<String>> = None;
                for alt in alts {
                    let mut sub = Validator { root: self.root, errors: vec![] };
                    sub.validate(alt, v, path, depth + 1);
                    if sub.errors.is_empty() {
                        best = None;
                        break;
                    }
                    if best.as_ref().is_none_or(|b| sub.errors.len() < b.len()) {
                        best = Some(sub.errors);
                    }
                }
                if let Some(errs) = best {
                    self.errors.extend(errs);
                    return false;
                }
            }
        }
        true
    }

    /// `enum`, or `enumCaseInsensitive`; a number may be written as a string.
    fn enumeration(&mut self, node: &Value, v: &Value, path: &str) {
        let (values, caseless) = match (node.get("enum"), node.get("enumCaseInsensitive")) {
            (Some(e), _) => (e.as_array(), false),
            (None, Some(e)) => (e.as_array(), true),
            _ => (None, false),
        };
        let Some(values) = values else { return };
        let same = |e: &Value| match (e.as_str(), v.as_str()) {
            (Some(a), Some(b)) => {
                if caseless {
                    a.eq_ignore_ascii_case(b)
                } else {
                    a == b
                }
            }
            _ => {
                e == v
                    || (e.is_number()
                        && v.as_str().and_then(|b| b.parse::<f64>().ok()).is_some_and(|b| e.as_f64() == Some(b)))
            }
        };
        let found = values.iter().any(same);
        if !found && !values.is_empty() {
            let list: Vec<String> = values.iter().take(12).map(|e| e.to_string()).collect();
            self.errors.push(format!(
                "{path}: {v} is not one of {}{}",
                list.join(", "),
                if values.len() > 12 { ", ..." } else { "" }
            ));
        }
    }

    /// `pattern`, `format`, `maxLength` and `minLength`.
    fn string(&mut self, node: &Value, s: &str, path: &str) {
        if let Some(p) = node.get("pattern").and_then(Value::as_str).and_then(pattern)
            && !p.is_match(s)
        {
            self.errors.push(format!("{path}: {s:?} does not match the pattern {}", p.as_str()));
        }
        if let Some(f) = node.get("format").and_then(Value::as_str)
            && let Some(why) = format_error(f, s)
        {
            self.errors.push(format!("{path}: {s:?} is not {why}"));
        }
        let len = s.chars().count() as u64;
        if let Some(max) = node.get("maxLength").and_then(Value::as_u64).filter(|m| len > *m) {
            self.errors.push(format!("{path}: is {len} characters long, at most {max} allowed"));
        }
        if let Some(min) = node.get("minLength").and_then(Value::as_u64).filter(|m| len < *m) {
            self.errors.push(format!("{path}: is {len} characters long, at least {min} required"));
        }
    }

    /// `maximum`, `minimum` and `multipleOf`.
    fn number(&mut self, node: &Value, n: &serde_json::Number, path: &str) {
        let x = n.as_f64().unwrap_or(0.0);
        if let Some(max) = node.get("maximum").and_then(Value::as_f64).filter(|m| x > *m) {
            self.errors.push(format!("{path}: {n} is above the maximum {max}"));
        }
        if let Some(min) = node.get("minimum").and_then(Value::as_f64).filter(|m| x < *m) {
            self.errors.push(format!("{path}: {n} is below the minimum {min}"));
        }
        if let Some(m) = node.get("multipleOf").and_then(Value::as_f64).filter(|m| *m > 0.0 && (x / m).fract() != 0.0) {
            self.errors.push(format!("{path}: {n} is not a multiple of {m}"));
        }
    }

    /// Each item against `items`, then `maxItems` and `minItems`.
    fn array(&mut self, node: &'a Value, items: &[Value], path: &str, depth: usize) {
        if let Some(item) = node.get("items") {
            for (i, x) in items.iter().enumerate() {
                self.validate(item, x, &format!("{path}[{i}]"), depth + 1);
            }
        }
        if let Some(max) = node.get("maxItems").and_then(Value::as_u64).filter(|m| items.len() as u64 > *m) {
            self.errors.push(format!("{path}: has {} items, at most {max} allowed", items.len()));
        }
        // a list built by a function (Fn::Split, Fn::GetAZs ...) has a length only known at deploy time
        if let Some(min) = node.get("minItems").and_then(Value::as_u64).filter(|m| (items.len() as u64) < *m) {
            self.errors.push(format!("{path}: has {} items, at least {min} required", items.len()));
        }
    }

    /// Which keys an object has: `required`, `requiredXor`, `dependencies` (and
    /// `dependentRequired`), `dependentExcluded`, `maxProperties`.
    fn object_keys(&mut self, node: &Value, m: &Map<String, Value>, path: &str) {
        for req in node.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !m.contains_key(req) {
                self.errors.push(format!("{path}: the required property {req} is missing"));
            }
        }
        let names = |v: &Value| -> Vec<String> {
            v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect()
        };
        // exactly one of (cfn-lint's requiredXor, from the resource's documentation)
        if let Some(xor) = node.get("requiredXor") {
            let set = names(xor);
            let given: Vec<&String> = set.iter().filter(|k| m.contains_key(k.as_str())).collect();
            if given.len() != 1 {
                self.errors.push(format!("{path}: give exactly one of {} ({} given)", set.join(", "), given.len()));
            }
        }
        for key in ["dependencies", "dependentRequired"] {
            for (k, needs) in node.get(key).and_then(Value::as_object).into_iter().flatten() {
                if m.contains_key(k) {
                    for n in names(needs).iter().filter(|n| !m.contains_key(n.as_str())) {
                        self.errors.push(format!("{path}: {k} needs {n} as well"));
                    }
                }
            }
        }
        for (k, excluded) in node.get("dependentExcluded").and_then(Value::as_object).into_iter().flatten() {
            if m.contains_key(k) {
                for n in names(excluded).iter().filter(|n| m.contains_key(n.as_str())) {
                    self.errors.push(format!("{path}: {k} and {n} cannot be given together"));
                }
            }
        }
        if let Some(max) = node.get("maxProperties").and_then(Value::as_u64).filter(|x| m.len() as u64 > *x) {
            self.errors.push(format!("{path}: has {} keys, at most {max} allowed", m.len()));
        }
    }

    /// Each value of an object against its schema: `properties`, else the first matching
    /// `patternProperties`, else `additionalProperties` (refused when `false`).
    fn object_values(&mut self, node: &'a Value, m: &Map<String, Value>, path: &str, depth: usize) {
        let props = node.get("properties").and_then(Value::as_object);
        let patterns = node.get("patternProperties").and_then(Value::as_object);
        for (k, x) in m {
            let child = format!("{path}.{k}");
            if let Some(s) = props.and_then(|p| p.get(k)) {
                self.validate(s, x, &child, depth + 1);
            } else if let Some((_, s)) =
                patterns.and_then(|p| p.iter().find(|(re, _)| pattern(re).is_none_or(|r| r.is_match(k))))
            {
                self.validate(s, x, &child, depth + 1);
            } else if node.get("additionalProperties") == Some(&Value::Bool(false)) {
                let mut allowed: Vec<&str> = props.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
                allowed.sort();
                self.errors.push(format!("{child}: {k} is not a property here (allowed: {})", allowed.join(", ")));
            } else if let Some(s) = node.get("additionalProperties").filter(|s| s.is_object()) {
                self.validate(s, x, &child, depth + 1);
            }
        }
    }
}

/// Why `s` is not of the schema's `format`, for the formats CloudFormation's schemas use and
/// cfn-lint checks (its `jsonschema/_format.py` and `rules/formats/`, MIT-0); `None` when it is
/// (or the format is one castform does not check).
fn format_error(format: &str, s: &str) -> Option<String> {
    use std::net::{Ipv4Addr, Ipv6Addr};
    let arn = r"^arn:aws[a-zA-Z-]*:";
    let pattern = match format {
        "ipv4" => return s.parse::<Ipv4Addr>().is_err().then(|| "an IPv4 address".into()),
        "ipv6" => return s.parse::<Ipv6Addr>().is_err().then(|| "an IPv6 address".into()),
        "ipv4-network" | "ipv6-network" => {
            let (addr, bits) = s.split_once('/').unwrap_or((s, if format == "ipv4-network" { "32" } else { "128" }));
            let bits: u32 = match bits.parse() {
                Ok(b) => b,
                Err(_) => return Some(format!("an {} network (a prefix length after /)", &format[..4])),
            };
            let host_bits_clear = if format == "ipv4-network" {
                addr.parse::<Ipv4Addr>()
                    .ok()
                    .filter(|_| bits <= 32)
                    .map(|a| u32::from(a).checked_shl(bits).unwrap_or(0) == 0)
            } else {
                addr.parse::<Ipv6Addr>()
                    .ok()
                    .filter(|_| bits <= 128)
                    .map(|a| u128::from(a).checked_shl(bits).unwrap_or(0) == 0)
            };
            return match host_bits_clear {
                Some(true) => None,
                Some(false) => Some(format!(
                    "an {} network: bits are set after the /{bits} prefix (the network would be {})",
                    &format[..4],
                    network_of(addr, bits)
                )),
                None => Some(format!("an {} network", &format[..4])),
            };
        }
        "AWS::IAM::Role.Arn" => format!(r"{arn}iam::\d{{12}}:role/.+$"),
        "AWS::KMS::Key.Arn" => format!(r"{arn}kms:[a-z0-9-]+:\d{{12}}:(key|alias)/.+$"),
        "AWS::KMS::Key.Id" => {
            "^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias/[a-zA-Z0-9/_-]+)$"
                .into()
        }
        "AWS::KMS::Alias.AliasName" => "^alias/[a-zA-Z0-9:/_-]+$".into(),
        "AWS::EC2::SecurityGroup.Id" => "^sg-([a-fA-F0-9]{8}|[a-fA-F0-9]{17})$".into(),
        "AWS::EC2::Subnet.Id" => "^subnet-(([0-9A-Fa-f]{8})|([0-9A-Fa-f]{17}))$".into(),
        "AWS::EC2::VPC.Id" => "^vpc-(([0-9A-Fa-f]{8})|([0-9A-Fa-f]{17}))$".into(),
        "AWS::EC2::Image.Id" => "^ami-([0-9a-z]{8}|[0-9a-z]{17})$".into(),
        "AWS::Lambda::Function.Arn" => format!(r"{arn}lambda:[a-z0-9-]+:\d{{12}}:function:.+(:.+)?$"),
        "AWS::SNS::Topic.Arn" => format!(r"{arn}sns:[a-z0-9-]+:\d{{12}}:.+$"),
        "AWS::ACM::Certificate.Arn" => format!(r"{arn}acm:[a-z0-9-]+:\d{{12}}:certificate/.+$"),
        "AWS::Logs::LogGroup.Name" => r"^[\.\-_/#A-Za-z0-9]{1,512}$".into(),
        _ => return None,
    };
    let re = self::pattern(&pattern)?;
    (!re.is_match(s)).then(|| format!("a valid {format}"))
}

fn network_of(addr: &str, bits: u32) -> String {
    match addr.parse::<std::net::Ipv4Addr>() {
        Ok(a) => {
            let mask = u32::MAX.checked_shl(32 - bits.min(32)).unwrap_or(0);
            format!("{}/{bits}", std::net::Ipv4Addr::from(u32::from(a) & mask))
        }
        Err(_) => format!("{addr}/{bits} with its host bits cleared"),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Validates one resource's properties against its type's schema: messages name the property
/// path from `Properties`. `None` when no schema is vendored for the type.
pub fn validate_properties(type_name: &str, properties: &Value) -> Option<Vec<String>> {
    let root = schema(type_name)?;
    let mut v = Validator { root, errors: vec![] };
    let props = if properties.is_null() { &Value::Object(Default::default()) } else { properties };
    v.validate(root, props, "Properties", 0);
    // read-only properties cannot be set
    for ro in root["readOnlyProperties"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if let Some(name) = ro.strip_prefix("/properties/").filter(|r| !r.contains('/'))
            && props.get(name).is_some()
        {
            v.errors.push(format!("Properties.{name}: is read-only (an attribute, not a property)"));
        }
    }
    Some(v.errors)
}

/// L17: every resource's properties are valid for its type, in the template's region.
pub fn l17(t: &Target) -> Vec<Hit> {
    use super::registry;
    let mut hits = vec![];
    let region = t.region.as_deref().unwrap_or(registry::DEFAULT_REGION);
    let sam = super::structure::transforms(t.template).iter().any(|n| n.starts_with("AWS::Serverless"));
    for (id, ty, p) in t.resources() {
        // custom resources, modules and the SAM transform's types are not in the registry
        if !ty.starts_with("AWS::") || ty.ends_with("::MODULE") || (sam && ty.starts_with("AWS::Serverless::")) {
            continue;
        }
        // a type that does not exist (a CDK construct taken for a CloudFormation type, a typo)
        if !registry::exists(ty) {
            hits.push(Hit::new(
                id,
                format!("{ty} is not a CloudFormation resource type in any region"),
                "use a type from the CloudFormation resource type reference, or remove the resource",
            ));
            continue;
        }
        if !registry::in_region(ty, region) {
            hits.push(Hit::new(
                id,
                format!(
                    "{ty} is not available in {region}; regions that have it: {}",
                    registry::regions_of(ty).join(", ")
                ),
                "deploy the stack to a region that offers the type, or use another type",
            ));
        }
        // services AWS shut down or is shutting down
        // (<https://docs.aws.amazon.com/general/latest/gr/full_shutdown_services.html>)
        if let Some(lc) = registry::schema(ty, region).map(|s| &s["lifecycle"])
            && let Some(status) = lc["status"].as_str()
        {
            let date = lc["date"].as_str().map(|d| format!(" on {d}")).unwrap_or_default();
            match status {
                "shutdown" => hits.push(Hit::new(
                    id,
                    format!("{ty} is from a service AWS shut down{date}: CloudFormation can no longer create it"),
                    "move to the service's replacement and remove the resource",
                )),
                "sunset" => hits.push(
                    Hit::new(
                        id,
                        format!("{ty} is from a service AWS will shut down{date}"),
                        "plan the move to the service's replacement",
                    )
                    .with_severity(super::Severity::Warning),
                ),
                "maintenance" => hits.push(
                    Hit::new(
                        id,
                        format!("{ty} is from a service in maintenance mode{date}: no new features"),
                        "consider the service's replacement",
                    )
                    .with_severity(super::Severity::Warning),
                ),
                _ => {}
            }
        }
        for e in validate_properties(ty, p).unwrap_or_default() {
            hits.push(Hit::new(id, e, format!("correct it against the {ty} reference (registry schema)")));
        }
    }
    hits
}
