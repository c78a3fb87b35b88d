//! YAML output of a template, long-form intrinsics. Every string value is double-quoted, so no
//! YAML 1.1 reader turns `yes`, `on` or `2010-09-09` into something else.

use serde_json::Value;

/// The document as block-style YAML with a trailing newline.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => map(&mut out, m, 0),
        other => {
            scalar(&mut out, other);
            out.push('\n');
        }
    }
    out
}

fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-' | '.' | '/'))
        && k.starts_with(|c: char| c.is_ascii_alphabetic())
        && !k.ends_with(':');
    if plain { k.to_string() } else { serde_json::to_string(k).unwrap_or_default() }
}

fn scalar(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        other => out.push_str(&other.to_string()),
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => false,
    }
}

fn map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
    for (k, v) in m {
        out.push_str(&" ".repeat(indent));
        out.push_str(&key(k));
        out.push(':');
        value(out, v, indent);
    }
}

/// Writes what follows `key:` or `-`.
fn value(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            map(out, m, indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            seq(out, a, indent + 2);
        }
        other => {
            out.push(' ');
            scalar(out, other);
            out.push('\n');
        }
    }
}

fn seq(out: &mut String, a: &[Value], indent: usize) {
    for item in a {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            Value::Object(m) if !m.is_empty() => {
                // first entry on the dash line, the rest aligned under it
                let mut first = true;
                for (k, v) in m {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        out.push_str(&" ".repeat(indent + 2));
                    }
                    out.push_str(&key(k));
                    out.push(':');
                    value(out, v, indent + 2);
                }
            }
            v if is_block(v) => value(out, v, indent),
            other => {
                out.push(' ');
                scalar(out, other);
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_round_trips_to_the_same_json() {
        let v = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {"T": {"Type": "AWS::SQS::Queue", "Properties": {
                "Flag": "yes", "N": 3, "B": true, "Empty": [], "E2": {},
                "List": ["a", {"Ref": "X"}, [1, 2]],
                "Objs": [{"Key": "k", "Value": {"Fn::Sub": "${AWS::Region}"}}, {"A": [1]}]
            }}}
        });
        let y = to_yaml(&v);
        assert!(y.contains("Flag: \"yes\""), "{y}");
        assert!(y.contains("AWSTemplateFormatVersion: \"2010-09-09\""));
        let back: Value = serde_yaml::from_str(&y).unwrap();
        assert_eq!(back, v, "{y}");
    }
}
