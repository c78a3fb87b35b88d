//! `xtask registry <cfnlint/data>`: every CloudFormation registry schema of every region, as
//! cfn-lint ships them (MIT-0, already patched by cfn-lint where AWS's schemas are wrong), into
//! one file castform embeds: `schemas/registry.bin`. Also vendors the data the precision rules
//! read: the actions of AWS's Service Authorization Reference and whether each takes a resource
//! type (`schemas/iam-actions.txt`).
//!
//! Layout (integers little-endian), read in a few milliseconds without parsing JSON:
//! `CFREG2\n`; u32 length + deflated text: the schema date, then one type name per line, an
//! empty line, one region per line; u32 length + deflated table: per region, per type, the u16
//! schema number (0xFFFF where the region lacks the type); u32 count + per schema u32 offset and
//! u32 length; then each schema, minified JSON deflated on its own (offsets count from the start
//! of the schemas). `description` strings are dropped: castform does not read them and they are
//! half the bytes.

use flate2::Compression;
use flate2::write::DeflateEncoder;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

fn read_json(p: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

fn deflate(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::best());
    e.write_all(bytes).map_err(|e| e.to_string())?;
    e.finish().map_err(|e| e.to_string())
}

/// Drops `description` strings (documentation, not validation).
fn strip(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("description").is_some_and(Value::is_string) {
                m.remove("description");
            }
            m.values_mut().for_each(strip);
        }
        Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

pub fn write(data: &Path, root: &Path) -> Result<(), String> {
    let schemas = data.join("schemas");
    let version = read_json(&schemas.join("version.json"))?;
    let mut regions: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let dir = std::fs::read_dir(schemas.join("providers")).map_err(|e| e.to_string())?;
    for entry in dir {
        let path = entry.map_err(|e| e.to_string())?.path();
        let Some(region) = path.file_stem().and_then(|s| s.to_str()).map(str::to_string) else { continue };
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let map = read_json(&path)?;
        let types = map.as_object().ok_or_else(|| format!("{}: not an object", path.display()))?;
        regions.insert(region, types.iter().filter_map(|(t, h)| Some((t.clone(), h.as_str()?.to_string()))).collect());
    }
    let mut types: Vec<&String> = regions.values().flat_map(|m| m.keys()).collect();
    types.sort();
    types.dedup();
    let mut hashes: Vec<&String> = regions.values().flat_map(|m| m.values()).collect();
    hashes.sort();
    hashes.dedup();
    let number: BTreeMap<&String, usize> = hashes.iter().enumerate().map(|(i, h)| (*h, i)).collect();
    let mut blobs = Vec::new();
    let mut spans = Vec::new();
    for h in &hashes {
        let mut v = read_json(&schemas.join(format!("resources/{h}.json")))?;
        strip(&mut v);
        let packed = deflate(serde_json::to_string(&v).map_err(|e| e.to_string())?.as_bytes())?;
        spans.push((blobs.len(), packed.len()));
        blobs.extend_from_slice(&packed);
    }
    let date = version["schema_date"].as_str().unwrap_or_default();
    let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    let region_names: Vec<&str> = regions.keys().map(String::as_str).collect();
    let meta = format!("{date}\n{}\n\n{}\n", names.join("\n"), region_names.join("\n"));
    let mut table = Vec::new();
    for m in regions.values() {
        for t in &types {
            let n = m.get(*t).map_or(u16::MAX, |h| number[h] as u16);
            table.extend_from_slice(&n.to_le_bytes());
        }
    }
    let mut out = b"CFREG2\n".to_vec();
    for part in [deflate(meta.as_bytes())?, deflate(&table)?] {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(&part);
    }
    out.extend_from_slice(&(spans.len() as u32).to_le_bytes());
    for (offset, len) in &spans {
        out.extend_from_slice(&(*offset as u32).to_le_bytes());
        out.extend_from_slice(&(*len as u32).to_le_bytes());
    }
    out.extend_from_slice(&blobs);
    std::fs::write(root.join("schemas/registry.bin"), &out).map_err(|e| e.to_string())?;
    // every action, and whether it takes a resource type (`*`: only `Resource: "*"` works)
    let policies = read_json(&data.join("AdditionalSpecs/Policies.json"))?;
    let mut actions = vec![];
    for (service, v) in policies.as_object().into_iter().flatten() {
        for (action, a) in v["Actions"].as_object().into_iter().flatten() {
            let star = a["Resources"].as_array().is_none_or(|r| r.is_empty());
            actions.push(format!("{service}:{action}\t{}", if star { "*" } else { "r" }));
        }
    }
    actions.sort();
    let star_only = actions.iter().filter(|a| a.ends_with('*')).count();
    let header = "# Every IAM action with `*` where it supports no resource type (only Resource \"*\") and `r` where\n# it does, from AWS's Service Authorization Reference as cfn-lint 1.58.0 ships it\n# (cfnlint/data/AdditionalSpecs/Policies.json, MIT-0), vendored 2026-11-30 by\n# `cargo run -p xtask -- registry`. Lowercase service:action.\n";
    std::fs::write(root.join("schemas/iam-actions.txt"), format!("{header}{}\n", actions.join("\n")))
        .map_err(|e| e.to_string())?;
    println!(
        "registry.bin: {} types, {} regions, {} schemas, {} bytes; {} of {} actions without resource types",
        types.len(),
        regions.len(),
        hashes.len(),
        out.len(),
        star_only,
        actions.len()
    );
    Ok(())
}
