//! Media lessons: the SRT listener (L16).

use super::util::as_list;
use super::{Hit, Target};
use serde_json::Value;

fn srt_listener_sources(flow: &Value) -> Vec<&Value> {
    let mut out = vec![&flow["Source"]];
    out.extend(as_list(&flow["Sources"]));
    out.into_iter().filter(|s| s["Protocol"] == "srt-listener").collect()
}

/// L16: an SRT listener is encrypted with an `srt-password` secret read through a role, no
/// `Algorithm`, and does not accept `0.0.0.0/0` where data is retained.
pub fn l16(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    let mut check = |id: &str, src: &Value| {
        let dec = &src["Decryption"];
        if dec.is_null() {
            hits.push(Hit::new(id, "the SRT listener is not encrypted", "add Decryption with KeyType srt-password, SecretArn and RoleArn (AES-128 is SRT's passphrase encryption)"));
        } else {
            if dec["KeyType"] != "srt-password" {
                hits.push(Hit::new(
                    id,
                    format!("the SRT listener's Decryption KeyType is {}, expected srt-password", dec["KeyType"]),
                    "set KeyType: srt-password",
                ));
            }
            if dec.get("Algorithm").is_some() {
                hits.push(Hit::new(
                    id,
                    "the SRT listener's Decryption sets Algorithm, which srt-password does not take",
                    "remove Algorithm",
                ));
            }
            if dec["SecretArn"].is_null() || dec["RoleArn"].is_null() {
                hits.push(Hit::new(
                    id,
                    "the SRT passphrase has no SecretArn or RoleArn",
                    "keep the passphrase in Secrets Manager and give MediaConnect a role to read it",
                ));
            }
        }
        let cidr = src["WhitelistCidr"].as_str();
        if t.retain_data() == Some(true) && (cidr.is_none() || cidr == Some("0.0.0.0/0")) {
            hits.push(Hit::new(
                id,
                format!(
                    "the SRT listener accepts {} in an environment that keeps data",
                    cidr.unwrap_or("any address (no WhitelistCidr)")
                ),
                "set WhitelistCidr to the encoder's address",
            ));
        }
    };
    for (id, flow) in t.of_type("AWS::MediaConnect::Flow") {
        for src in srt_listener_sources(flow) {
            check(id, src);
        }
    }
    for (id, src) in t.of_type("AWS::MediaConnect::FlowSource") {
        if src["Protocol"] == "srt-listener" {
            check(id, src);
        }
    }
    hits
}
