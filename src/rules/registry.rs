//! CloudFormation's registry: every resource type of every region with its schema, from
//! `schemas/registry.bin` (written by `cargo run -p xtask -- registry` out of cfn-lint's data,
//! MIT-0). Each schema is inflated the first time a template uses its type, so a check touches
//! only the few dozen schemas its templates need.

use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;
use std::sync::{Mutex, OnceLock};

static DATA: &[u8] = include_bytes!("../../schemas/registry.bin");

/// The region castform assumes for a template whose region it is not told (cfn-lint's default).
pub const DEFAULT_REGION: &str = "us-east-1";

struct Index {
    types: Vec<String>,
    by_name: HashMap<String, usize>,
    regions: HashMap<String, Vec<i64>>,
    spans: Vec<(usize, usize)>,
    body: usize,
    schema_date: String,
}

fn inflate(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(bytes).read_to_end(&mut out).ok()?;
    Some(out)
}

fn index() -> Option<&'static Index> {
    static INDEX: OnceLock<Option<Index>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            let rest = DATA.strip_prefix(b"CFREG1\n")?;
            let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
            let v: Value = serde_json::from_slice(&inflate(rest.get(4..4 + len)?)?).ok()?;
            let types: Vec<String> =
                v["types"].as_array()?.iter().filter_map(|t| t.as_str().map(str::to_string)).collect();
            let by_name = types.iter().enumerate().map(|(i, t)| (t.clone(), i)).collect();
            let regions = v["regions"]
                .as_object()?
                .iter()
                .map(|(r, row)| (r.clone(), row.as_array().into_iter().flatten().filter_map(Value::as_i64).collect()))
                .collect();
            let spans = v["schemas"]
                .as_array()?
                .iter()
                .filter_map(|s| Some((s[0].as_u64()? as usize, s[1].as_u64()? as usize)))
                .collect();
            let schema_date = v["version"]["schema_date"].as_str().unwrap_or_default().to_string();
            Some(Index { types, by_name, regions, spans, body: DATA.len() - rest.len() + 4 + len, schema_date })
        })
        .as_ref()
}

/// The schema number of a type in a region; `None` when the region does not have the type.
fn number(type_name: &str, region: &str) -> Option<usize> {
    let ix = index()?;
    let t = *ix.by_name.get(type_name)?;
    let n = *ix.regions.get(region)?.get(t)?;
    usize::try_from(n).ok()
}

/// Does CloudFormation know this type in any region?
pub fn exists(type_name: &str) -> bool {
    index().is_some_and(|ix| ix.by_name.contains_key(type_name))
}

/// Does the region have this type? Unknown regions have none.
pub fn in_region(type_name: &str, region: &str) -> bool {
    number(type_name, region).is_some()
}

/// Is `region` one the registry knows?
pub fn known_region(region: &str) -> bool {
    index().is_some_and(|ix| ix.regions.contains_key(region))
}

/// The regions that have the type.
pub fn regions_of(type_name: &str) -> Vec<String> {
    let Some(ix) = index() else { return vec![] };
    let mut out: Vec<String> = ix.regions.keys().filter(|r| in_region(type_name, r)).cloned().collect();
    out.sort();
    out
}

/// Every type name, sorted.
pub fn types() -> &'static [String] {
    index().map(|ix| ix.types.as_slice()).unwrap_or_default()
}

/// The registry's date (cfn-lint's `schema_date`).
pub fn schema_date() -> &'static str {
    index().map(|ix| ix.schema_date.as_str()).unwrap_or_default()
}

/// The type's schema as the region has it (the default region's when `region` lacks the type,
/// so a type unavailable in one region is still validated), parsed once per process.
pub fn schema(type_name: &str, region: &str) -> Option<&'static Value> {
    static CACHE: OnceLock<Mutex<HashMap<usize, &'static Value>>> = OnceLock::new();
    let ix = index()?;
    let n = number(type_name, region).or_else(|| {
        let t = *ix.by_name.get(type_name)?;
        ix.regions.values().find_map(|row| usize::try_from(*row.get(t)?).ok())
    })?;
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = cache.lock().ok()?;
    if let Some(v) = map.get(&n) {
        return Some(v);
    }
    let (offset, len) = *ix.spans.get(n)?;
    let bytes = DATA.get(ix.body + offset..ix.body + offset + len)?;
    let v: &'static Value = Box::leak(Box::new(serde_json::from_slice(&inflate(bytes)?).ok()?));
    map.insert(n, v);
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_has_every_region_and_type_with_its_schema() {
        assert!(types().len() > 1800, "{}", types().len());
        assert!(known_region("us-east-1") && known_region("eu-west-1") && !known_region("moon-1"));
        let table = schema("AWS::DynamoDB::Table", "us-west-2").unwrap();
        assert_eq!(table["typeName"], "AWS::DynamoDB::Table");
        assert!(table["properties"]["KeySchema"].is_object());
        // a type every region has, and one AWS offers in a few regions only
        assert!(in_region("AWS::S3::Bucket", "ap-southeast-2"));
        let few = types().iter().find(|t| regions_of(t).len() < 10).unwrap();
        assert!(!regions_of(few).is_empty());
        assert!(!exists("AWS::S3::Buckets"));
        assert!(schema_date().starts_with("20"));
    }
}
