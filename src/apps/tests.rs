//! The seed apps' keys of environment files, read through the whole loader: every error with
//! its file, line, column and key.

use super::lunora::{Config as LunoraConfig, RateLimitSettings, Settings, default_ladder};
use super::*;
use crate::config::{ConfigError, Environment, load, parse};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const GOOD: &str = "app: lunora
name: test
account: \"372241484305\"
region: us-west-2
prefix: lunora-test
tags:
  Project: lunora-player
api:
  memory_mb: 512
media:
  enabled: true
  ingest_cidr: 203.0.113.10/32
web:
  cdn: true
";

fn parse_str(text: &str) -> Result<Environment, ConfigError> {
    parse(text, "environments/lunora/test.yaml", &root(), &Lunora, "test")
}

/// Lunora's settings of a parsed environment.
fn lunora(e: &Environment) -> Settings {
    e.config::<LunoraConfig>().unwrap().settings(e).unwrap()
}

#[test]
fn shipped_environments_all_load() {
    for env in ["local", "dev", "staging", "prod"] {
        let e = load(&root(), seeds(), "lunora", env).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.name, env);
    }
    let prod = load(&root(), seeds(), "lunora", "prod").unwrap();
    assert_eq!(prod.account, "372241484305");
    assert_eq!(prod.region, "us-west-2");
    assert!(prod.retain_data && prod.confirm);
    assert_eq!(lunora(&prod).media.srt_port, 9998);
}

#[test]
fn defaults_are_the_documented_ones() {
    let e = parse_str(GOOD).unwrap();
    let s = lunora(&e);
    assert_eq!(s.api.runtime, None);
    assert_eq!(s.api.memory_mb, 512);
    assert_eq!(s.api.timeout_s, 30);
    assert_eq!(s.media.srt_port, 9998);
    assert_eq!(s.media.ladder, default_ladder());
    assert_eq!(e.retention, 10);
    assert!(e.retain_data && !e.confirm, "data is kept unless the file says otherwise (S3-37)");
}

#[test]
fn unknown_key_names_file_line_column_and_key() {
    let text = GOOD.replace("  memory_mb: 512", "  memory_mb: 512\n  memroy: 3");
    let e = parse_str(&text).unwrap_err();
    assert_eq!((e.line, e.column), (10, 3));
    assert_eq!(e.key, "api.memroy");
    let shown = e.to_string();
    assert!(shown.starts_with("environments/lunora/test.yaml:10:3: `api.memroy` is not a known key"), "{shown}");
    assert!(shown.contains("help: remove it, or use one of:"), "{shown}");
}

#[test]
fn wrong_type_names_the_key() {
    let text = GOOD.replace("memory_mb: 512", "memory_mb: lots");
    let e = parse_str(&text).unwrap_err();
    assert_eq!(e.key, "api.memory_mb");
    assert_eq!(e.line, 9);
    assert!(e.message.contains("invalid type"), "{}", e.message);
}

#[test]
fn out_of_range_value_says_what_was_expected() {
    let text = GOOD.replace("memory_mb: 512", "memory_mb: 64");
    let e = parse_str(&text).unwrap_err();
    assert_eq!(
        e.to_string(),
        "environments/lunora/test.yaml:9:3: `api.memory_mb` is 64, expected 128..=10240\nhelp: change the value, or remove the key to use the default"
    );
}

#[test]
fn bad_cidr_is_refused_with_its_position() {
    let text = GOOD.replace("203.0.113.10/32", "203.0.113.10/40");
    let e = parse_str(&text).unwrap_err();
    assert_eq!(e.key, "media.ingest_cidr");
    assert_eq!((e.line, e.column), (12, 3));
    assert!(e.message.contains("expected an IPv4 CIDR block"), "{}", e.message);
}

#[test]
fn bad_account_id_is_refused() {
    let text = GOOD.replace("\"372241484305\"", "\"37224148\"");
    let e = parse_str(&text).unwrap_err();
    assert_eq!(e.key, "account");
    assert_eq!(e.line, 3);
    assert!(e.message.contains("12-digit"), "{}", e.message);
    assert!(e.help.contains("quoted string of 12 digits"));
}

#[test]
fn name_must_match_the_file() {
    let text = GOOD.replace("name: test", "name: prod");
    let e = parse_str(&text).unwrap_err();
    assert_eq!((e.key.as_str(), e.line), ("name", 2));
}

#[test]
fn media_without_ingest_cidr_is_refused() {
    let text = GOOD.replace("  ingest_cidr: 203.0.113.10/32\n", "");
    let e = parse_str(&text).unwrap_err();
    assert_eq!(e.key, "media");
    assert!(e.help.contains("media.enabled: false"));
}

#[test]
fn missing_code_folder_is_named() {
    let text = GOOD.replace("  memory_mb: 512", "  code: assets/nope");
    let e = parse_str(&text).unwrap_err();
    assert_eq!(e.key, "api.code");
    assert!(e.message.contains("does not exist"));
}

#[test]
fn unknown_environment_lists_the_known_ones() {
    let e = load(&root(), seeds(), "lunora", "qa").unwrap_err();
    assert!(e.help.contains("dev, local, prod, staging"), "{}", e.help);
    let e = load(&root(), seeds(), "nope", "prod").unwrap_err();
    assert!(e.help.contains("lunora, streamcanvas, podcast"));
}

#[test]
fn the_input_bitrate_tier_defaults_to_10_and_takes_only_medialives_tiers() {
    assert_eq!(lunora(&parse_str(GOOD).unwrap()).media.input_max_mbps, 10);
    let text = GOOD.replace("  ingest_cidr:", "  input_max_mbps: 20\n  ingest_cidr:");
    assert_eq!(lunora(&parse_str(&text).unwrap()).media.input_max_mbps, 20);
    let e = parse_str(&GOOD.replace("  ingest_cidr:", "  input_max_mbps: 15\n  ingest_cidr:")).unwrap_err();
    assert_eq!(e.key, "media.input_max_mbps");
    assert!(e.to_string().contains("use 10, 20 or 50"), "{e}");
}

#[test]
fn adopt_lines_are_read_with_their_place_and_bad_keys_are_refused_at_their_line() {
    let text = format!(
        "{GOOD}adopt:\n  data.Destinations: lunora-destinations\n  \"media.Ingest\": arn:aws:mediaconnect:us-west-2:372241484305:flow:1-abc:router\n"
    );
    let e = parse_str(&text).unwrap();
    assert_eq!(e.adopt.len(), 2);
    assert_eq!((e.adopt[0].stack.as_str(), e.adopt[0].logical_id.as_str()), ("data", "Destinations"));
    assert_eq!(e.adopt[0].at, "environments/lunora/test.yaml:16:3");
    assert_eq!(e.adopt[1].identifier, "arn:aws:mediaconnect:us-west-2:372241484305:flow:1-abc:router");
    for (bad, why) in [
        ("Destinations: x", "is not `<stack>.<LogicalId>`"),
        ("data.Dest-inations: x", "is not"),
        ("data.Presets: \"  \"", "has no identifier"),
    ] {
        let err = parse_str(&format!("{GOOD}adopt:\n  {bad}\n")).unwrap_err().to_string();
        assert!(err.contains("environments/lunora/test.yaml:16:3") && err.contains(why), "{bad}: {err}");
    }
}

#[test]
fn a_rate_limit_takes_aws_wafs_bounds_and_needs_the_cdn() {
    let with =
        |limit: &str| GOOD.replace("web:\n  cdn: true\n", &format!("web:\n  cdn: true\n  rate_limit: {limit}\n"));
    let e = parse_str(&with("{ requests: 600 }")).unwrap();
    assert_eq!(
        lunora(&e).web.rate_limit,
        Some(RateLimitSettings { requests: 600, window_s: 300 }),
        "the window defaults to 5 minutes"
    );
    let e = parse_str(&with("{ requests: 100, window_s: 60 }")).unwrap();
    assert_eq!(lunora(&e).web.rate_limit, Some(RateLimitSettings { requests: 100, window_s: 60 }));
    // AWS::WAFv2::WebACL's schema: a limit of at least 10, a window of 60, 120, 300 or 600 s
    let e = parse_str(&with("{ requests: 5 }")).unwrap_err();
    assert!(e.key.contains("rate_limit") && e.message.contains("expected 10..=2000000000"), "{e:?}");
    let e = parse_str(&with("{ requests: 600, window_s: 90 }")).unwrap_err();
    assert!(e.message.contains("expected 60, 120, 300 or 600"), "{e:?}");
    let e = parse_str(&with("{ requests: 600, burst: 3 }")).unwrap_err();
    assert_eq!(e.key, "web.rate_limit.burst", "unknown keys are refused: {e:?}");
    let e = parse_str(&with("{ requests: 600 }").replace("cdn: true", "cdn: false")).unwrap_err();
    assert_eq!(e.key, "web.rate_limit");
    assert!(e.help.contains("web.cdn: true"), "{e:?}");
}

#[test]
fn environment_tags_leave_out_types_whose_tags_are_create_only() {
    // MediaPackage v1 channels take Tags only at creation (registry schema): tagging one from
    // the environment file would replace it, and with it the playback URLs
    assert!(crate::constructs::tags_replace("AWS::MediaPackage::Channel"));
    assert!(!crate::constructs::tags_replace("AWS::MediaLive::Channel"));
    assert!(!crate::constructs::tags_replace("AWS::DynamoDB::Table"));
    let env =
        crate::config::load(std::path::Path::new(env!("CARGO_MANIFEST_DIR")), crate::apps::seeds(), "lunora", "prod")
            .unwrap();
    let app = env.define().unwrap();
    let media = app.stacks.iter().find(|s| s.name == "media").unwrap().template.to_value();
    let resources = media["Resources"].as_object().unwrap();
    let tagged = |id: &str| resources[id]["Properties"]["Tags"].to_string();
    assert!(!tagged("LivePackage").contains("Environment"), "{}", tagged("LivePackage"));
    assert!(tagged("LiveChannel").contains("castform:environment"), "{}", tagged("LiveChannel"));
    assert!(tagged("LiveEndpoint").contains("CostCenter"), "{}", tagged("LiveEndpoint"));
}

#[test]
fn the_lunora_config_template_renders() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let values = serde_json::json!({"app": "lunora", "environment": "local", "region": "us-west-2", "api_url": "https://u/",
        "hls_url": "", "site_url": "", "operators_client_id": "c1", "deployment_id": "d1"});
    let out = crate::render::render_file(root, "templates/lunora/config.js.hbs", &values).unwrap();
    assert!(out.contains("apiUrl: \"https://u/\""), "{out}");
    assert!(out.contains("deploymentId: \"d1\""));
    assert!(out.contains("operatorsClientId: \"c1\""), "{out}");
}
