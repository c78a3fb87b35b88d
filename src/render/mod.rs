//! Handlebars in strict mode over `templates/`: the files a deploy writes from outputs.
//! No HTML escaping (the outputs are URLs and ids, written into JavaScript and env files), and a
//! missing variable is an error, never an empty string.

use handlebars::Handlebars;
use serde_json::Value;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read template {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("template {path}: {message}")]
    Template { path: String, message: String },
}

/// Renders `root/template` with `values` (an object of strings).
pub fn render_file(root: &Path, template: &str, values: &Value) -> Result<String, RenderError> {
    let text = std::fs::read_to_string(root.join(template))
        .map_err(|e| RenderError::Read { path: template.to_string(), source: e })?;
    render_str(&text, template, values)
}

pub fn render_str(text: &str, name: &str, values: &Value) -> Result<String, RenderError> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    hb.render_template(text, values)
        .map_err(|e| RenderError::Template { path: name.to_string(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_written_raw() {
        let out = render_str("url: \"{{api_url}}\"", "t", &json!({"api_url": "https://a.b/?x=1&y=<2>"})).unwrap();
        assert_eq!(out, "url: \"https://a.b/?x=1&y=<2>\"");
    }

    #[test]
    fn a_missing_value_is_an_error_naming_it() {
        let e = render_str("{{api_url}} {{hls_url}}", "config.js.hbs", &json!({"api_url": "x"})).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("template config.js.hbs:"), "{msg}");
        assert!(msg.contains("hls_url"), "{msg}");
    }
}
