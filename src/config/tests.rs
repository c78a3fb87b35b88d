//! The loader with a small app of the tests' own: the common keys are castform's, the rest of
//! the file is the app's, each error at its line and column.

use super::*;
use crate::template::App;
use serde::Deserialize;

struct Shop;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShopConfig {
    #[serde(default)]
    checkout: Option<Checkout>,
    #[serde(default)]
    #[allow(dead_code)]
    region_note: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Checkout {
    memory_mb: Bounded<128, 10240>,
    #[serde(default)]
    queue: bool,
}

impl Definition for Shop {
    type Config = ShopConfig;
    fn name(&self) -> &'static str {
        "shop"
    }
    fn validate(&self, _env: &Environment, config: &ShopConfig) -> Result<(), Invalid> {
        match &config.checkout {
            Some(c) if c.queue && c.memory_mb.0 < 256 => Err(Invalid::new(
                "checkout.queue",
                "needs 256 MB or more",
                "raise checkout.memory_mb, or remove checkout.queue",
            )),
            _ => Ok(()),
        }
    }
    fn define(&self, env: &Environment, _config: &ShopConfig) -> anyhow::Result<App> {
        Ok(App::new("shop", &env.name, vec![])?)
    }
}

const GOOD: &str = "# a shop
app: shop
name: test
checkout:
  memory_mb: 512
  queue: true
account: \"372241484305\"
region: eu-west-1
prefix: shop-test
tags:
  Project: shop
";

fn parse_str(text: &str) -> Result<Environment, ConfigError> {
    parse(text, "environments/shop/test.yaml", Path::new("."), &Shop, "test")
}

#[test]
fn the_common_keys_are_castforms_and_the_rest_is_the_apps_typed_config() {
    let e = parse_str(GOOD).unwrap();
    assert_eq!((e.app.as_str(), e.region.as_str(), e.prefix.as_str()), ("shop", "eu-west-1", "shop-test"));
    let c = e.config::<ShopConfig>().expect("the app's own type");
    assert_eq!(c.checkout.as_ref().unwrap().memory_mb.0, 512);
    assert!(e.config::<String>().is_none(), "another type is not the app's configuration");
    // a file with none of the app's keys takes its defaults
    let bare = GOOD.lines().filter(|l| !l.starts_with(' ') || l.contains("Project")).collect::<Vec<_>>().join("\n");
    let bare = bare.replace("checkout:\n", "");
    let e = parse_str(&bare).unwrap();
    assert!(e.config::<ShopConfig>().unwrap().checkout.is_none(), "{bare}");
    let e = parse_str(&format!("---\n{bare}")).unwrap();
    assert!(e.config::<ShopConfig>().unwrap().checkout.is_none(), "a document marker is not a key");
}

#[test]
fn an_apps_errors_keep_the_files_lines_and_columns() {
    // an app's value refused by its type, after common keys and before others
    let e = parse_str(&GOOD.replace("memory_mb: 512", "memory_mb: 64")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "environments/shop/test.yaml:5:3: `checkout.memory_mb` is 64, expected 128..=10240\nhelp: change the value, or remove the key to use the default"
    );
    // an unknown key inside the app's section lists the section's keys
    let e = parse_str(&GOOD.replace("  queue: true", "  queue: true\n  qeue: 1")).unwrap_err();
    assert_eq!((e.key.as_str(), e.line, e.column), ("checkout.qeue", 7, 3));
    assert!(e.help.contains("memory_mb") && e.help.contains("queue"), "{e}");
    // an unknown top-level key may be a misspelt common one: both lists are offered
    let e = parse_str(&GOOD.replace("region: eu-west-1", "region: eu-west-1\nregoin: x")).unwrap_err();
    assert_eq!((e.key.as_str(), e.line), ("regoin", 9));
    assert!(e.help.contains("`region`,") && e.help.contains("`checkout`"), "{e}");
    // misspelt instead of added: the unknown key is named, not the common one it leaves missing
    let e = parse_str(&GOOD.replace("region: eu-west-1", "regoin: eu-west-1")).unwrap_err();
    assert_eq!((e.key.as_str(), e.line, e.message.as_str()), ("regoin", 8, "is not a known key"), "{e}");
    // a common key's error is castform's, at its line
    let e = parse_str(&GOOD.replace("\"372241484305\"", "\"37\"")).unwrap_err();
    assert_eq!((e.key.as_str(), e.line), ("account", 7));
    // the app's own validation, located in the file
    let e = parse_str(&GOOD.replace("memory_mb: 512", "memory_mb: 128")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "environments/shop/test.yaml:6:3: `checkout.queue` needs 256 MB or more\nhelp: raise checkout.memory_mb, or remove checkout.queue"
    );
}

#[test]
fn the_file_must_say_its_app_and_name_and_an_unknown_app_lists_the_registered_ones() {
    let e = parse_str(&GOOD.replace("app: shop", "app: shoe")).unwrap_err();
    assert_eq!((e.key.as_str(), e.line), ("app", 2));
    let e = parse_str(&GOOD.replace("name: test", "name: prod")).unwrap_err();
    assert_eq!((e.key.as_str(), e.line), ("name", 3));
    static APPS: &[&dyn AnyApp] = &[&Shop];
    let e = load(Path::new("."), Registry::new(APPS), "shoe", "prod").unwrap_err();
    assert_eq!(e.message, "app `shoe` is unknown");
    assert_eq!(e.help, "use one of: shop");
}

#[test]
fn the_split_keeps_every_line_in_place() {
    let (common, own) = split_common(GOOD);
    assert_eq!(common.lines().count(), GOOD.lines().count());
    assert_eq!(own.lines().count(), GOOD.lines().count());
    assert_eq!(own.lines().nth(4), Some("  memory_mb: 512"));
    assert_eq!(common.lines().nth(4), Some(""));
    assert_eq!(common.lines().next(), Some("# a shop"), "leading comments go to both");
    assert_eq!(own.lines().nth(9), Some(""), "a common key's block is blank in the app's part");
}

/// An app whose type forgets `deny_unknown_fields`: the keys it would skip are refused anyway.
struct Loose;

#[derive(Debug, Clone, Default, Deserialize)]
struct LooseConfig {
    #[serde(default)]
    #[allow(dead_code)]
    checkout: Option<LooseCheckout>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct LooseCheckout {
    #[serde(default)]
    #[allow(dead_code)]
    memory_mb: u32,
}

impl Definition for Loose {
    type Config = LooseConfig;
    fn name(&self) -> &'static str {
        "shop"
    }
    fn define(&self, env: &Environment, _config: &LooseConfig) -> anyhow::Result<App> {
        Ok(App::new("shop", &env.name, vec![])?)
    }
}

#[test]
fn a_key_the_apps_type_would_ignore_is_refused_at_its_line() {
    let text = GOOD.replace("  queue: true\n", "");
    let parse_loose = |t: &str| parse(t, "environments/shop/test.yaml", Path::new("."), &Loose, "test");
    assert!(parse_loose(&text).is_ok(), "every key read");
    let e = parse_loose(&text.replace("  memory_mb: 512", "  memory_mb: 512\n  memroy_mb: 3")).unwrap_err();
    assert_eq!((e.key.as_str(), e.line, e.column), ("checkout.memroy_mb", 6, 3), "{e}");
    assert_eq!(e.message, "is not a key the shop app reads");
    let e = parse_loose(&format!("{text}extra: 1\n")).unwrap_err();
    assert_eq!((e.key.as_str(), e.line), ("extra", 11), "{e}");
}

/// An app's `define` must name its App after itself: the engine files state under that name.
#[test]
fn an_app_defined_under_another_name_is_an_error() {
    struct Misnamed;
    impl Definition for Misnamed {
        type Config = ShopConfig;
        fn name(&self) -> &'static str {
            "shop"
        }
        fn define(&self, env: &Environment, _: &ShopConfig) -> anyhow::Result<App> {
            Ok(App::new("store", &env.name, vec![])?)
        }
    }
    let e = parse(GOOD, "environments/shop/test.yaml", Path::new("."), &Misnamed, "test").unwrap();
    let err = e.define().unwrap_err().to_string();
    assert!(err.contains("app `shop` defined an App named `store`"), "{err}");
    let e = parse_str(GOOD).unwrap();
    assert_eq!(e.define().unwrap().app, "shop");
}

#[test]
fn stack_timeout_takes_minutes_or_hours_and_names_file_and_key_when_refused() {
    assert_eq!(parse_str(GOOD).unwrap().stack_timeout, DEFAULT_STACK_TIMEOUT, "the hour castform always waited");
    let with = |v: &str| parse_str(&format!("{GOOD}stack_timeout: {v}\n"));
    assert_eq!(with("45m").unwrap().stack_timeout, std::time::Duration::from_secs(45 * 60));
    assert_eq!(with("2h").unwrap().stack_timeout, std::time::Duration::from_secs(2 * 3600));
    for (bad, says) in [
        ("45", "expected a duration"),
        ("soon", "expected a duration"),
        ("2m", "expected 5m..=24h"),
        ("25h", "expected 5m..=24h"),
    ] {
        let e = with(bad).unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.key.as_str(), e.line),
            ("environments/shop/test.yaml", "stack_timeout", 12),
            "{bad}: {e}"
        );
        assert!(e.message.contains(says), "{bad}: {e}");
        assert!(!e.help.is_empty(), "{bad}: {e}");
    }
}

/// Review S3-37: a file that forgets `retain_data` keeps its data (Retain, no replacement, no
/// destroy); a disposable environment says `retain_data: false`.
#[test]
fn retain_data_defaults_to_keeping_data() {
    assert!(!GOOD.contains("retain_data"));
    assert!(parse_str(GOOD).unwrap().retain_data);
    let off = GOOD.replace("prefix: shop-test\n", "prefix: shop-test\nretain_data: false\n");
    assert!(!parse_str(&off).unwrap().retain_data);
}
