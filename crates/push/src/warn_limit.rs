//! Warnings about input from the air, rate-limited: a flood of bad datagrams (80,000 in a
//! minute, say) must not become 80,000 log lines. Sans-I/O like the rest of the router: the
//! caller's `now` (milliseconds) is the clock.
//!
//! Rule (decided here): at most [`PER_WINDOW`] such warnings per [`WINDOW_MS`]; the rest are
//! counted, and the count is logged (one line) when the window is over and input arrives
//! again.

/// Length of a window, in milliseconds.
pub const WINDOW_MS: u64 = 60_000;
/// Warnings logged per window.
pub const PER_WINDOW: u32 = 10;

/// What to do with one warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Log it.
    Log,
    /// Count it, do not log it.
    Suppress,
}

/// The state of the rate limit.
#[derive(Debug, Default)]
pub(crate) struct WarnLimit {
    window_start: Option<u64>,
    in_window: u32,
    suppressed: u64,
}

impl WarnLimit {
    /// Starts a new window when the current one is over, logging how many warnings the old
    /// one suppressed; call it with every input.
    pub(crate) fn tick(&mut self, now: u64) {
        let over = self
            .window_start
            .is_none_or(|start| now < start || now - start >= WINDOW_MS);
        if over {
            if self.suppressed > 0 {
                log::warn!(
                    "{} more warnings about dropped push input were suppressed in the last minute",
                    self.suppressed
                );
            }
            self.window_start = Some(now);
            self.in_window = 0;
            self.suppressed = 0;
        }
    }

    /// Whether the next warning is logged.
    pub(crate) fn verdict(&mut self, now: u64) -> Verdict {
        self.tick(now);
        if self.in_window < PER_WINDOW {
            self.in_window += 1;
            Verdict::Log
        } else {
            self.suppressed += 1;
            Verdict::Suppress
        }
    }

    /// Logs `message` at warning level unless the window's quota is spent.
    pub(crate) fn warn(&mut self, now: u64, message: std::fmt::Arguments<'_>) {
        if self.verdict(now) == Verdict::Log {
            log::warn!("{message}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_logs_a_few_lines_per_minute_and_counts_the_rest() {
        let mut w = WarnLimit::default();
        let logged = (0..80_000u64)
            .filter(|i| w.verdict(i / 2) == Verdict::Log)
            .count();
        // 80,000 warnings over 40 s: one window.
        assert_eq!(logged, PER_WINDOW as usize);
        assert_eq!(w.suppressed, 80_000 - u64::from(PER_WINDOW));
        // A minute later the count is reported and warnings flow again.
        w.tick(40_000 + WINDOW_MS);
        assert_eq!(w.suppressed, 0);
        assert_eq!(w.verdict(40_001 + WINDOW_MS), Verdict::Log);
    }
}
