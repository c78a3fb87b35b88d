//! The Lambda runtime table (rule L02), read from `data/lambda-runtimes.json` at build time.

use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Clone, Deserialize)]
pub struct RuntimeInfo {
    pub id: String,
    /// `YYYY-MM-DD`: end of standard support.
    pub deprecated: String,
    #[serde(default)]
    pub block_update: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RuntimeTable {
    pub source: String,
    pub checked: String,
    pub runtimes: Vec<RuntimeInfo>,
}

/// The table compiled into the binary.
pub fn table() -> &'static RuntimeTable {
    static TABLE: OnceLock<RuntimeTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(include_str!("../../data/lambda-runtimes.json"))
            .expect("data/lambda-runtimes.json is valid")
    })
}

pub fn lookup(id: &str) -> Option<&'static RuntimeInfo> {
    table().runtimes.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_every_date_is_a_date() {
        let t = table();
        assert!(t.source.contains("docs.aws.amazon.com/lambda"));
        for r in &t.runtimes {
            assert!(super::super::parse_date(&r.deprecated).is_some(), "{}", r.id);
        }
        assert_eq!(lookup("nodejs18.x").unwrap().deprecated, "2025-09-01");
    }
}
