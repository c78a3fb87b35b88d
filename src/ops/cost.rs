//! `castform cost ENV [--hours N]`: a monthly estimate per stack and resource from a price table
//! kept as data (`data/prices.json`: unit price, unit, source) and usage assumptions (there, or
//! `--hours` for the per-destination channels).

use crate::template::App;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
pub struct Price {
    pub price: f64,
    pub unit: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Usage {
    pub hours_per_month: f64,
    pub destination_hours: f64,
    pub api_requests: f64,
    pub api_average_ms: f64,
    pub table_reads: f64,
    pub table_writes: f64,
    pub table_storage_gb: f64,
    pub cdn_transfer_gb: f64,
    pub site_storage_gb: f64,
    /// Viewer requests a distribution's web ACL inspects in a month (every one, blocked or not).
    pub cdn_requests: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PriceTable {
    pub region: String,
    pub currency: String,
    pub checked: String,
    pub prices: BTreeMap<String, Price>,
    pub usage: Usage,
}

pub fn table() -> PriceTable {
    serde_json::from_str(include_str!("../../data/prices.json")).expect("data/prices.json is valid")
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub stack: String,
    pub resource: String,
    pub what: String,
    pub quantity: f64,
    pub unit: String,
    pub unit_price: f64,
    pub monthly: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// The region the prices are for (data/prices.json carries one region's prices).
    pub region: String,
    /// The regions the app's stacks deploy to; where one differs from `region`, the estimate is
    /// at `region`'s prices and says so.
    pub app_regions: Vec<String>,
    pub currency: String,
    pub prices_checked: String,
    pub destination_hours: f64,
    pub lines: Vec<Line>,
    pub total: f64,
}

/// The estimate for an app; `hours` overrides the per-destination channel hours.
pub fn estimate(app: &App, hours: Option<f64>) -> Estimate {
    let t = table();
    let u = &t.usage;
    let hours = hours.unwrap_or(u.destination_hours);
    let p =
        |k: &str| t.prices.get(k).cloned().unwrap_or(Price { price: 0.0, unit: k.into(), source: "missing".into() });
    let mut lines = vec![];
    let mut line = |stack: &str, resource: &str, what: &str, quantity: f64, key: &str| {
        let price = p(key);
        lines.push(Line {
            stack: stack.into(),
            resource: resource.into(),
            what: what.into(),
            quantity,
            unit: price.unit.clone(),
            unit_price: price.price,
            monthly: (quantity * price.price * 100.0).round() / 100.0,
        });
    };
    for s in &app.stacks {
        let tpl = s.template.to_value();
        let res = tpl["Resources"].as_object().cloned().unwrap_or_default();
        let count = |ty: &str| res.values().filter(|r| r["Type"] == ty).count() as f64;
        for (id, r) in &res {
            match r["Type"].as_str().unwrap_or_default() {
                "AWS::MediaConnect::Flow" => {
                    line(&s.name, id, "flow running all month", u.hours_per_month, "mediaconnect_flow_hour")
                }
                "AWS::MediaLive::Channel" => {
                    line(
                        &s.name,
                        id,
                        "primary HLS channel running all month",
                        u.hours_per_month,
                        "medialive_channel_hour",
                    );
                    line(
                        &s.name,
                        "(per-destination channels)",
                        &format!("channels the API starts on demand, {hours} hours"),
                        hours,
                        "medialive_channel_hour",
                    );
                }
                "AWS::Lambda::Function" => {
                    let mem_gb = r["Properties"]["MemorySize"].as_f64().unwrap_or(128.0) / 1024.0;
                    line(&s.name, id, "requests", u.api_requests, "lambda_request");
                    line(
                        &s.name,
                        id,
                        &format!("compute at {} MB, {} ms each", mem_gb * 1024.0, u.api_average_ms),
                        u.api_requests * u.api_average_ms / 1000.0 * mem_gb,
                        "lambda_gb_second",
                    );
                }
                "AWS::CloudFront::Distribution" => {
                    line(&s.name, id, "transfer to viewers", u.cdn_transfer_gb, "cloudfront_transfer_gb")
                }
                "AWS::S3::Bucket" => line(&s.name, id, "storage", u.site_storage_gb, "s3_storage_gb"),
                "AWS::WAFv2::WebACL" => {
                    let rules = r["Properties"]["Rules"].as_array().map_or(0, |r| r.len()) as f64;
                    line(&s.name, id, "web ACL", 1.0, "waf_web_acl_month");
                    line(&s.name, id, "rules", rules, "waf_rule_month");
                    line(&s.name, id, "requests inspected", u.cdn_requests, "waf_request");
                }
                _ => {}
            }
        }
        let tables = count("AWS::DynamoDB::Table");
        if tables > 0.0 {
            line(&s.name, &format!("{tables} tables"), "on-demand reads", u.table_reads, "dynamodb_read");
            line(&s.name, &format!("{tables} tables"), "on-demand writes", u.table_writes, "dynamodb_write");
            line(&s.name, &format!("{tables} tables"), "storage", u.table_storage_gb, "dynamodb_storage_gb");
        }
    }
    let total = (lines.iter().map(|l| l.monthly).sum::<f64>() * 100.0).round() / 100.0;
    let mut app_regions: Vec<String> = app.stacks.iter().map(|s| s.region.clone()).collect();
    app_regions.sort();
    app_regions.dedup();
    Estimate {
        region: t.region,
        app_regions,
        currency: t.currency,
        prices_checked: t.checked,
        destination_hours: hours,
        lines,
        total,
    }
}
