//! User-interaction alerts (DM RepPro §4.2.1, windows-mobile-dm.md §7.2): 1100 display, 1101
//! confirm, 1102 text input, 1103 single choice, 1104 multiple choice, handed to a
//! [`UserInterface`] the driver attaches.
//!
//! Status codes: shown / confirmed / answered → 200 (with the text or the chosen numbers in
//! the Status's Items); 1101 answered "no" → 304; cancelled → 214, and every later command of
//! the message is not executed (215); timed out (MAXDT passed) → 408; a malformed alert → 412;
//! no UI attached, or a UI that does not support the kind → 406.

/// The kind of interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiKind {
    /// 1100: show a text.
    Display,
    /// 1101: ask yes or no.
    Confirm,
    /// 1102: ask for text.
    TextInput,
    /// 1103: pick one.
    SingleChoice,
    /// 1104: pick any.
    MultipleChoice,
}

/// Input types (`IT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    /// `A`: alphanumeric (default).
    Alphanumeric,
    /// `N`: numeric.
    Numeric,
    /// `D`: date, `DDMMYYYY`.
    Date,
    /// `T`: time, `hhmmss`.
    Time,
    /// `P`: phone number.
    Phone,
    /// `I`: IP address.
    Ip,
}

/// The options of the alert's first Item (`MINDT=..&MAXDT=..&DR=..&MAXLEN=..&IT=..&ET=..`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UiOptions {
    /// Seconds the text stays at least.
    pub min_display_secs: Option<u32>,
    /// Seconds to wait for an answer before treating it as timed out.
    pub max_display_secs: Option<u32>,
    /// Default response (`DR`), as given.
    pub default_response: Option<String>,
    /// Longest text input.
    pub max_len: Option<u32>,
    /// Input type.
    pub input_type: Option<InputType>,
    /// Echo the input as a password (`ET=P`).
    pub password_echo: bool,
}

/// What the UI is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiRequest {
    /// The kind.
    pub kind: UiKind,
    /// The text to show.
    pub text: String,
    /// The choices, numbered from 1 in this order (1103, 1104).
    pub choices: Vec<String>,
    /// The options.
    pub options: UiOptions,
    /// The server's name, for "`<server>` sent you a message".
    pub server: String,
}

/// The user's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UiResponse {
    /// Display acknowledged, or confirm answered yes.
    Accepted,
    /// Confirm answered no.
    Rejected,
    /// The text typed.
    Text(String),
    /// The chosen numbers (from 1).
    Selected(Vec<usize>),
    /// The user cancelled.
    Cancelled,
    /// Nobody answered within MAXDT.
    TimedOut,
    /// This UI cannot show that kind.
    NotSupported,
}

/// Shows user-interaction alerts. Called synchronously from [`crate::Session::handle`].
pub trait UserInterface: Send {
    /// Shows `request` and returns the answer.
    fn ask(&mut self, request: &UiRequest) -> UiResponse;
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(b) = hex {
                    out.push(b);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses the options string; unknown keys are ignored, as the specification asks.
pub fn parse_options(text: &str) -> UiOptions {
    let mut o = UiOptions::default();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v);
        match k.trim() {
            "MINDT" => o.min_display_secs = v.trim().parse().ok(),
            "MAXDT" => o.max_display_secs = v.trim().parse().ok(),
            "DR" => o.default_response = Some(v),
            "MAXLEN" => o.max_len = v.trim().parse().ok(),
            "IT" => {
                o.input_type = match v.trim() {
                    "A" => Some(InputType::Alphanumeric),
                    "N" => Some(InputType::Numeric),
                    "D" => Some(InputType::Date),
                    "T" => Some(InputType::Time),
                    "P" => Some(InputType::Phone),
                    "I" => Some(InputType::Ip),
                    _ => None,
                }
            }
            "ET" => o.password_echo = v.trim() == "P",
            _ => {}
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_parsed_and_unknown_keys_ignored() {
        let o = parse_options("MINDT=10&MAXDT=30&DR=hello+world%21&MAXLEN=12&IT=N&ET=P&XYZ=1");
        assert_eq!(o.min_display_secs, Some(10));
        assert_eq!(o.max_display_secs, Some(30));
        assert_eq!(o.default_response.as_deref(), Some("hello world!"));
        assert_eq!(o.max_len, Some(12));
        assert_eq!(o.input_type, Some(InputType::Numeric));
        assert!(o.password_echo);
        assert_eq!(parse_options(""), UiOptions::default());
        assert_eq!(
            parse_options("DR=%4").default_response.as_deref(),
            Some("%4")
        );
    }
}
