//! L24–L26: lessons in the functions' code, not their templates (seed 000's worst incident was a
//! Node.js 18 → 22 migration that broke on code). The rules read each function's files: the
//! asset folder of a synthesized function, a template's inline `Code.ZipFile`.

use super::{Hit, Target};
use regex::Regex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// A function's files by logical id: (path inside the package, text). Binary files are left out.
pub type CodeMap = BTreeMap<String, Vec<(String, String)>>;

use super::util::cached_regex as re;

/// The inline code of a template's functions (`Code.ZipFile`): Lambda writes it to `index.js`
/// (Node.js) or `index.py` (Python)
/// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-code.html>).
pub fn inline_code(template: &Value) -> CodeMap {
    template["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(id, r)| Some((id.clone(), inline(r)?)))
        .collect()
}

/// One resource's inline code, when it is a function with a `Code.ZipFile`.
pub fn inline(resource: &Value) -> Option<Vec<(String, String)>> {
    if resource["Type"] != "AWS::Lambda::Function" {
        return None;
    }
    let code = resource["Properties"]["Code"]["ZipFile"].as_str()?;
    let runtime = resource["Properties"]["Runtime"].as_str().unwrap_or_default();
    let file = if runtime.starts_with("python") { "index.py" } else { "index.js" };
    Some(vec![(file.to_string(), code.to_string())])
}

fn is_source(path: &str) -> bool {
    !path.starts_with("node_modules/")
        && !path.contains("/node_modules/")
        && [".js", ".mjs", ".cjs", ".ts"].iter().any(|e| path.ends_with(e))
}

/// The major version of a `nodejsNN.x` runtime.
fn node_major(runtime: &str) -> Option<u32> {
    runtime.strip_prefix("nodejs")?.split('.').next()?.parse().ok()
}

/// L24: code that loads the AWS SDK for JavaScript v2 (`aws-sdk`) on a Node.js runtime that no
/// longer ships it (18 and later ship only v3:
/// <https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html>,
/// <https://aws.amazon.com/blogs/developer/why-and-how-you-should-use-aws-sdk-for-javascript-v3-on-node-js-18/>),
/// without bundling it: the function fails at its first import.
pub fn l24(t: &Target) -> Vec<Hit> {
    static V2: OnceLock<Regex> = OnceLock::new();
    let v2 = re(&V2, r#"(require\s*\(\s*|from\s+|import\s*\(\s*|import\s+)['"]aws-sdk(/[^'"]*)?['"]"#);
    let mut hits = vec![];
    let Some(code) = t.code else { return hits };
    for (id, p) in t.of_type("AWS::Lambda::Function") {
        let Some(major) = p["Runtime"].as_str().and_then(node_major) else { continue };
        if major < 18 {
            continue;
        }
        let Some(files) = code.get(id) else { continue };
        let bundled = files.iter().any(|(path, text)| {
            path == "node_modules/aws-sdk/package.json"
                || (path == "package.json"
                    && serde_json::from_str::<Value>(text)
                        .is_ok_and(|pkg| pkg["dependencies"].get("aws-sdk").is_some()))
        });
        if bundled {
            continue;
        }
        for (path, text) in files.iter().filter(|(p, _)| is_source(p)) {
            if let Some(m) = v2.find(text) {
                let line = text[..m.start()].lines().count().max(1);
                hits.push(Hit::new(
                    id,
                    format!(
                        "{path}:{line} loads the AWS SDK v2 (`aws-sdk`), which the nodejs{major}.x runtime does not include: the function fails at its first import"
                    ),
                    "use the SDK v3 clients (`@aws-sdk/client-*`), which the runtime includes, or bundle aws-sdk as a dependency",
                ));
                break;
            }
        }
    }
    hits
}

/// L25: the handler the template names exists and is exported
/// (<https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html>,
/// <https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html>).
pub fn l25(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    let Some(code) = t.code else { return hits };
    for (id, p) in t.of_type("AWS::Lambda::Function") {
        let (Some(handler), Some(runtime)) = (p["Handler"].as_str(), p["Runtime"].as_str()) else { continue };
        let Some(files) = code.get(id) else { continue };
        let Some((module, name)) = handler.rsplit_once('.') else {
            hits.push(Hit::new(
                id,
                format!("Handler {handler} is not of the form file.function"),
                "write the handler as file.function",
            ));
            continue;
        };
        let candidates: Vec<String> = if runtime.starts_with("python") {
            vec![format!("{}.py", module.replace('.', "/"))]
        } else if runtime.starts_with("nodejs") {
            [".js", ".mjs", ".cjs"].iter().map(|e| format!("{module}{e}")).collect()
        } else {
            continue;
        };
        let Some((path, text)) = files.iter().find(|(p, _)| candidates.contains(p)) else {
            let present: Vec<&str> =
                files.iter().map(|(p, _)| p.as_str()).filter(|p| is_source(p) || p.ends_with(".py")).take(8).collect();
            hits.push(Hit::new(
                id,
                format!(
                    "Handler {handler} names {}, which the package does not have (it has {})",
                    candidates.join(" or "),
                    if present.is_empty() { "no source file".to_string() } else { present.join(", ") }
                ),
                "point Handler at the file and function that exist",
            ));
            continue;
        };
        let n = regex::escape(name);
        let patterns = if runtime.starts_with("python") {
            vec![format!(r"(?m)^(async\s+)?def\s+{n}\s*\("), format!(r"(?m)^{n}\s*=")]
        } else {
            vec![
                format!(r"\bexports\.{n}\s*="),
                format!(r"\bmodule\.exports\.{n}\s*="),
                format!(r"\bmodule\.exports\s*=\s*\{{[^}}]*\b{n}\b"),
                format!(r"\bexport\s+(async\s+)?function\s*\*?\s*{n}\b"),
                format!(r"\bexport\s+(const|let|var)\s+{n}\b"),
                format!(r"\bexport\s*\{{[^}}]*\b{n}\b[^}}]*\}}"),
            ]
        };
        let exported = patterns.iter().any(|p| Regex::new(p).is_ok_and(|r| r.is_match(text)));
        if !exported {
            hits.push(Hit::new(
                id,
                format!("Handler {handler}: {path} does not export {name}; Lambda answers Runtime.HandlerNotFound"),
                if runtime.starts_with("python") {
                    format!("define def {name}(event, context) in {path}")
                } else {
                    format!("export it: `export const {name} = async (event) => ...` or `exports.{name} = ...`")
                },
            ));
        }
    }
    hits
}

/// L26: code behind a Function URL reads only API Gateway REST (v1) fields, `event.path` and
/// `event.httpMethod`, which a Function URL's event (payload format 2.0) does not carry: it has
/// `rawPath` and `requestContext.http.method`
/// (<https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads>). Seed 000
/// issue 1: every route answered 404 after the migration.
pub fn l26(t: &Target) -> Vec<Hit> {
    static V1: OnceLock<Regex> = OnceLock::new();
    static V2: OnceLock<Regex> = OnceLock::new();
    let v1 = re(&V1, r"\.(httpMethod|path)\b|\[\s*['\x22](httpMethod|path)['\x22]\s*\]");
    let v2 = re(&V2, r"\brawPath\b|requestContext\s*\??\.\s*http\b|\brouteKey\b");
    let mut hits = vec![];
    let Some(code) = t.code else { return hits };
    for (url, u) in t.of_type("AWS::Lambda::Url") {
        for (id, f) in t.of_type("AWS::Lambda::Function") {
            // by reference, or by the function's literal name (`my-fn`, an ARN ending in it)
            let names = |v: &Value| {
                super::util::refers_to(v, id)
                    || f["FunctionName"]
                        .as_str()
                        .zip(v.as_str())
                        .is_some_and(|(name, target)| target == name || target.ends_with(&format!(":function:{name}")))
            };
            let behind = names(&u["TargetFunctionArn"])
                || t.of_type("AWS::Lambda::Alias").any(|(alias, a)| {
                    super::util::refers_to(&u["TargetFunctionArn"], alias) && names(&a["FunctionName"])
                });
            if !behind {
                continue;
            }
            let Some(files) = code.get(id) else { continue };
            let sources: Vec<&(String, String)> =
                files.iter().filter(|(p, _)| is_source(p) || p.ends_with(".py")).collect();
            let reads_v2 = sources.iter().any(|(_, text)| v2.is_match(text));
            let v1_at = sources.iter().find_map(|(path, text)| {
                v1.find(text)
                    .filter(|m| {
                        // the object read: `event.path`, `event?.path`
                        let before = text[..m.start()].trim_end_matches('?');
                        before
                            .rsplit(|c: char| !c.is_alphanumeric() && c != '_')
                            .next()
                            .is_some_and(|w| ["event", "evt", "e", "req", "request", "ev"].contains(&w))
                    })
                    .map(|m| format!("{path}:{}", text[..m.start()].lines().count().max(1)))
            });
            if let (Some(at), false) = (v1_at, reads_v2) {
                hits.push(Hit::new(
                    id,
                    format!("is behind the Function URL {url} and reads event.path/event.httpMethod ({at}), which a Function URL event does not have: every route sees undefined"),
                    "read event.rawPath and event.requestContext.http.method (payload format 2.0)",
                ));
            }
        }
    }
    hits
}
