//! The OMA DM ACL (OMA-TS-DM_TND-V1_2 §7.7): `Add=srv1+srv2&Delete=*&Get=*`.
//!
//! Grammar: `acl := "" | entry ("&" entry)*`, `entry := cmd "=" id ("+" id)*`, cmd one of Add,
//! Delete, Exec, Get, Replace, `id := "*" | server id` (printable, no `=&*+` or white space).
//! An empty ACL means "inherit from the nearest ancestor with one"; the root always has one.
//! `*` grants any authenticated server. Copy has no entry: it needs the rights of the Get and
//! Add/Replace it amounts to.

use std::fmt;

/// The commands an ACL grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AclCommand {
    /// `Add`.
    Add,
    /// `Delete`.
    Delete,
    /// `Exec`.
    Exec,
    /// `Get`.
    Get,
    /// `Replace`.
    Replace,
}

impl AclCommand {
    /// All commands, in canonical order.
    pub const ALL: [AclCommand; 5] = [
        AclCommand::Add,
        AclCommand::Delete,
        AclCommand::Exec,
        AclCommand::Get,
        AclCommand::Replace,
    ];

    /// The name as written in an ACL.
    pub fn name(self) -> &'static str {
        match self {
            AclCommand::Add => "Add",
            AclCommand::Delete => "Delete",
            AclCommand::Exec => "Exec",
            AclCommand::Get => "Get",
            AclCommand::Replace => "Replace",
        }
    }

    fn from_name(name: &str) -> Option<AclCommand> {
        AclCommand::from_octets(name.as_bytes())
    }

    fn from_octets(name: &[u8]) -> Option<AclCommand> {
        match name {
            b"Add" => Some(AclCommand::Add),
            b"Delete" => Some(AclCommand::Delete),
            b"Exec" => Some(AclCommand::Exec),
            b"Get" => Some(AclCommand::Get),
            b"Replace" => Some(AclCommand::Replace),
            _ => None,
        }
    }
}

/// A parsed ACL: for each command, the server ids granted (or `*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acl {
    entries: Vec<(AclCommand, Vec<String>)>,
}

/// Why an ACL string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclError(pub String);

impl fmt::Display for AclError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid ACL: {}", self.0)
    }
}

impl std::error::Error for AclError {}

fn valid_id(id: &str) -> bool {
    id == "*"
        || (!id.is_empty()
            && id
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"=&*+".contains(c)))
}

impl Acl {
    /// Parses an ACL string; `""` is the empty ACL.
    pub fn parse(text: &str) -> Result<Acl, AclError> {
        let mut acl = Acl::default();
        if text.is_empty() {
            return Ok(acl);
        }
        for entry in text.split('&') {
            let (cmd, ids) = entry
                .split_once('=')
                .ok_or_else(|| AclError(format!("entry {entry:?} has no `=`")))?;
            let cmd = AclCommand::from_name(cmd)
                .ok_or_else(|| AclError(format!("unknown command {cmd:?}")))?;
            if ids.is_empty() {
                return Err(AclError(format!("{} has no server id", cmd.name())));
            }
            for id in ids.split('+') {
                if !valid_id(id) {
                    return Err(AclError(format!("bad server id {id:?}")));
                }
                acl.grant(cmd, id);
            }
        }
        Ok(acl)
    }

    /// Whether no command is granted (the node inherits).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Grants `cmd` to `id` (`*` for everyone).
    pub fn grant(&mut self, cmd: AclCommand, id: &str) {
        match self.entries.iter_mut().find(|(c, _)| *c == cmd) {
            Some((_, ids)) => {
                if !ids.iter().any(|i| i == id) {
                    ids.push(id.to_owned())
                }
            }
            None => {
                // In command order (what `Display` writes), each command once.
                let at = self.entries.partition_point(|(c, _)| *c < cmd);
                self.entries.insert(at, (cmd, vec![id.to_owned()]));
            }
        }
    }

    /// Whether `server_id` holds `cmd`.
    pub fn permits(&self, cmd: AclCommand, server_id: &str) -> bool {
        self.entries
            .iter()
            .filter(|(c, _)| *c == cmd)
            .any(|(_, ids)| ids.iter().any(|id| id == "*" || id == server_id))
    }

    /// Removes `server_id` everywhere; entries left without ids disappear (TND: deleting a
    /// server account).
    pub fn remove_server(&mut self, server_id: &str) {
        for (_, ids) in &mut self.entries {
            ids.retain(|id| id != server_id);
        }
        self.entries.retain(|(_, ids)| !ids.is_empty());
    }
}

impl fmt::Display for Acl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // (`grant` keeps the entries in command order.)
        for (i, (cmd, ids)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str("&")?;
            }
            write!(f, "{}={}", cmd.name(), ids.join("+"))?;
        }
        Ok(())
    }
}

/// Whether the ACL text grants `cmd` to `server_id`, without building an [`Acl`] (the hot
/// path of every access check). Malformed text grants nothing.
pub fn permits(text: &str, cmd: AclCommand, server_id: &str) -> bool {
    // On octets: the separators are ASCII, and splitting short text at single octets is
    // cheaper than the general `str` pattern machinery.
    let (cmd, server_id) = (cmd.name().as_bytes(), server_id.as_bytes());
    // An entry is `Cmd=ids`: only those that start with this command and `=` are split.
    text.as_bytes().split(|&b| b == b'&').any(|entry| {
        entry.len() > cmd.len()
            && entry[cmd.len()] == b'='
            && entry.starts_with(cmd)
            && entry[cmd.len() + 1..]
                .split(|&b| b == b'+')
                .any(|id| id == b"*" || id == server_id)
    })
}

/// What the ACL text grants `server_id`, by command (`AclCommand as usize`): what
/// [`permits`] answers for each command, in one pass over the text.
pub fn verdicts(text: &str, server_id: &str) -> [bool; AclCommand::ALL.len()] {
    let server_id = server_id.as_bytes();
    let mut granted = [false; AclCommand::ALL.len()];
    for entry in text.as_bytes().split(|&b| b == b'&') {
        // A command's name holds no `=`: its entry's first `=` ends the name.
        let Some(eq) = entry.iter().position(|&b| b == b'=') else {
            continue;
        };
        let Some(cmd) = AclCommand::from_octets(&entry[..eq]) else {
            continue;
        };
        granted[cmd as usize] |= entry[eq + 1..]
            .split(|&b| b == b'+')
            .any(|id| id == b"*" || id == server_id);
    }
    granted
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn verdicts_are_what_permits_answers(
            // ACL-like text: names, ids and separators, well formed or not.
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "Add", "Delete", "Exec", "Get", "Replace", "Copy", "add", "Ge", "=", "&",
                    "+", "*", "a", "b", "ab", " ", "",
                ]),
                0..24,
            ),
            server in proptest::sample::select(vec!["a", "b", "ab", "*", "", "c"]),
        ) {
            let text = pieces.concat();
            let verdicts = verdicts(&text, server);
            for cmd in AclCommand::ALL {
                proptest::prop_assert_eq!(
                    verdicts[cmd as usize],
                    permits(&text, cmd, server),
                    "{:?} {:?} {:?}", text, cmd, server
                );
            }
        }
    }

    #[test]
    fn verdicts_of_a_text_granting_each_command_differently() {
        let text = "Add=a+b&Get=*&Replace=c&Exec=b&Exec=a";
        assert_eq!(verdicts(text, "a"), [true, false, true, true, false]);
        assert_eq!(verdicts(text, "c"), [false, false, false, true, true]);
        assert_eq!(verdicts("", "a"), [false; 5]);
    }

    #[test]
    fn acl_grammar_example_from_the_spec() {
        let acl = Acl::parse("Add=www.sonera.fi-8765&Delete=www.sonera.fi-8765&Replace=www.sonera.fi-8765+321_ibm.com&Get=*").unwrap();
        assert!(acl.permits(AclCommand::Replace, "321_ibm.com"));
        assert!(acl.permits(AclCommand::Get, "anyone"));
        assert!(!acl.permits(AclCommand::Exec, "www.sonera.fi-8765"));
        assert!(!acl.permits(AclCommand::Add, "321_ibm.com"));
    }

    #[test]
    fn fast_permits_agrees_with_the_parsed_acl() {
        let text = "Add=a+b&Get=*&Replace=c";
        let acl = Acl::parse(text).unwrap();
        for cmd in AclCommand::ALL {
            for id in ["a", "b", "c", "d"] {
                assert_eq!(permits(text, cmd, id), acl.permits(cmd, id), "{cmd:?} {id}");
            }
        }
    }

    #[test]
    fn acl_refuses_commands_without_ids_and_bad_ids() {
        assert!(Acl::parse("Get=").is_err());
        assert!(Acl::parse("Get").is_err());
        assert!(Acl::parse("Fetch=*").is_err());
        assert!(Acl::parse("Get=a b").is_err());
        assert!(Acl::parse("Get=a++b").is_err());
        assert!(Acl::parse("").unwrap().is_empty());
    }

    #[test]
    fn acl_formats_canonically() {
        let acl = Acl::parse("Get=*&Add=a+b").unwrap();
        assert_eq!(acl.to_string(), "Add=a+b&Get=*");
        assert_eq!(Acl::parse(&acl.to_string()).unwrap(), acl);
    }

    #[test]
    fn removing_a_server_drops_empty_entries() {
        let mut acl = Acl::parse("Add=a&Get=a+b").unwrap();
        acl.remove_server("a");
        assert_eq!(acl.to_string(), "Get=b");
    }
}
