//! A minimal `log` backend for the long-running commands: one line per record on stderr,
//! level from the `OMADM_LOG` environment variable (error, warn, info, debug, trace; default
//! info).

use log::{Level, LevelFilter, Log, Metadata, Record};

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &Record<'_>) {
        if self.enabled(r.metadata()) {
            let level = match r.level() {
                Level::Error => "error",
                Level::Warn => "warn",
                Level::Info => "info",
                Level::Debug => "debug",
                Level::Trace => "trace",
            };
            eprintln!("{}", line(level, r.target(), &r.args().to_string()));
        }
    }

    fn flush(&self) {}
}

/// One log line: the message may echo what peers sent, so it is escaped and cut
/// ([`omadm_syncml::printable()`]): a record can never print a second, forged line.
fn line(level: &str, target: &str, message: &str) -> String {
    format!(
        "{level}: {target}: {}",
        omadm_syncml::printable(message)
            .limit(2048)
            .plain_backslashes()
    )
}

static LOGGER: Stderr = Stderr;

/// Installs the logger (once; later calls do nothing).
pub fn init() {
    let level = match std::env::var("OMADM_LOG").as_deref() {
        Ok("error") => LevelFilter::Error,
        Ok("warn") => LevelFilter::Warn,
        Ok("debug") => LevelFilter::Debug,
        Ok("trace") => LevelFilter::Trace,
        Ok("off") => LevelFilter::Off,
        _ => LevelFilter::Info,
    };
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_log_line_is_one_printable_line() {
        let l = super::line(
            "warn",
            "omadm_push",
            "bad datagram from \x1b[2Jevil\nerror: forged",
        );
        assert_eq!(
            l,
            "warn: omadm_push: bad datagram from \\x1b[2Jevil\\x0aerror: forged"
        );
    }
}
