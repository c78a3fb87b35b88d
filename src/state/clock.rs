//! The clock of the state: UTC timestamps for records and locks, and deployment ids that sort by
//! time.

use time::OffsetDateTime;

/// UTC now, ISO 8601 to the second: `2026-11-22T06:15:30Z`.
pub fn now() -> String {
    let t = OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A deployment id, sortable by time to the millisecond and increasing within a process:
/// `20261122T061530123Z-3f2a`.
pub fn new_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let next = |last: u64| if now_ms > last { now_ms } else { last + 1 };
    let ms = LAST.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| Some(next(last))).map(next).unwrap_or(now_ms);
    let t = OffsetDateTime::from_unix_timestamp((ms / 1000) as i64).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let salt = crate::template::sha256_hex(format!("{ms}{}", std::process::id()).as_bytes());
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}{:03}Z-{}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        ms % 1000,
        &salt[..4]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_iso_8601_utc_to_the_second() {
        let n = now();
        assert_eq!(n.len(), 20, "{n}");
        let t = OffsetDateTime::parse(&n, &time::format_description::well_known::Rfc3339).unwrap();
        assert!((OffsetDateTime::now_utc() - t).whole_seconds().abs() < 5, "{n}");
    }

    #[test]
    fn ids_increase_within_a_process_and_read_as_their_time() {
        let ids: Vec<String> = (0..50).map(|_| new_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        // the id's date is today's, as `now` says it
        assert_eq!(&ids[0][..8], now()[..10].replace('-', ""));
    }
}
