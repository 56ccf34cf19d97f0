//! What devices report, as the reference server records it, and how a record is written as a
//! line of `records.tsv`.
//!
//! The columns, tab-separated (`omadm server --help` and the README list them too):
//! `device`, `session`, `kind`, `what`, `code`, `data`. Kinds:
//! - `Status`: the device's status for a job (`what` the job, `code` its status);
//! - `Results`: a value the device returned for a Get (`what` the node, `data` the value; a
//!   value the device sent in chunks is one record, reassembled);
//! - `Alert`: a generic alert (1226) or a client event (1224) (`what` its Meta Type, with
//!   `correlator=` and `source=` when given, `code` the alert code, `data` its data);
//! - `DevInfo`: a DevInfo value of package 1 (`what` the node, `data` the value);
//! - `Malformed`: a Status whose code is no DM status (empty, 0, not a number: `data` holds
//!   what the device sent);
//! - `ClientCert`: the subject of the TLS client certificate the device presented (servers
//!   started with a client CA), once per session when the device authenticates;
//! - `Failed`: something the server gave up: a job not sent (its value over the device's
//!   MaxObjSize), a large object the device ended with a code other than 213, a session
//!   ended because the device refused the server's credentials or asked for a scheme the
//!   server does not support.
//!
//! Every field is written with [`omadm_syncml::printable()`]'s escapes (a tab is `\x09`, a
//! line feed `\x0a`, a NUL `\x00`, a backslash `\\`), so that one record is one line and
//! nothing a device sends can forge a column or a record. Only messages from authenticated
//! devices are recorded.

use std::collections::VecDeque;

/// One thing a device reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The device's DevId.
    pub device: String,
    /// The SessionID.
    pub session: String,
    /// `Status`, `Results`, `Alert`, `DevInfo`, `Malformed` or `Failed`.
    pub kind: String,
    /// What it is about: the job, the node, the alert type.
    pub what: String,
    /// The status code (Status) or alert code.
    pub code: Option<u16>,
    /// The value (Results, alert data, DevInfo value, a malformed status's text).
    pub data: Option<String>,
}

impl Record {
    /// The record as one line of `records.tsv` (without the line feed).
    pub fn tsv_line(&self) -> String {
        let field = |s: &str| omadm_syncml::printable(s).limit(usize::MAX).to_string();
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            field(&self.device),
            field(&self.session),
            field(&self.kind),
            field(&self.what),
            self.code.map(|c| c.to_string()).unwrap_or_default(),
            self.data.as_deref().map(field).unwrap_or_default()
        )
    }
}

/// The most recent records, at most `capacity` of them (older ones are only on disk).
#[derive(Debug)]
pub(crate) struct RecordWindow {
    records: VecDeque<Record>,
    capacity: usize,
}

impl RecordWindow {
    pub(crate) fn new(capacity: usize) -> Self {
        RecordWindow {
            records: VecDeque::new(),
            capacity,
        }
    }

    pub(crate) fn push(&mut self, record: Record) {
        if self.records.len() == self.capacity {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    pub(crate) fn to_vec(&self) -> Vec<Record> {
        self.records.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_line_whatever_the_device_sent() {
        let r = Record {
            device: "IMEI:1".into(),
            session: "1".into(),
            kind: "Results".into(),
            what: "./a\tb".into(),
            code: None,
            data: Some("x\0y\nIMEI:2\t1\tAlert\x1b[31m".into()),
        };
        let line = r.tsv_line();
        assert_eq!(line.split('\t').count(), 6, "{line}");
        assert!(!line.chars().any(|c| c.is_control() && c != '\t'), "{line}");
        assert!(line.ends_with("x\\x00y\\x0aIMEI:2\\x091\\x09Alert\\x1b[31m"));
    }

    #[test]
    fn the_window_keeps_the_newest() {
        let mut w = RecordWindow::new(2);
        for i in 0..5 {
            w.push(Record {
                device: i.to_string(),
                session: String::new(),
                kind: String::new(),
                what: String::new(),
                code: None,
                data: None,
            });
        }
        let v = w.to_vec();
        assert_eq!((v[0].device.as_str(), v[1].device.as_str()), ("3", "4"));
    }
}
