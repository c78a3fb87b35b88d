//! Template-wide lessons: outputs (L06), literal regions and accounts (L07), deprecated
//! properties (L08), secrets (L15), tags (L22), placeholders (L23).

use super::util::{as_list, each_string, refers_to};
use super::{Hit, Severity, Target, schema};
use crate::cfn::{TagShape, tag_shape};
use regex::Regex;
use std::sync::OnceLock;

/// Resources someone looks for after a deploy.
const MAJOR: &[&str] = &[
    "AWS::DynamoDB::Table",
    "AWS::Lambda::Function",
    "AWS::Lambda::Url",
    "AWS::CloudFront::Distribution",
    "AWS::S3::Bucket",
    "AWS::MediaConnect::Flow",
    "AWS::MediaLive::Channel",
    "AWS::MediaPackage::OriginEndpoint",
    "AWS::Cognito::UserPool",
    "AWS::ApiGatewayV2::Api",
];

/// L06: every major resource has a stack output.
pub fn l06(t: &Target) -> Vec<Hit> {
    let outputs = &t.template["Outputs"];
    t.resources()
        .filter(|(_, ty, _)| MAJOR.contains(ty))
        .filter(|(id, _, _)| !outputs.as_object().into_iter().flatten().any(|(_, o)| refers_to(&o["Value"], id)))
        .map(|(id, ty, _)| {
            Hit::new(
                id,
                format!("{ty} has no stack output"),
                "add an Output with its name, ARN or URL, so deploys and people can find it",
            )
        })
        .collect()
}

use super::util::cached_regex as regex;

fn region_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    regex(
        &R,
        r"\b(us|eu|ap|sa|ca|me|af|il|mx|cn)(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d\b",
    )
}

fn account_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    // bounded by non-alphanumerics, so twelve digits inside a hex digest are not an account id
    regex(&R, r"(^|[^0-9A-Za-z])[0-9]{12}([^0-9A-Za-z]|$)")
}

/// Strings of the parts CloudFormation acts on: resource properties, outputs, parameter defaults.
fn deployed_strings(t: &Target, f: &mut dyn FnMut(&str, &str, &str)) {
    for (id, _, p) in t.resources() {
        each_string(p, "", &mut |path, s| f(id, path, s));
    }
    for (id, o) in t.template["Outputs"].as_object().into_iter().flatten() {
        each_string(&o["Value"], "", &mut |path, s| f(&format!("Outputs.{id}"), path, s));
    }
    for (id, p) in t.template["Parameters"].as_object().into_iter().flatten() {
        each_string(&p["Default"], "", &mut |path, s| f(&format!("Parameters.{id}"), path, s));
    }
}

/// The literals AWS requires a template to write: the ELB log-delivery accounts per region, stack
/// set target regions, the Lambda@Edge log group name (with each source in the file).
static REQUIRED_LITERALS: &str = include_str!("../../schemas/required-literals.json");

struct Literals {
    /// `:<account>:` of every ELB log-delivery account.
    elb: Vec<String>,
    edge_prefix: String,
    region_lists: serde_json::Value,
}

fn literals() -> &'static Literals {
    static DATA: OnceLock<Literals> = OnceLock::new();
    DATA.get_or_init(|| {
        let data: serde_json::Value = serde_json::from_str(REQUIRED_LITERALS).unwrap_or_default();
        Literals {
            elb: data["elb_log_delivery_accounts"]["accounts"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(_, a)| a.as_str().map(|a| format!(":{a}:")))
                .collect(),
            edge_prefix: data["edge_log_groups"]["prefix"].as_str().unwrap_or("/aws/lambda/us-east-1.").to_string(),
            region_lists: data["region_lists"]["types"].clone(),
        }
    })
}

fn required_literal(ty: &str, path: &str, s: &str) -> bool {
    let l = literals();
    if l.elb.iter().any(|a| s.contains(a.as_str()) || s == a.trim_matches(':')) || s.starts_with(&l.edge_prefix) {
        return true;
    }
    let Some(paths) = l.region_lists[ty].as_array() else { return false };
    // the property path with its list indexes as []: StackInstancesGroup[].Regions[]
    let mut shape = String::with_capacity(path.len());
    let mut skipping = false;
    for c in path.chars() {
        match c {
            '[' => {
                skipping = true;
                shape.push('[');
            }
            ']' => {
                skipping = false;
                shape.push(']');
            }
            _ if !skipping => shape.push(c),
            _ => {}
        }
    }
    paths.iter().any(|p| p.as_str() == Some(shape.as_str()))
}

/// L07: no literal region or account id, except where AWS requires one.
pub fn l07(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    deployed_strings(t, &mut |id, path, s| {
        if path.ends_with("AcmCertificateArn") || path.ends_with("Description") {
            return;
        }
        let region = region_re().find(s);
        let account = if region.is_none() { account_re().find(s) } else { None };
        if region.is_none() && account.is_none() {
            return;
        }
        let ty = t.type_of(id).unwrap_or_default();
        if required_literal(ty, path, s) {
            return;
        }
        // a region parameter's default is the template taking its regions as input
        if let Some(name) = id.strip_prefix("Parameters.")
            && name.to_ascii_lowercase().contains("region")
        {
            return;
        }
        if let Some(m) = region {
            hits.push(Hit::new(
                id,
                format!("{path} holds the literal region {}", m.as_str()),
                if t.env.is_some() {
                    "use ${AWS::Region} (the environment file is the only place a region is written)"
                } else {
                    "use ${AWS::Region}, or a parameter where the region is another stack's"
                },
            ));
        } else if let Some(m) = account {
            let digits: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
            hits.push(Hit::new(id, format!("{path} holds the literal account id {digits}"), "use ${AWS::AccountId}"));
        }
    });
    hits
}

/// L08: no deprecated properties or patterns.
pub fn l08(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (id, ty, p) in t.resources() {
        if ty == "AWS::DynamoDB::Table" && p.get("PointInTimeRecoveryEnabled").is_some() {
            hits.push(Hit::new(
                id,
                "sets PointInTimeRecoveryEnabled at table level",
                "use PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}",
            ));
        }
        if ty == "AWS::CloudFront::CloudFrontOriginAccessIdentity" {
            hits.push(Hit::new(
                id,
                "is an origin access identity, the legacy way to reach S3",
                "use an AWS::CloudFront::OriginAccessControl",
            ));
        }
        if ty == "AWS::CloudFront::Distribution" {
            for o in as_list(&p["DistributionConfig"]["Origins"]) {
                if o["S3OriginConfig"]["OriginAccessIdentity"].as_str().is_some_and(|s| !s.is_empty())
                    || super::util::is_intrinsic(&o["S3OriginConfig"]["OriginAccessIdentity"])
                {
                    hits.push(Hit::new(
                        id,
                        format!("origin {} uses an origin access identity", o["Id"]),
                        "use OriginAccessControlId with an empty OriginAccessIdentity",
                    ));
                }
            }
        }
        for prop in schema::deprecated_properties(ty) {
            if p.get(&prop).is_some() {
                hits.push(Hit::new(
                    id,
                    format!("sets {prop}, which the registry schema of {ty} marks deprecated"),
                    "use the property that replaces it (see the resource's documentation)",
                ));
            }
        }
    }
    hits
}

const SECRET_KEYS: &[&str] = &[
    "password",
    "passphrase",
    "secret",
    "secretstring",
    "secretkey",
    "secretaccesskey",
    "awssecretaccesskey",
    "streamkey",
    "apikey",
    "token",
    "accesstoken",
    "privatekey",
    "clientsecret",
];

fn aws_key_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    regex(&R, r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
}

fn looks_secret_env(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    let suspicious =
        ["SECRET", "PASSWORD", "PASSPHRASE", "STREAM_KEY", "API_KEY", "ACCESS_KEY", "PRIVATE_KEY", "TOKEN"]
            .iter()
            .any(|w| n.contains(w));
    let pointer = ["_ARN", "_NAME", "_ID", "_PARAM", "_PARAMETER", "_TABLE", "_URL", "_PATH", "_PREFIX", "_BUCKET"]
        .iter()
        .any(|s| n.ends_with(s));
    suspicious && !pointer
}

/// AWS credentials in a rendered file (seed 003's `.env` carried them): an access key id, or an
/// `AWS_SECRET_ACCESS_KEY` / `AWS_ACCESS_KEY_ID` / `AWS_SESSION_TOKEN` assignment with a value.
pub fn credentials_in(text: &str) -> Option<String> {
    if let Some(m) = aws_key_re().find(text) {
        return Some(format!("an AWS access key id ({}...)", &m.as_str()[..4]));
    }
    for line in text.lines() {
        let l = line.trim().trim_start_matches("export ");
        for key in ["AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"] {
            if let Some(v) = l.strip_prefix(key).and_then(|r| r.trim_start().strip_prefix(['=', ':']))
                && !v.trim().trim_matches('"').is_empty()
            {
                return Some(key.to_string());
            }
        }
    }
    None
}

/// A value that holds a dynamic reference anywhere (`{{resolve:secretsmanager:...}}` inside a JSON
/// secret string included): CloudFormation fetches the secret at deploy time, which is the fix,
/// not the problem
/// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html>).
fn is_dynamic_reference(s: &str) -> bool {
    s.contains("{{resolve:")
}

/// A value that names a secret or a key rather than being one: an ARN, a KMS key id or alias,
/// a parameter path, a number (a password policy's length).
fn is_pointer(s: &str) -> bool {
    static KEY_ID: OnceLock<Regex> = OnceLock::new();
    s.starts_with("arn:")
        || s.starts_with("alias/")
        || s.starts_with('/')
        || s.parse::<f64>().is_ok()
        || matches!(s, "true" | "false")
        || regex(&KEY_ID, r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$")
            .is_match(s)
}

/// L15: no secret in a template.
pub fn l15(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    deployed_strings(t, &mut |id, path, s| {
        if aws_key_re().is_match(s) {
            hits.push(Hit::new(
                id,
                format!("{path} holds an AWS access key id"),
                "remove it; workloads get credentials from their role",
            ));
            return;
        }
        let last = path
            .rsplit('.')
            .next()
            .unwrap_or(path)
            .split('[')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
            .replace('_', "");
        if SECRET_KEYS.contains(&last.as_str()) && !s.is_empty() && !is_dynamic_reference(s) && !is_pointer(s) {
            hits.push(Hit::new(
                id,
                format!("{path} is a literal secret"),
                "keep it in Secrets Manager or SSM SecureString and pass an ARN or a {{resolve:...}} dynamic reference",
            ));
        } else if s.contains("PRIVATE KEY-----") && !is_dynamic_reference(s) {
            hits.push(Hit::new(
                id,
                format!("{path} holds a private key"),
                "keep it in Secrets Manager and pass its ARN",
            ));
        }
    });
    for (id, f) in t.of_type("AWS::Lambda::Function") {
        for (k, v) in f["Environment"]["Variables"].as_object().into_iter().flatten() {
            if looks_secret_env(k)
                && v.as_str().is_some_and(|s| !s.is_empty() && !is_dynamic_reference(s) && !is_pointer(s))
            {
                hits.push(Hit::new(
                    id,
                    format!("environment variable {k} holds a literal secret"),
                    "pass the secret's ARN or parameter name and read it at run time",
                ));
            }
        }
    }
    // a parameter is judged by its value: a secret-looking parameter with a literal default puts
    // the secret in the template; one without a default is supplied at deploy time
    for (id, p) in t.template["Parameters"].as_object().into_iter().flatten() {
        let lower = id.to_ascii_lowercase();
        let default = p["Default"].as_str().unwrap_or_default();
        if ["password", "secret", "passphrase", "streamkey", "token"].iter().any(|w| lower.contains(w))
            && !default.is_empty()
            && !is_dynamic_reference(default)
            && !is_pointer(default)
            && !lower.ends_with("arn")
            && !lower.contains("kms")
            && !lower.ends_with("name")
        {
            hits.push(Hit::new(
                &format!("Parameters.{id}"),
                "a secret-looking parameter has a literal default: the secret is in the template",
                "remove the default and pass the value at deploy time (NoEcho: true), or take a Secrets Manager ARN",
            ));
        }
    }
    hits
}

/// The shape of a type's `Tags`: castform's generated types first, then the registry schema
/// (a list of Key/Value pairs or a map), so hand-written templates of any type are checked.
fn tags_of(ty: &str) -> TagShape {
    match tag_shape(ty) {
        TagShape::None => {}
        known => return known,
    }
    let Some(s) = super::registry::schema(ty, super::registry::DEFAULT_REGION) else { return TagShape::None };
    let mut node = &s["properties"]["Tags"];
    if let Some(r) = node["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        node = s.pointer(r).unwrap_or(node);
    }
    match node["type"].as_str() {
        Some("array") => TagShape::List,
        Some("object") => TagShape::Map,
        _ => TagShape::None,
    }
}

/// L22: every taggable resource carries the environment's cost-allocation tags (or, for a
/// hand-written template, the keys `check --tags` names).
pub fn l22(t: &Target) -> Vec<Hit> {
    let (who, keys_wanted) = match &t.env {
        Some(env) => (env.name.clone(), env.tag_keys.clone()),
        None if !t.required_tags.is_empty() => ("--tags".to_string(), t.required_tags.clone()),
        None => return vec![],
    };
    let mut hits = vec![];
    for (id, ty, p) in t.resources() {
        let keys: Vec<String> = match tags_of(ty) {
            TagShape::List => {
                as_list(&p["Tags"]).iter().filter_map(|t| t["Key"].as_str().map(str::to_string)).collect()
            }
            TagShape::Map => p["Tags"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default(),
            TagShape::None => continue,
        };
        // where a tag change would replace the resource (Tags create-only in its schema, e.g. a
        // MediaPackage v1 channel: new playback URLs), the stack's tags, which CloudFormation
        // applies at creation, carry the cost allocation instead
        if super::schema::create_only_properties(ty).iter().any(|p| p == "Tags") {
            continue;
        }
        let missing: Vec<&String> = keys_wanted.iter().filter(|k| !keys.contains(k)).collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            hits.push(Hit::new(
                id,
                format!("lacks the cost-allocation tags {}", names.join(", ")),
                if t.env.is_some() {
                    format!("tag it with the tags of {who} (castform's stacks do this for every taggable resource)")
                } else {
                    "add the tags to the resource, or pass them as stack tags when you deploy (which CloudFormation propagates)".to_string()
                },
            ));
        }
    }
    hits
}

fn placeholder_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    regex(
        &R,
        // `<your-bucket>`, `<ACCOUNT_ID>`: words joined by - or _ between angle brackets; not an
        // HTML or script tag (`<script>`, `<powershell>`, `<html>`), nor heredoc text
        r"(?i)(PLACEHOLDER|\bCHANGE[_-]?ME\b|\bREPLACE[_-]?ME\b|\bTODO\b|\bexample\.(com|org|net)\b|\bx{4,}\b|<(your|my|insert|enter|replace)[a-z0-9_-]*>|<[a-z0-9]+([_-][a-z0-9]+)+>|<[A-Z][A-Z0-9]*(_[A-Z0-9]+)+>)",
    )
}

fn documentation_net_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    regex(&R, r"^(192\.0\.2|198\.51\.100|203\.0\.113)\.[0-9]{1,3}(/[0-9]{1,2})?$")
}

/// Placeholder text in a string, if any (also used on rendered files).
pub fn placeholder_in(s: &str) -> Option<String> {
    placeholder_re().find(s).map(|m| m.as_str().to_string())
}

/// L23: no placeholder values.
pub fn l23(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    deployed_strings(t, &mut |id, path, s| {
        if let Some(p) = placeholder_in(s) {
            hits.push(Hit::new(
                id,
                format!("{path} holds the placeholder {p:?}"),
                if t.env.is_some() {
                    "put the real value in the environment file"
                } else {
                    "put the real value in, or take it as a parameter"
                },
            ));
        } else if documentation_net_re().is_match(s) {
            // RFC 5737 reserves these ranges for documentation: no encoder ever sends from one,
            // so a flow's allow-list naming one accepts nothing (media review L2). Where the
            // environment is production (`confirm`), that is an error, not a reminder.
            let production = t.env.as_ref().is_some_and(|e| e.confirm);
            hits.push(
                Hit::new(
                    id,
                    format!("{path} is {s}, a documentation address (RFC 5737) standing in for a real one"),
                    "set the real address in the environment file before deploying",
                )
                .with_severity(if production { Severity::Error } else { Severity::Warning }),
            );
        }
    });
    hits
}
