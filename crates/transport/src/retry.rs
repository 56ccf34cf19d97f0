//! Retry with backoff (windows-mobile-dm.md §4.1), decided here and applied by the agent.
//!
//! At most `ConnRetryFreq` retries after the first attempt; the first wait is
//! `InitialBackOffTime`, each later one doubles, none exceeds `MaxBackOffTime`. No jitter.
//! Retried: connection failures, I/O failures after connecting (including time-outs), and
//! the HTTP statuses 408 (request time-out), 429 (too many requests), 500, 502, 503 and 504.
//! Never retried: TLS and certificate failures, bad URLs, other HTTP statuses.

use std::time::Duration;

/// The account's retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// ConnRetryFreq: retries after the first attempt.
    pub retries: u32,
    /// InitialBackOffTime.
    pub initial: Duration,
    /// MaxBackOffTime.
    pub max: Duration,
}

impl Default for RetryPolicy {
    /// The Windows defaults: 3 retries, 16 s, 24 h.
    fn default() -> Self {
        RetryPolicy {
            retries: 3,
            initial: Duration::from_millis(16_000),
            max: Duration::from_millis(86_400_000),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (from 1), or `None` when retries are used up.
    pub fn backoff(&self, retry: u32) -> Option<Duration> {
        if retry == 0 || retry > self.retries {
            return None;
        }
        let factor = 1u32.checked_shl(retry - 1).unwrap_or(u32::MAX);
        Some(
            self.initial
                .checked_mul(factor)
                .unwrap_or(self.max)
                .min(self.max),
        )
    }
}

/// Whether an HTTP status is worth a retry.
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_stops_after_the_retries() {
        let p = RetryPolicy {
            retries: 5,
            initial: Duration::from_secs(60),
            max: Duration::from_secs(300),
        };
        let waits: Vec<_> = (1..=6).map(|n| p.backoff(n)).collect();
        assert_eq!(
            waits,
            [Some(60), Some(120), Some(240), Some(300), Some(300), None]
                .map(|s| s.map(Duration::from_secs))
        );
        assert_eq!(p.backoff(0), None);
        let huge = RetryPolicy {
            retries: 64,
            initial: Duration::from_secs(1),
            max: Duration::from_secs(10),
        };
        assert_eq!(huge.backoff(64), Some(Duration::from_secs(10)));
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        assert!(retryable_status(503) && retryable_status(408) && retryable_status(429));
        assert!(!retryable_status(401) && !retryable_status(404) && !retryable_status(200));
    }
}
