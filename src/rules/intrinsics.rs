//! What CloudFormation does to a template before it creates anything, done here so the rules
//! see what it would see: `Fn::ForEach` loops expanded as the `AWS::LanguageExtensions`
//! transform expands them
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-foreach.html>),
//! and `Fn::If` resolved both ways, so a value behind either branch is checked
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-conditions.html>).

use serde_json::{Map, Value};

/// The template with every `Fn::ForEach::Name` loop replaced by its copies. A collection given
/// as a `Ref` to a `CommaDelimitedList` parameter takes the parameter's `Default`. Returns the
/// expanded template and what could not be expanded (for T05).
pub fn expand_for_each(template: &Value) -> (Value, Vec<String>) {
    let mut problems = vec![];
    if !has_loops(template) {
        return (template.clone(), problems);
    }
    let params = template["Parameters"].clone();
    let mut out = template.clone();
    for section in ["Resources", "Outputs", "Conditions"] {
        if let Some(v) = out.get_mut(section) {
            *v = expand(v, &params, &mut problems, 0);
        }
    }
    (out, problems)
}

/// Does the template hold an `Fn::ForEach` loop?
pub fn has_loops(template: &Value) -> bool {
    fn any(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.keys().any(|k| is_loop(k)) || m.values().any(any),
            Value::Array(a) => a.iter().any(any),
            _ => false,
        }
    }
    any(template)
}

fn is_loop(key: &str) -> bool {
    key.starts_with("Fn::ForEach::")
}

fn expand(v: &Value, params: &Value, problems: &mut Vec<String>, depth: usize) -> Value {
    if depth > 16 {
        return v.clone();
    }
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                if !is_loop(k) {
                    out.insert(k.clone(), expand(x, params, problems, depth + 1));
                    continue;
                }
                match copies(k, x, params) {
                    Ok(items) => {
                        for (key, value) in items {
                            if is_loop(&key) {
                                // a loop in a loop: its copies join this level
                                let inner =
                                    expand(&Value::Object(Map::from_iter([(key, value)])), params, problems, depth + 1);
                                out.extend(inner.as_object().cloned().unwrap_or_default());
                            } else {
                                out.insert(key, expand(&value, params, problems, depth + 1));
                            }
                        }
                    }
                    Err(e) => problems.push(format!("{k}: {e}")),
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| expand(x, params, problems, depth + 1)).collect()),
        other => other.clone(),
    }
}

/// One loop's (key, value) copies.
fn copies(name: &str, body: &Value, params: &Value) -> Result<Vec<(String, Value)>, String> {
    let parts =
        body.as_array().filter(|a| a.len() == 3).ok_or("expects [Identifier, Collection, {OutputKey: OutputValue}]")?;
    let id = parts[0].as_str().ok_or("the identifier must be a string")?;
    let collection: Vec<String> = match &parts[1] {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err("collection items are resolved at deploy time".to_string()),
            })
            .collect::<Result<_, _>>()?,
        Value::Object(m) if m.get("Ref").and_then(Value::as_str).is_some() => {
            let p = m["Ref"].as_str().unwrap_or_default();
            let default = params[p]["Default"].as_str().ok_or_else(|| {
                format!("the collection is the parameter {p}, which has no Default to check the loop with")
            })?;
            default.split(',').map(|s| s.trim().to_string()).collect()
        }
        _ => return Err("the collection must be a list or a Ref to a CommaDelimitedList parameter".into()),
    };
    let fragment = parts[2].as_object().ok_or("the fragment must be a mapping of OutputKey to OutputValue")?;
    let mut out = vec![];
    for item in &collection {
        for (key, value) in fragment {
            if !key.contains(&format!("${{{id}}}")) && !key.contains(&format!("&{{{id}}}")) && !is_loop(key) {
                return Err(format!("the output key {key} must contain ${{{id}}} or &{{{id}}} ({name})"));
            }
            out.push((substitute(key, id, item), replace(value, id, item)));
        }
    }
    Ok(out)
}

/// `${Id}` becomes the item, `&{Id}` the item without its non-alphanumeric characters.
fn substitute(s: &str, id: &str, item: &str) -> String {
    let plain: String = item.chars().filter(char::is_ascii_alphanumeric).collect();
    s.replace(&format!("${{{id}}}"), item).replace(&format!("&{{{id}}}"), &plain)
}

fn replace(v: &Value, id: &str, item: &str) -> Value {
    match v {
        Value::String(s) => Value::String(substitute(s, id, item)),
        Value::Array(a) => Value::Array(a.iter().map(|x| replace(x, id, item)).collect()),
        Value::Object(m) => {
            if m.len() == 1 && m.get("Ref").and_then(Value::as_str) == Some(id) {
                return Value::String(item.to_string());
            }
            Value::Object(m.iter().map(|(k, x)| (substitute(k, id, item), replace(x, id, item))).collect())
        }
        other => other.clone(),
    }
}

/// The template with every `Fn::If` taken as its true branch (`true`) or its false branch, and
/// `AWS::NoValue` removed where a branch gives it, as CloudFormation does.
pub fn branch(template: &Value, which: bool) -> Value {
    let mut out = template.clone();
    for section in ["Resources", "Outputs"] {
        if let Some(v) = out.get_mut(section) {
            *v = take(v, which).unwrap_or(Value::Null);
        }
    }
    out
}

fn no_value(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.len() == 1 && m.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue"))
}

/// `None`: the value is `AWS::NoValue` and its key or item goes away.
fn take(v: &Value, which: bool) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if no_value(v) {
                return None;
            }
            if m.len() == 1
                && let Some(Value::Array(args)) = m.get("Fn::If")
                && args.len() == 3
            {
                return take(&args[if which { 1 } else { 2 }], which);
            }
            Some(Value::Object(m.iter().filter_map(|(k, x)| Some((k.clone(), take(x, which)?))).collect()))
        }
        Value::Array(a) => Some(Value::Array(a.iter().filter_map(|x| take(x, which)).collect())),
        other => Some(other.clone()),
    }
}

/// Does the template hold an `Fn::If` in its resources or outputs?
pub fn has_conditions(template: &Value) -> bool {
    fn any(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.contains_key("Fn::If") || m.values().any(any),
            Value::Array(a) => a.iter().any(any),
            _ => false,
        }
    }
    any(&template["Resources"]) || any(&template["Outputs"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn for_each_makes_one_resource_per_item_with_refs_and_keys_substituted() {
        // the first example of AWS's Fn::ForEach page: a topic per name
        let t = json!({
            "Transform": "AWS::LanguageExtensions",
            "Parameters": {"Names": {"Type": "CommaDelimitedList", "Default": "a-1, b"}},
            "Resources": {"Fn::ForEach::Topics": ["Name", {"Ref": "Names"}, {
                "Topic&{Name}": {"Type": "AWS::SNS::Topic", "Properties": {
                    "TopicName": {"Ref": "Name"}, "DisplayName": {"Fn::Sub": "${Name}-shown"}}}
            }]}
        });
        let (out, problems) = expand_for_each(&t);
        assert!(problems.is_empty(), "{problems:?}");
        let r = out["Resources"].as_object().unwrap();
        assert_eq!(r.keys().collect::<Vec<_>>(), ["Topica1", "Topicb"]);
        assert_eq!(r["Topica1"]["Properties"]["TopicName"], "a-1");
        assert_eq!(r["Topicb"]["Properties"]["DisplayName"], json!({"Fn::Sub": "b-shown"}));
    }

    #[test]
    fn a_loop_in_a_loop_makes_every_combination() {
        // AWS's sample fn-foreach-s3-outputs: an output per bucket and attribute
        let t = json!({"Outputs": {"Fn::ForEach::Outer": ["Id", ["A", "B"], {
            "Fn::ForEach::Inner": ["P", ["Arn", "DomainName"], {
                "S3Bucket${Id}${P}": {"Value": {"Fn::GetAtt": [{"Fn::Sub": "S3Bucket${Id}"}, {"Ref": "P"}]}}}]}]}});
        let (out, problems) = expand_for_each(&t);
        assert!(problems.is_empty(), "{problems:?}");
        let keys: Vec<&String> = out["Outputs"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["S3BucketAArn", "S3BucketADomainName", "S3BucketBArn", "S3BucketBDomainName"]);
        assert_eq!(out["Outputs"]["S3BucketBArn"]["Value"]["Fn::GetAtt"], json!([{"Fn::Sub": "S3BucketB"}, "Arn"]));
    }

    #[test]
    fn a_loop_without_a_checkable_collection_is_reported() {
        let t = json!({"Parameters": {"N": {"Type": "CommaDelimitedList"}},
            "Resources": {"Fn::ForEach::L": ["X", {"Ref": "N"}, {"Q${X}": {"Type": "AWS::SQS::Queue"}}]}});
        let (_, problems) = expand_for_each(&t);
        assert!(problems[0].contains("no Default"), "{problems:?}");
    }

    #[test]
    fn each_branch_of_fn_if_is_seen_and_no_value_removed() {
        let t = json!({"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {
            "BucketName": {"Fn::If": ["C", "one", {"Ref": "AWS::NoValue"}]},
            "Tags": [{"Fn::If": ["C", {"Key": "k", "Value": "v"}, {"Ref": "AWS::NoValue"}]}]}}}});
        let yes = branch(&t, true);
        let no = branch(&t, false);
        assert_eq!(yes["Resources"]["B"]["Properties"]["BucketName"], "one");
        assert_eq!(yes["Resources"]["B"]["Properties"]["Tags"], json!([{"Key": "k", "Value": "v"}]));
        assert!(no["Resources"]["B"]["Properties"].get("BucketName").is_none());
        assert_eq!(no["Resources"]["B"]["Properties"]["Tags"], json!([]));
        assert!(has_conditions(&t) && !has_conditions(&yes));
    }
}
