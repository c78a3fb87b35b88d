//! Reading any CloudFormation template: JSON, or YAML with short-form tags (`!Ref`, `!GetAtt`,
//! `!Sub` ...) turned into their long form.

use serde_json::{Map, Value, json};
use serde_yaml::value::{Tag, TaggedValue};

#[derive(Debug, thiserror::Error)]
pub enum TemplateFileError {
    #[error("{file}: not valid JSON: {message}")]
    Json { file: String, message: String },
    #[error("{file}: not valid YAML: {message}")]
    Yaml { file: String, message: String },
    #[error("{file}: {message}")]
    Shape { file: String, message: String },
}

/// Parses a template's text; YAML unless it starts with `{`.
pub fn parse(text: &str, file: &str) -> Result<Value, TemplateFileError> {
    let v = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| TemplateFileError::Json { file: file.into(), message: e.to_string() })?
    } else {
        let y: serde_yaml::Value = serde_yaml::from_str(text)
            .map_err(|e| TemplateFileError::Yaml { file: file.into(), message: e.to_string() })?;
        to_json(&y).map_err(|message| TemplateFileError::Shape { file: file.into(), message })?
    };
    if !v["Resources"].is_object() {
        return Err(TemplateFileError::Shape {
            file: file.into(),
            message: "has no Resources section; is it a CloudFormation template?".into(),
        });
    }
    Ok(v)
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

fn tagged(t: &TaggedValue) -> Result<Value, String> {
    let TaggedValue { tag, value } = t;
    let name = tag_name(tag);
    let inner = to_json(value)?;
    Ok(match name.as_str() {
        "Ref" => json!({"Ref": inner}),
        "Condition" => json!({"Condition": inner}),
        "GetAtt" => match inner {
            Value::String(s) => {
                let (res, attr) =
                    s.split_once('.').ok_or_else(|| format!("!GetAtt {s}: expected Resource.Attribute"))?;
                json!({"Fn::GetAtt": [res, attr]})
            }
            other => json!({"Fn::GetAtt": other}),
        },
        "Sub" | "Join" | "Select" | "Split" | "If" | "Equals" | "And" | "Or" | "Not" | "FindInMap" | "Base64"
        | "Cidr" | "GetAZs" | "ImportValue" | "Transform" | "Length" | "ToJsonString" => {
            json!({ format!("Fn::{name}"): inner })
        }
        other => return Err(format!("unknown tag !{other}")),
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
        assert!(parse("{ nope", "a.json").unwrap_err().to_string().starts_with("a.json: not valid JSON"));
        assert!(parse("a: [", "a.yaml").unwrap_err().to_string().starts_with("a.yaml: not valid YAML"));
        assert!(parse("a: 1", "a.yaml").unwrap_err().to_string().contains("no Resources"));
    }
}
