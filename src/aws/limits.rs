//! How often and how long castform waits on AWS, in one place: the SDK's retries and timeouts for
//! API calls, and the plain HTTP client's for health checks and code downloads.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use std::time::Duration;

/// Attempts per API call, the first included: the eight castform's own throttling retry made
/// before this (it wrapped them around the SDK's three, so one call could become 24 requests).
///
/// With the SDK's backoff (full jitter over 1 s doubling up to 20 s,
/// <https://docs.aws.amazon.com/sdk-for-rust/latest/dg/retries.html>) the seven waits come to at
/// most 71 s and about 35 s on average: a throttled account slows a deploy down for about as long as
/// the old 0.2 s … 12.8 s ladder did (25 s), rather than failing it halfway. The SDK retries what
/// castform's list did: aws-runtime 1.10.2's `retries::classifiers::THROTTLING_ERRORS` holds all
/// six of its codes (`Throttling`, `ThrottlingException`, `TooManyRequestsException`,
/// `RequestLimitExceeded`, `SlowDown`, `RequestThrottled`), and eight more; it also retries
/// transient errors (5xx, timeouts), which now get eight attempts too.
pub const MAX_ATTEMPTS: u32 = 8;

/// Standard mode, not adaptive: AWS recommends standard unless a client is certain adaptive suits
/// it; adaptive's client-side rate limiting assumes one client per throttled resource and is
/// experimental (<https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>),
/// while castform calls many services and stacks at once through one configuration. Set here, it
/// overrides `AWS_MAX_ATTEMPTS` and `AWS_RETRY_MODE`.
pub fn retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)
}

/// Every client's retries draw on an unlimited token bucket. Standard mode's default quota (500
/// tokens per service and region shared by the whole process, 5 per throttled retry, one back
/// per first-attempt success: "Retry behavior",
/// <https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>) empties after
/// about a hundred calls throttled twice, and from then on every throttled call fails on its first
/// attempt: a deploy in a busy account would fail half-way, and the restore after it would draw
/// on the same empty bucket. A run's calls are few and bounded by [`MAX_ATTEMPTS`] each and by the
/// operation timeouts below, so castform waits out a throttled account rather than give up.
pub fn retry_partition() -> aws_sdk_sts::config::retry::RetryPartition {
    use aws_sdk_sts::config::retry::{RetryPartition, TokenBucket};
    RetryPartition::custom("castform").token_bucket(TokenBucket::unlimited()).build()
}

/// Every API call (<https://docs.aws.amazon.com/sdk-for-rust/latest/dg/timeouts.html>, where the
/// SDK's only default is a 3.1 s connect timeout): connecting; the first byte of the answer (an
/// attempt that stalls is retried); one attempt, large uploads included; and the whole call with
/// its retries, so no call hangs a deploy. Bodies read after the call returns (S3 GetObject) are
/// not covered by these; the SDK's stalled-stream protection, on by default, fails one that sends
/// nothing for 20 s.
const CONNECT: Duration = Duration::from_secs(10);
const FIRST_BYTE: Duration = Duration::from_secs(60);
const ATTEMPT: Duration = Duration::from_secs(120);
const OPERATION: Duration = Duration::from_secs(600);

/// How long the credentials may take to be ready: a `credential_process` helper, an SSO token
/// refresh, the instance metadata service. The SDK's own bound for it is derived from the retries
/// and comes to about 17 minutes with castform's (aws-smithy-runtime 1.16's
/// `pessimistic_load_timeout`), so a helper that never returns held a command that long.
const CREDENTIALS: Duration = Duration::from_secs(120);

/// `CASTFORM_AWS_TIMEOUT`: at most this many seconds (1 to 3600) for any one AWS call, its
/// retries included, and for the credentials, where a pipeline prefers to fail fast; every other
/// bound is shortened to fit it. Unset, or not such a number: the bounds above.
pub const TIMEOUT_VARIABLE: &str = "CASTFORM_AWS_TIMEOUT";

fn cap() -> Option<Duration> {
    let secs: u64 = std::env::var(TIMEOUT_VARIABLE).ok()?.trim().parse().ok()?;
    (1..=3600).contains(&secs).then(|| Duration::from_secs(secs))
}

/// `d`, shortened to [`TIMEOUT_VARIABLE`]'s cap.
fn bound(d: Duration) -> Duration {
    cap().map_or(d, |c| d.min(c))
}

/// How long the credentials may take to be ready (see [`CREDENTIALS`]). Under a cap they get
/// three quarters of it, so a helper that hangs is named as such rather than as a call that did
/// not answer.
pub fn credentials() -> Duration {
    cap().map_or(CREDENTIALS, |c| CREDENTIALS.min((c * 3 / 4).max(Duration::from_millis(500))))
}

/// The bounds of an API call, for a message that says one was given up.
pub fn described() -> String {
    format!(
        "connecting is given {} s, the first byte of an answer {} s, the call with its retries {} s",
        bound(CONNECT).as_secs(),
        bound(FIRST_BYTE).as_secs(),
        bound(OPERATION).as_secs()
    )
}

pub fn api_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(bound(CONNECT))
        .read_timeout(bound(FIRST_BYTE))
        .operation_attempt_timeout(bound(ATTEMPT))
        .operation_timeout(bound(OPERATION))
        .build()
}

/// S3's: the SDK's read timeout counts from when the request starts, so for PutObject it includes
/// sending the body. An asset (a deployment package, up to 250 MB unzipped) may take long on a
/// slow uplink: an attempt is bounded at 15 minutes and the call at 30, and an upload that makes
/// no progress fails sooner through the SDK's stalled-stream protection
/// (<https://docs.aws.amazon.com/sdk-for-rust/latest/dg/stalled-stream-protection.html>).
const OBJECT_ATTEMPT: Duration = Duration::from_secs(900);
const OBJECT_OPERATION: Duration = Duration::from_secs(1800);

pub fn object_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(bound(CONNECT))
        .read_timeout(bound(OBJECT_ATTEMPT))
        .operation_attempt_timeout(bound(OBJECT_ATTEMPT))
        .operation_timeout(bound(OBJECT_OPERATION))
        .build()
}

/// A whole object read, its body included: the SDK's timeouts end when the answer's headers
/// arrive, and its stalled-stream protection lets through a body dripped a byte a second (issue
/// 36), so the read is bounded as a whole.
pub fn object_read() -> Duration {
    bound(OBJECT_OPERATION)
}

/// Bounds of one plain HTTPS GET.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HttpLimits {
    pub connect: Duration,
    /// How long the answer may pause between two reads (none: only `total` bounds it).
    pub stall: Option<Duration>,
    pub total: Duration,
}

/// A health check or a served file: small answers, bounded whole.
pub const CHECK: HttpLimits = HttpLimits { connect: CONNECT, stall: None, total: Duration::from_secs(20) };

/// A download from a presigned URL (a function's code, from Lambda's `Code.Location`, for the
/// backup): up to a deployment package's 250 MB, so bounded by a stall rather than a check's
/// 20 s (review S3-33), and by ten minutes in all.
pub const DOWNLOAD: HttpLimits =
    HttpLimits { connect: CONNECT, stall: Some(Duration::from_secs(30)), total: Duration::from_secs(600) };
