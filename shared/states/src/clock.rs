//! Time, as the embedder wants it: [`TokioClock`] sleeps for real,
//! [`VirtualClock`] jumps forward instantly so a day-long Wait or a long
//! retry backoff costs nothing in tests.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;
use time::OffsetDateTime;

/// The source of "now" and of waiting, used for Wait states, retry backoff,
/// timeouts and event timestamps.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send;
}

/// Wall-clock time and `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(d)
    }
}

/// A clock whose sleeps return at once after moving its time forward.
#[derive(Debug)]
pub struct VirtualClock {
    now: Mutex<OffsetDateTime>,
    slept: Mutex<Vec<Duration>>,
}

impl VirtualClock {
    pub fn new(start: OffsetDateTime) -> Self {
        Self { now: Mutex::new(start), slept: Mutex::new(Vec::new()) }
    }

    /// A virtual clock starting at 2024-01-01T00:00:00Z, so tests are repeatable.
    pub fn fixed() -> Self {
        Self::new(time::macros::datetime!(2024-01-01 00:00:00 UTC))
    }

    /// Every sleep so far, in order (retry intervals, waits, …).
    pub fn sleeps(&self) -> Vec<Duration> {
        self.slept.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Total virtual time slept.
    pub fn elapsed(&self) -> Duration {
        self.sleeps().iter().sum()
    }

    /// Moves time forward; a jump past the end of representable time stops there.
    pub fn advance(&self, d: Duration) {
        if let Ok(mut n) = self.now.lock() {
            let step = time::Duration::try_from(d).unwrap_or(time::Duration::MAX);
            *n = n.checked_add(step).unwrap_or(time::macros::datetime!(9999-12-31 23:59:59 UTC));
        }
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::fixed()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> OffsetDateTime {
        self.now.lock().map(|n| *n).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send {
        self.advance(d);
        if let Ok(mut s) = self.slept.lock() {
            s.push(d);
        }
        std::future::ready(())
    }
}

impl<C: Clock> Clock for &C {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send {
        (**self).sleep(d)
    }
}

impl<C: Clock> Clock for std::sync::Arc<C> {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send {
        (**self).sleep(d)
    }
}

/// Formats a time as Step Functions does in the context object:
/// RFC 3339 in UTC with millisecond precision (`2024-01-01T00:00:00.000Z`).
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}
