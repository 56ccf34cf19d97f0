//! Jobs: the commands a server sends a device, read from a file in a simple line format.
//!
//! ```text
//! # comment
//! Add ./SyncAcct/Work/Server mail.example.com      leaf, Format chr
//! AddNode ./SyncAcct/Work                           interior node
//! Replace ./SyncAcct/Work/Interval 15
//! Get ./DevInfo/Man
//! Delete ./SyncAcct/Old
//! Exec ./Vendor/Reboot [argument]
//! ExecCorrelated ./FwUpdate/pkg/DownloadAndUpdate CORRELATOR [argument]
//! ```
//! A value runs to the end of the line (leading and trailing white space trimmed; `\n` stands
//! for a line break); `Add` and `Replace` send Format `chr`, Type `text/plain`. A job file may
//! instead hold a SyncML body fragment (it starts with `<`): its commands are sent as written,
//! except that the server gives every command its own CmdID (nested commands of an Atomic or
//! Sequence included) so that the device's Statuses can be told apart.

use omadm_syncml::{Command, Exec, Item, ItemCommand, Limits, Meta, SyncMl};

/// One job command, before the server gives it a CmdID. `uri` is the target node, `value`
/// the leaf value, `data` the Exec argument.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Job {
    /// Add a leaf.
    Add { uri: String, value: String },
    /// Add an interior node.
    AddNode { uri: String },
    /// Replace a leaf's value.
    Replace { uri: String, value: String },
    /// Read a node.
    Get { uri: String },
    /// Delete a node.
    Delete { uri: String },
    /// Execute a node, with a Correlator when the result comes later by generic alert.
    Exec {
        /// The node.
        uri: String,
        /// The argument (Item Data), may be empty.
        data: String,
        /// The Correlator.
        correlator: Option<String>,
    },
    /// A command given as SyncML.
    Raw(Command<'static>),
    /// One chunk of a large object (an Add or Replace whose value does not fit the device's
    /// MaxMsgSize); made by the server, not read from job files.
    Chunk {
        replace: bool,
        uri: String,
        part: String,
        /// The whole value's size in bytes, announced in the first chunk's Meta.
        size: Option<u64>,
        /// Whether more chunks follow (`MoreData`).
        more: bool,
    },
}

/// Why a job file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "job line {}: {}", self.line, self.what)
    }
}

impl std::error::Error for JobError {}

/// Parses a job file.
pub fn parse(text: &str) -> Result<Vec<Job>, JobError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('<') {
        let doc = format!(
            r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>0</SessionID><MsgID>0</MsgID><Target><LocURI>x</LocURI></Target><Source><LocURI>x</LocURI></Source></SyncHdr><SyncBody>{trimmed}</SyncBody></SyncML>"#
        );
        let msg: SyncMl =
            omadm_syncml::xml::decode(doc.as_bytes(), &Limits::default()).map_err(|e| {
                JobError {
                    line: 1,
                    what: e.to_string(),
                }
            })?;
        return Ok(msg
            .body
            .commands
            .into_iter()
            .map(|c| Job::Raw(c.into_owned()))
            .collect());
    }
    let mut jobs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |what: &str| JobError {
            line: i + 1,
            what: what.to_owned(),
        };
        let (verb, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let (uri, value) = rest
            .split_once(char::is_whitespace)
            .map(|(u, v)| (u, v.trim()))
            .unwrap_or((rest, ""));
        if !uri.starts_with('.') {
            return Err(err("a URI starting with `.` is needed"));
        }
        let (uri, value) = (uri.to_owned(), value.replace("\\n", "\n"));
        jobs.push(match verb {
            "Add" => Job::Add { uri, value },
            "AddNode" => Job::AddNode { uri },
            "Replace" => Job::Replace { uri, value },
            "Get" => Job::Get { uri },
            "Delete" => Job::Delete { uri },
            "Exec" => Job::Exec {
                uri,
                data: value,
                correlator: None,
            },
            "ExecCorrelated" => {
                let (correlator, data) = value
                    .split_once(char::is_whitespace)
                    .map(|(c, d)| (c, d.trim()))
                    .unwrap_or((value.as_str(), ""));
                if correlator.is_empty() {
                    return Err(err("ExecCorrelated needs a correlator"));
                }
                Job::Exec {
                    uri,
                    data: data.to_owned(),
                    correlator: Some(correlator.to_owned()),
                }
            }
            other => return Err(err(&format!("unknown command {other:?}"))),
        });
    }
    Ok(jobs)
}

impl Job {
    /// The SyncML command, with `cmd_id`.
    pub fn to_command(&self, cmd_id: String) -> Command<'static> {
        let item = |uri: &str| Item::target(uri.to_owned());
        match self {
            Job::Add { uri, value } => Command::Add(ItemCommand::new(
                cmd_id,
                vec![item(uri)
                    .with_meta(Meta::format_type("chr", "text/plain"))
                    .with_data(value.clone())],
            )),
            Job::AddNode { uri } => Command::Add(ItemCommand::new(
                cmd_id,
                vec![item(uri).with_meta(Meta::format("node"))],
            )),
            Job::Replace { uri, value } => Command::Replace(ItemCommand::new(
                cmd_id,
                vec![item(uri)
                    .with_meta(Meta::format_type("chr", "text/plain"))
                    .with_data(value.clone())],
            )),
            Job::Get { uri } => Command::Get(ItemCommand::new(cmd_id, vec![item(uri)])),
            Job::Delete { uri } => Command::Delete(ItemCommand::new(cmd_id, vec![item(uri)])),
            Job::Exec {
                uri,
                data,
                correlator,
            } => Command::Exec(Exec {
                cmd_id: cmd_id.into(),
                no_resp: false,
                cred: None,
                meta: None,
                correlator: correlator.clone().map(Into::into),
                items: vec![if data.is_empty() {
                    item(uri)
                } else {
                    item(uri).with_data(data.clone())
                }],
            }),
            Job::Chunk {
                replace,
                uri,
                part,
                size,
                more,
            } => {
                let mut meta = Meta::format_type("chr", "text/plain");
                if let Some(size) = size {
                    meta.more_mut().size = Some(*size);
                }
                let mut it = item(uri).with_meta(meta).with_data(part.clone());
                it.more_data = *more;
                let c = ItemCommand::new(cmd_id, vec![it]);
                if *replace {
                    Command::Replace(c)
                } else {
                    Command::Add(c)
                }
            }
            Job::Raw(c) => {
                let mut c = c.clone();
                match &mut c {
                    Command::Add(x)
                    | Command::Replace(x)
                    | Command::Get(x)
                    | Command::Delete(x)
                    | Command::Copy(x) => x.cmd_id = cmd_id.into(),
                    Command::Exec(x) => x.cmd_id = cmd_id.into(),
                    Command::Alert(x) => x.cmd_id = cmd_id.into(),
                    Command::Atomic(x) | Command::Sequence(x) => x.cmd_id = cmd_id.into(),
                    _ => {}
                }
                c
            }
        }
    }

    /// The command with the CmdIDs `next` hands out: the job's own and, for an Atomic or
    /// Sequence given as SyncML, one for each command inside it in document order, so that
    /// no CmdID repeats within a message. Returns the command and every CmdID assigned with
    /// what it names (the job's description, or `Atomic/Add ./x` for a nested command),
    /// for attributing the device's Statuses.
    pub fn to_command_numbered(&self, next: &mut u32) -> (Command<'static>, Vec<(String, String)>) {
        *next += 1;
        let id = next.to_string();
        let mut command = self.to_command(id.clone());
        let mut ids = vec![(id, self.describe())];
        if let Command::Atomic(c) | Command::Sequence(c) = &mut command {
            let parent = self.describe();
            renumber(&mut c.commands, next, &parent, &mut ids);
        }
        (command, ids)
    }

    /// The largest value the job sends (an Add or Replace value, an Exec argument, the Data
    /// of a command given as SyncML), in octets: what a device's MaxObjSize limits.
    pub fn value_len(&self) -> usize {
        fn items_max(items: &[omadm_syncml::Item]) -> usize {
            items
                .iter()
                .filter_map(|i| i.data.as_ref().map(|d| d.len()))
                .max()
                .unwrap_or(0)
        }
        fn command_max(c: &Command) -> usize {
            match c {
                Command::Atomic(x) | Command::Sequence(x) => {
                    x.commands.iter().map(command_max).max().unwrap_or(0)
                }
                other => items_max(other.items()),
            }
        }
        match self {
            Job::Add { value, .. } | Job::Replace { value, .. } => value.len(),
            Job::Exec { data, .. } => data.len(),
            Job::Chunk { size, part, .. } => size.map_or(part.len(), |s| s as usize),
            Job::Raw(c) => command_max(c),
            Job::AddNode { .. } | Job::Get { .. } | Job::Delete { .. } => 0,
        }
    }

    /// A short description for records and logs.
    pub fn describe(&self) -> String {
        match self {
            Job::Add { uri, .. } => format!("Add {uri}"),
            Job::AddNode { uri } => format!("AddNode {uri}"),
            Job::Replace { uri, .. } => format!("Replace {uri}"),
            Job::Get { uri } => format!("Get {uri}"),
            Job::Delete { uri } => format!("Delete {uri}"),
            Job::Exec { uri, .. } => format!("Exec {uri}"),
            Job::Raw(c) => c.name().to_owned(),
            Job::Chunk { replace, uri, .. } => {
                format!("{} {uri}", if *replace { "Replace" } else { "Add" })
            }
        }
    }

    /// Splits an Add or Replace whose value is longer than `max_part` bytes into large-object
    /// chunks of at most `max_part` bytes (cut at character boundaries); other jobs, and
    /// values that fit, come back as they are.
    pub fn split(self, max_part: usize) -> Vec<Job> {
        let max_part = max_part.max(4);
        let (replace, uri, value) = match self {
            Job::Add { uri, value } if value.len() > max_part => (false, uri, value),
            Job::Replace { uri, value } if value.len() > max_part => (true, uri, value),
            other => return vec![other],
        };
        let mut parts = Vec::new();
        let mut rest = value.as_str();
        while !rest.is_empty() {
            let mut cut = rest.len().min(max_part);
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            parts.push(&rest[..cut]);
            rest = &rest[cut..];
        }
        let n = parts.len();
        parts
            .into_iter()
            .enumerate()
            .map(|(i, part)| Job::Chunk {
                replace,
                uri: uri.clone(),
                part: part.to_owned(),
                size: (i == 0).then_some(value.len() as u64),
                more: i + 1 < n,
            })
            .collect()
    }
}

/// Gives every command of `commands` (recursively) the next CmdID.
fn renumber(
    commands: &mut [Command<'_>],
    next: &mut u32,
    parent: &str,
    ids: &mut Vec<(String, String)>,
) {
    for c in commands {
        *next += 1;
        let id = next.to_string();
        let what = match c
            .items()
            .first()
            .and_then(|i| i.target_uri().or(i.source_uri()))
        {
            Some(uri) => format!("{parent}/{} {uri}", c.name()),
            None => format!("{parent}/{}", c.name()),
        };
        match c {
            Command::Add(x)
            | Command::Replace(x)
            | Command::Get(x)
            | Command::Delete(x)
            | Command::Copy(x) => x.cmd_id = id.clone().into(),
            Command::Exec(x) => x.cmd_id = id.clone().into(),
            Command::Alert(x) => x.cmd_id = id.clone().into(),
            Command::Atomic(x) | Command::Sequence(x) => {
                x.cmd_id = id.clone().into();
                ids.push((id, what.clone()));
                renumber(&mut x.commands, next, &what, ids);
                continue;
            }
            _ => {}
        }
        ids.push((id, what));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_format_parses() {
        let jobs = parse("# x\nAddNode ./A\nAdd ./A/b hello world\nGet ./A/b\nExec ./X\n").unwrap();
        assert_eq!(jobs.len(), 4);
        assert_eq!(
            jobs[1],
            Job::Add {
                uri: "./A/b".into(),
                value: "hello world".into()
            }
        );
        assert!(parse("Fetch ./A").is_err());
        assert_eq!(parse("Add A").unwrap_err().line, 1);
    }

    #[test]
    fn a_long_value_splits_into_chunks_at_character_boundaries() {
        let value = "ab€".repeat(10); // 50 bytes
        let chunks = Job::Add {
            uri: "./A".into(),
            value: value.clone(),
        }
        .split(8);
        let mut joined = String::new();
        for (i, c) in chunks.iter().enumerate() {
            let Job::Chunk {
                part, size, more, ..
            } = c
            else {
                panic!("{c:?}")
            };
            assert!(part.len() <= 8);
            assert_eq!(size.is_some(), i == 0);
            assert_eq!(*more, i + 1 < chunks.len());
            joined.push_str(part);
        }
        assert_eq!(joined, value);
        let short = Job::Replace {
            uri: "./A".into(),
            value: "x".into(),
        };
        assert_eq!(short.clone().split(8), vec![short]);
    }

    #[test]
    fn nested_commands_are_numbered_after_their_container() {
        // Issue 13.7: the file's CmdIDs (1, 2) would repeat the message's own.
        let jobs = parse(
            "<Atomic><CmdID>1</CmdID><Add><CmdID>1</CmdID><Item><Target><LocURI>./a</LocURI></Target><Data>1</Data></Item></Add><Replace><CmdID>2</CmdID><Item><Target><LocURI>./b</LocURI></Target><Data>2</Data></Item></Replace></Atomic>",
        )
        .unwrap();
        let mut next = 4;
        let (command, ids) = jobs[0].to_command_numbered(&mut next);
        let Command::Atomic(a) = command else {
            panic!()
        };
        assert_eq!(a.cmd_id, "5");
        assert_eq!(
            a.commands
                .iter()
                .map(|c| c.cmd_id().unwrap())
                .collect::<Vec<_>>(),
            ["6", "7"]
        );
        assert_eq!(
            ids,
            [
                ("5".to_owned(), "Atomic".to_owned()),
                ("6".to_owned(), "Atomic/Add ./a".to_owned()),
                ("7".to_owned(), "Atomic/Replace ./b".to_owned()),
            ]
        );
        assert_eq!(next, 7);
    }

    #[test]
    fn a_syncml_fragment_is_taken_as_written() {
        let jobs =
            parse("<Get><CmdID>9</CmdID><Item><Target><LocURI>./A</LocURI></Target></Item></Get>")
                .unwrap();
        let Command::Get(g) = jobs[0].to_command("3".into()) else {
            panic!()
        };
        assert_eq!(g.cmd_id, "3");
    }
}
