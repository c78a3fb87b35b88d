//! Reading any CloudFormation template: JSON, or YAML with short-form tags (`!Ref`, `!GetAtt`,
//! `!Sub` ...) turned into their long form.

use serde_json::{Map, Value, json};
use serde_yaml::value::{Tag, TaggedValue};

#[derive(Debug, thiserror::Error)]
pub enum TemplateFileError {
    #[error("{file}:{line}:{column}: not valid JSON: {message}")]
    Json { file: String, line: usize, column: usize, message: String },
    #[error("{file}{at}: not valid YAML: {message}")]
    Yaml { file: String, at: String, message: String },
    #[error("{file}: {message}")]
    Shape { file: String, message: String },
}

/// Parses a template's text; YAML unless it starts with `{`. A file without a `Resources`
/// section parses (the structure rule T01 reports it); what cannot be read at all is an error
/// naming the file, line and column.
pub fn parse(text: &str, file: &str) -> Result<Value, TemplateFileError> {
    let v = if text.trim_start().starts_with('{') {
        serde_json::from_str::<Strict>(text).map(|s| s.0).map_err(|e| TemplateFileError::Json {
            file: file.into(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?
    } else {
        let y: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| TemplateFileError::Yaml {
            file: file.into(),
            at: e.location().map(|l| format!(":{}:{}", l.line(), l.column())).unwrap_or_default(),
            message: e.to_string(),
        })?;
        to_json(&y).map_err(|message| TemplateFileError::Shape { file: file.into(), message })?
    };
    if !v.is_object() {
        return Err(TemplateFileError::Shape {
            file: file.into(),
            message: "is not a mapping of sections; is it a CloudFormation template?".into(),
        });
    }
    Ok(v)
}

/// A JSON value read refusing a key given twice in one object: serde_json keeps the last, so a
/// duplicated logical id hid the first resource from every rule (issue 36). CloudFormation
/// refuses such a template, as YAML parsers do (serde_yaml: "duplicate entry").
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(json!(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(json!(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(json!(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Strict, E> {
        Ok(Strict(json!(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(json!(v)))
    }
    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut out = vec![];
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Strict(Value::Array(out)))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.contains_key(&k) {
                return Err(serde::de::Error::custom(format!(
                    "the key `{k}` is given twice in one object (a duplicated logical id hides the first)"
                )));
            }
            let Strict(v) = map.next_value()?;
            out.insert(k, v);
        }
        Ok(Strict(Value::Object(out)))
    }
}

fn key(v: &serde_yaml::Value) -> Result<String, String> {
    match v {
        serde_yaml::Value::String(s) => Ok(s.clone()),
        serde_yaml::Value::Number(n) => Ok(n.to_string()),
        serde_yaml::Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("a mapping key is not a string: {other:?}")),
    }
}

/// YAML (with CloudFormation tags) to JSON.
pub fn to_json(v: &serde_yaml::Value) -> Result<Value, String> {
    Ok(match v {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(b) => json!(b),
        serde_yaml::Value::Number(n) => serde_json::to_value(n).map_err(|e| e.to_string())?,
        serde_yaml::Value::String(s) => json!(s),
        serde_yaml::Value::Sequence(s) => Value::Array(s.iter().map(to_json).collect::<Result<_, _>>()?),
        serde_yaml::Value::Mapping(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                out.insert(key(k)?, to_json(x)?);
            }
            Value::Object(out)
        }
        serde_yaml::Value::Tagged(t) => tagged(t)?,
    })
}

/// The short forms CloudFormation reads: the intrinsic functions, the condition functions and
/// the rule functions of a `Rules` section
/// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html>,
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/rules-section-structure.html>).
pub const FUNCTIONS: &[&str] = &[
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "ImportValue",
    "Join",
    "Length",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
    "If",
    "Equals",
    "And",
    "Or",
    "Not",
    "Contains",
    "EachMemberEquals",
    "EachMemberIn",
    "RefAll",
    "ValueOf",
    "ValueOfAll",
];

fn tagged(t: &TaggedValue) -> Result<Value, String> {
    let TaggedValue { tag, value } = t;
    let name = tag_name(tag);
    // a tag with nothing after it (`!GetAZs`) is an empty string, as CloudFormation reads it
    let inner = match to_json(value)? {
        Value::Null => Value::String(String::new()),
        v => v,
    };
    Ok(match name.as_str() {
        "Ref" => json!({"Ref": inner}),
        "Condition" => json!({"Condition": inner}),
        "GetAtt" => match inner {
            // `!GetAtt Resource.Attribute`, and nested attributes such as `Db.Endpoint.Address`
            Value::String(s) => match s.split_once('.') {
                Some((res, attr)) => json!({"Fn::GetAtt": [res, attr]}),
                None => json!({"Fn::GetAtt": s}),
            },
            other => json!({"Fn::GetAtt": other}),
        },
        // any other tag keeps its name as a function (`!Rain::Embed` -> `Fn::Rain::Embed`), so
        // the template is still read and T04 says which tool it needs
        other => json!({ format!("Fn::{other}"): inner }),
    })
}

fn tag_name(tag: &Tag) -> String {
    tag.to_string().trim_start_matches('!').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_form_tags_become_long_form() {
        let y = "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: !GetAtt Role.Arn\n      Name: !Sub '${AWS::StackName}-x'\n      Other: !Ref Param\n      List: !Split [',', !Ref P]\n      When: !If [IsProd, 1, 2]\n";
        let v = parse(y, "t.yaml").unwrap();
        let p = &v["Resources"]["Fn"]["Properties"];
        assert_eq!(p["Role"], json!({"Fn::GetAtt": ["Role", "Arn"]}));
        assert_eq!(p["Name"], json!({"Fn::Sub": "${AWS::StackName}-x"}));
        assert_eq!(p["Other"], json!({"Ref": "Param"}));
        assert_eq!(p["List"], json!({"Fn::Split": [",", {"Ref": "P"}]}));
        assert_eq!(p["When"], json!({"Fn::If": ["IsProd", 1, 2]}));
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(parse("{ nope", "a.json").unwrap_err().to_string().starts_with("a.json:1:3: not valid JSON"));
        let e = parse("a: 1\nb: [", "a.yaml").unwrap_err().to_string();
        assert!(e.starts_with("a.yaml:") && e.contains("not valid YAML") && e.contains("line "), "{e}");
        assert!(parse("- 1", "a.yaml").unwrap_err().to_string().contains("not a mapping of sections"));
    }

    #[test]
    fn rule_functions_and_foreign_tags_are_read() {
        let y = "Rules:\n  R:\n    Assertions:\n      - Assert: !Contains [[a], !Ref P]\n      - Assert: !EachMemberIn [!ValueOfAll [AWS::EC2::Subnet::Id, VpcId], !RefAll AWS::EC2::VPC::Id]\nResources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code: {ZipFile: !Rain::Embed handler.py}\n";
        let v = parse(y, "t.yaml").unwrap();
        let a = &v["Rules"]["R"]["Assertions"];
        assert_eq!(a[0]["Assert"], json!({"Fn::Contains": [["a"], {"Ref": "P"}]}));
        assert_eq!(a[1]["Assert"]["Fn::EachMemberIn"][1], json!({"Fn::RefAll": "AWS::EC2::VPC::Id"}));
        assert_eq!(v["Resources"]["F"]["Properties"]["Code"]["ZipFile"], json!({"Fn::Rain::Embed": "handler.py"}));
    }
}
