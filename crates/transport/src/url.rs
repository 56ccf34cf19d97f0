//! The URLs a DM account holds: `http(s)://host[:port][/path][?query]`.

use crate::TransportError;

/// A parsed server URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Url {
    /// Whether the scheme is `https`.
    pub tls: bool,
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Port (443 or 80 by default).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Url {
    /// Parses a URL.
    pub fn parse(text: &str) -> Result<Url, TransportError> {
        let bad = |why: &str| TransportError::BadUrl(format!("{text:?}: {why}"));
        let (tls, rest) = if let Some(r) = strip_prefix_ci(text, "https://") {
            (true, r)
        } else if let Some(r) = strip_prefix_ci(text, "http://") {
            (false, r)
        } else {
            return Err(bad("scheme is not http or https"));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_owned()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_owned()),
        };
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not accepted"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6.find(']').ok_or_else(|| bad("unclosed IPv6 literal"))?;
            let port = v6[end + 1..].strip_prefix(':');
            (v6[..end].to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (authority.to_owned(), None),
            }
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("bad host"));
        }
        let port = match port {
            Some(p) => p.parse().map_err(|_| bad("bad port"))?,
            None if tls => 443,
            None => 80,
        };
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("white space in the path"));
        }
        Ok(Url {
            tls,
            host,
            port,
            path,
        })
    }

    /// `host:port` for the Host header (brackets around IPv6).
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = if self.tls { 443 } else { 80 };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    (text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_defaults() {
        let u = Url::parse("https://dm.example.com/dm?x=1").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port, u.path.as_str()),
            (true, "dm.example.com", 443, "/dm?x=1")
        );
        let u = Url::parse("HTTP://127.0.0.1:8080").unwrap();
        assert_eq!(
            (u.tls, u.port, u.path.as_str(), u.authority()),
            (false, 8080, "/", "127.0.0.1:8080".to_owned())
        );
        let u = Url::parse("https://[::1]:8443/a").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.authority()),
            ("::1", 8443, "[::1]:8443".to_owned())
        );
        assert_eq!(Url::parse("https://h?q").unwrap().path, "/?q");
    }

    #[test]
    fn bad_urls_are_refused() {
        for bad in [
            "ftp://x",
            "https://",
            "https://u:p@h/",
            "https://h:99999/",
            "https://h/a b",
            "dm.example.com",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }
}
