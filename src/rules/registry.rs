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
    /// Per region, per type: the schema number, `u16::MAX` where the region lacks the type.
    regions: HashMap<String, Vec<u16>>,
    spans: Vec<(usize, usize)>,
    body: usize,
    schema_date: String,
}

fn inflate(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(bytes).read_to_end(&mut out).ok()?;
    Some(out)
}

fn u32_at(data: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?) as usize)
}

/// The index of `schemas/registry.bin` (layout in `xtask/src/registry.rs`).
fn index() -> Option<&'static Index> {
    static INDEX: OnceLock<Option<Index>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            let mut at = b"CFREG2\n".len();
            (DATA.get(..at)? == b"CFREG2\n").then_some(())?;
            let mut part = || -> Option<Vec<u8>> {
                let len = u32_at(DATA, at)?;
                let bytes = inflate(DATA.get(at + 4..at + 4 + len)?)?;
                at += 4 + len;
                Some(bytes)
            };
            let meta = String::from_utf8(part()?).ok()?;
            let table = part()?;
            let (head, region_lines) = meta.split_once("\n\n")?;
            let mut lines = head.lines();
            let schema_date = lines.next()?.to_string();
            let types: Vec<String> = lines.map(str::to_string).collect();
            let by_name = types.iter().enumerate().map(|(i, t)| (t.clone(), i)).collect();
            let width = types.len() * 2;
            let regions = region_lines
                .lines()
                .enumerate()
                .map(|(r, name)| {
                    let row = table.get(r * width..(r + 1) * width).unwrap_or_default();
                    (name.to_string(), row.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect())
                })
                .collect();
            let count = u32_at(DATA, at)?;
            let spans = (0..count)
                .map(|i| Some((u32_at(DATA, at + 4 + i * 8)?, u32_at(DATA, at + 8 + i * 8)?)))
                .collect::<Option<Vec<_>>>()?;
            let body = at + 4 + count * 8;
            Some(Index { types, by_name, regions, spans, body, schema_date })
        })
        .as_ref()
}

/// The schema number of a type in a region; `None` when the region does not have the type.
fn number(type_name: &str, region: &str) -> Option<usize> {
    let ix = index()?;
    let t = *ix.by_name.get(type_name)?;
    let n = *ix.regions.get(region)?.get(t)?;
    (n != u16::MAX).then_some(usize::from(n))
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
        ix.regions.values().find_map(|row| row.get(t).filter(|n| **n != u16::MAX).map(|n| usize::from(*n)))
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
