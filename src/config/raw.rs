//! The common keys of an environment file as written: serde structs that refuse unknown keys,
//! and value types that check themselves while parsing so an error carries the line and column
//! of its key (public: apps type their own keys with them).

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use std::fmt::Display;

/// Marks the start of a `help:` text inside a serde error message.
pub const HELP: &str = "\u{1f}";

/// The error a value type's `Deserialize` returns for a value it refuses: what was found and
/// expected, and what to do; the loader adds the file, line, column and key.
pub fn invalid_value<E: de::Error>(what: impl Display, help: impl Display) -> E {
    E::custom(format!("{what}{HELP}{help}"))
}

use invalid_value as fail;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnvironment {
    pub app: String,
    pub name: String,
    pub account: AccountId,
    pub region: Region,
    #[serde(default)]
    pub profile: Option<String>,
    pub prefix: Prefix,
    /// Absent: `true`, the safe choice (review S3-37): a new production file that forgets the key
    /// keeps its data; a disposable environment says `retain_data: false`.
    #[serde(default = "yes")]
    pub retain_data: bool,
    #[serde(default)]
    pub confirm: bool,
    #[serde(default)]
    pub tags: IndexMap<String, String>,
    #[serde(default)]
    pub retention: Option<Bounded<1, 1000>>,
    /// Existing resources taken into the stacks: `<stack>.<LogicalId>: <identifier>`.
    #[serde(default)]
    pub adopt: IndexMap<String, String>,
    /// How long a stack operation may run before castform cancels it: `45m`, `2h`.
    #[serde(default)]
    pub stack_timeout: Option<StackTimeout>,
}

/// How long a stack operation may run: whole minutes (`45m`) or hours (`2h`), from 5 minutes to
/// 24 hours. Below that, CloudFront and MediaLive resources alone can outlast it; above, a stuck
/// deploy holds the environment's lock for a day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StackTimeout(pub std::time::Duration);

impl StackTimeout {
    pub const MIN_MINUTES: u64 = 5;
    pub const MAX_MINUTES: u64 = 24 * 60;
}

impl<'de> Deserialize<'de> for StackTimeout {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum N {
            S(String),
            U(u64),
        }
        let text = match N::deserialize(d)? {
            N::S(s) => s,
            N::U(u) => u.to_string(),
        };
        let t = text.trim();
        let minutes = if let Some(m) = t.strip_suffix('m') {
            m.parse::<u64>().ok()
        } else if let Some(h) = t.strip_suffix('h') {
            h.parse::<u64>().ok().and_then(|h| h.checked_mul(60))
        } else {
            None
        };
        let Some(minutes) = minutes else {
            return Err(fail(
                format!("is {text:?}, expected a duration in minutes or hours such as 45m or 2h"),
                "write whole minutes with `m` or hours with `h`, e.g. stack_timeout: 45m",
            ));
        };
        if !(Self::MIN_MINUTES..=Self::MAX_MINUTES).contains(&minutes) {
            return Err(fail(
                format!("is {text}, expected 5m..=24h"),
                "choose a value from 5m to 24h, or remove the key to use the default (60m)",
            ));
        }
        Ok(Self(std::time::Duration::from_secs(minutes * 60)))
    }
}

/// `rate(...)`, `cron(...)` or `at(...)`, as EventBridge Scheduler takes them.
#[derive(Debug, Clone)]
pub struct ScheduleExpression(pub String);

impl<'de> Deserialize<'de> for ScheduleExpression {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = ["rate(", "cron(", "at("].iter().any(|p| s.starts_with(p)) && s.ends_with(')') && s.len() > 6;
        if !ok {
            return Err(fail(
                format!("{s:?} is not a schedule expression"),
                "write rate(1 hour), cron(0 3 * * ? *) or at(2026-12-01T00:00:00)",
            ));
        }
        Ok(Self(s))
    }
}

/// 60, 120, 300 or 600 seconds: the windows AWS WAF's rate-based rules offer.
#[derive(Debug, Clone, Copy)]
pub struct EvaluationWindow(pub u32);

impl<'de> Deserialize<'de> for EvaluationWindow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        if ![60, 120, 300, 600].contains(&v) {
            return Err(fail(
                format!("is {v}, expected 60, 120, 300 or 600"),
                "use one of AWS WAF's evaluation windows",
            ));
        }
        Ok(Self(v as u32))
    }
}

/// A 12-digit AWS account id, quoted or not.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountId(pub String);

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum N {
            S(String),
            U(u64),
        }
        let s = match N::deserialize(d)? {
            N::S(s) => s,
            N::U(u) => format!("{u:012}"),
        };
        if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail(
                format!("is {s:?}, expected a 12-digit AWS account id"),
                "write the account id as a quoted string of 12 digits, e.g. account: \"372241484305\"",
            ));
        }
        Ok(Self(s))
    }
}

/// An AWS region name such as `us-west-2`.
#[derive(Debug, Clone, PartialEq)]
pub struct Region(pub String);

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let parts: Vec<&str> = s.split('-').collect();
        let ok = parts.len() >= 3
            && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].parse::<u8>().is_ok();
        if !ok {
            return Err(fail(
                format!("is {s:?}, expected an AWS region such as us-west-2"),
                "use a region code from the AWS console's region list",
            ));
        }
        Ok(Self(s))
    }
}

/// The prefix of every physical name: lowercase letters, digits and hyphens, 3 to 40 long.
#[derive(Debug, Clone, PartialEq)]
pub struct Prefix(pub String);

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = (3..=40).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && !s.ends_with('-');
        if !ok {
            return Err(fail(
                format!("is {s:?}, expected 3 to 40 lowercase letters, digits and hyphens, starting with a letter"),
                "stack, table and bucket names start with it, e.g. prefix: orders-prod",
            ));
        }
        Ok(Self(s))
    }
}

/// An IPv4 CIDR block.
#[derive(Debug, Clone, PartialEq)]
pub struct Cidr(pub String);

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if parse_cidr(&s).is_none() {
            return Err(fail(
                format!("is {s:?}, expected an IPv4 CIDR block such as 203.0.113.10/32"),
                "write the encoder's public address with a prefix length (0 to 32)",
            ));
        }
        Ok(Self(s))
    }
}

/// `a.b.c.d/n` with the host bits zero where n < 32
pub fn parse_cidr(s: &str) -> Option<([u8; 4], u8)> {
    let (addr, len) = s.split_once('/')?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    let octets: Vec<u8> = addr.split('.').map(|o| o.parse::<u8>().ok()).collect::<Option<_>>()?;
    let octets: [u8; 4] = octets.try_into().ok()?;
    if addr.split('.').any(|o| o.len() > 1 && o.starts_with('0')) {
        return None;
    }
    let value = u32::from_be_bytes(octets);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    (value & !mask == 0).then_some((octets, len))
}

/// An origin for CORS: `https://host` or `http://localhost:port`, no path.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin(pub String);

impl<'de> Deserialize<'de> for Origin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
        let ok = rest.is_some_and(|r| !r.is_empty() && !r.contains('/') && !r.contains('*'));
        if !ok {
            return Err(fail(
                format!(
                    "is {s:?}, expected an origin such as https://app.example.org (scheme and host, no path, no *)"
                ),
                "list each site origin the API must answer; the CDN's own origin is added by castform",
            ));
        }
        Ok(Self(s))
    }
}

/// An integer within `MIN..=MAX`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounded<const MIN: u32, const MAX: u32>(pub u32);

impl<'de, const MIN: u32, const MAX: u32> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        if v < i64::from(MIN) || v > i64::from(MAX) {
            return Err(fail(
                format!("is {v}, expected {MIN}..={MAX}"),
                "change the value, or remove the key to use the default",
            ));
        }
        Ok(Self(v as u32))
    }
}

/// serde's default for keys whose safe value is `true`.
fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_are_checked() {
        assert!(parse_cidr("203.0.113.10/32").is_some());
        assert!(parse_cidr("10.0.0.0/8").is_some());
        assert!(parse_cidr("0.0.0.0/0").is_some());
        assert!(parse_cidr("10.0.0.1/8").is_none(), "host bits set");
        assert!(parse_cidr("300.0.0.0/8").is_none());
        assert!(parse_cidr("10.0.0.0").is_none());
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("010.0.0.0/8").is_none());
    }
}
