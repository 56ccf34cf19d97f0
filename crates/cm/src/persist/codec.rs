//! Byte layout of journal records and snapshots. Decoding is total: any input gives changes or
//! a description of what is wrong, with allocations bounded by the input's length.

use openssl::sha::sha256;

use crate::node::{Node, Props};
use crate::store::Change;

const JOURNAL_MAGIC: &[u8; 8] = b"OMDMJRN1";
const SNAPSHOT_MAGIC: &[u8; 8] = b"OMDMSNP1";
const PUT: u8 = 1;
const REMOVE: u8 = 2;

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.input.len())
            .ok_or("truncated")?;
        let out = &self.input[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_be_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn string(&mut self) -> Result<String, String> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| "string is not UTF-8".to_owned())
    }
    fn done(&self) -> bool {
        self.pos == self.input.len()
    }
}

fn write_node(w: &mut Writer, node: &Node) {
    match &node.value {
        Some(v) => {
            w.u8(1);
            w.bytes(v);
        }
        None => w.u8(0),
    }
    w.u32(node.children.len() as u32);
    for c in &node.children {
        w.str(c);
    }
    let p = &node.props;
    for s in [&p.acl, &p.format, &p.type_, &p.title, &p.tstamp] {
        w.str(s);
    }
    w.u16(p.verno);
    match p.access_role {
        Some(r) => {
            w.u8(1);
            w.u32(r);
        }
        None => w.u8(0),
    }
}

fn read_node(r: &mut Reader<'_>) -> Result<Node, String> {
    let value = match r.u8()? {
        0 => None,
        1 => Some(r.bytes()?.to_vec()),
        t => return Err(format!("bad node kind {t}")),
    };
    let count = r.u32()? as usize;
    let mut children = std::collections::BTreeSet::new();
    for _ in 0..count {
        children.insert(r.string()?);
    }
    let props = Props {
        acl: r.string()?,
        format: r.string()?,
        type_: r.string()?,
        title: r.string()?,
        tstamp: r.string()?,
        verno: r.u16()?,
        access_role: match r.u8()? {
            0 => None,
            1 => Some(r.u32()?),
            t => return Err(format!("bad role flag {t}")),
        },
    };
    Ok(Node {
        value,
        children,
        props,
    })
}

/// Encodes a list of changes (a journal record's payload).
pub fn encode_changes(changes: &[Change]) -> Vec<u8> {
    let mut w = Writer(Vec::new());
    for change in changes {
        match change {
            Change::Put(path, node) => {
                w.u8(PUT);
                w.str(path);
                write_node(&mut w, node);
            }
            Change::Remove(path) => {
                w.u8(REMOVE);
                w.str(path);
            }
        }
    }
    w.0
}

/// Decodes a record's payload.
pub fn decode_changes(payload: &[u8]) -> Result<Vec<Change>, String> {
    let mut r = Reader {
        input: payload,
        pos: 0,
    };
    let mut out = Vec::new();
    while !r.done() {
        match r.u8()? {
            PUT => {
                let path = r.string()?;
                out.push(Change::Put(path, read_node(&mut r)?));
            }
            REMOVE => out.push(Change::Remove(r.string()?)),
            t => return Err(format!("bad change tag {t}")),
        }
    }
    Ok(out)
}

/// Frames a payload as a journal record: length, SHA-256, payload.
pub fn encode_record(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(36 + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&sha256(payload));
    out.extend_from_slice(payload);
    out
}

/// The header that starts a journal of `generation`.
pub fn encode_journal_header(generation: u64) -> Vec<u8> {
    let mut out = JOURNAL_MAGIC.to_vec();
    out.extend_from_slice(&generation.to_be_bytes());
    out
}

/// A journal as decoded.
#[derive(Debug, Default)]
pub struct JournalContents {
    /// The generation in the header (`None` for an empty journal).
    pub generation: Option<u64>,
    /// The payloads of the intact records, in order.
    pub records: Vec<Vec<u8>>,
    /// Length of the intact prefix: a torn tail starts here.
    pub valid_len: u64,
}

/// Decodes a journal. A damaged record at the very end is a torn write and is left out
/// (`valid_len` tells where it starts); damage followed by intact records is an error.
pub fn decode_journal(bytes: &[u8]) -> Result<JournalContents, String> {
    if bytes.is_empty() {
        return Ok(JournalContents::default());
    }
    if bytes.len() < 16 {
        // A header cut short by a crash while the journal was being started.
        return Ok(JournalContents::default());
    }
    if &bytes[..8] != JOURNAL_MAGIC {
        return Err("journal has a bad header".into());
    }
    let generation = u64::from_be_bytes(bytes[8..16].try_into().expect("8 bytes"));
    let mut pos = 16;
    let mut records = Vec::new();
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let intact = rest.len() >= 36 && {
            let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
            rest.len() - 36 >= len && sha256(&rest[36..36 + len]) == rest[4..36]
        };
        if !intact {
            if later_record_intact(bytes, pos) {
                return Err(format!("journal record at byte {pos} is damaged"));
            }
            break;
        }
        let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        records.push(rest[36..36 + len].to_vec());
        pos += 36 + len;
    }
    Ok(JournalContents {
        generation: Some(generation),
        records,
        valid_len: pos as u64,
    })
}

/// Whether an intact record starts anywhere after `from` (which would make damage at
/// `from` corruption rather than a torn tail). Bounded: checks each offset once.
fn later_record_intact(bytes: &[u8], from: usize) -> bool {
    (from + 1..bytes.len().saturating_sub(35)).any(|p| {
        let rest = &bytes[p..];
        let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        len > 0 && rest.len() - 36 >= len && sha256(&rest[36..36 + len]) == rest[4..36]
    })
}

/// Encodes a snapshot of `nodes` (any order) with its generation.
pub fn encode_snapshot<'a>(
    generation: u64,
    nodes: impl Iterator<Item = (&'a String, &'a Node)>,
) -> Vec<u8> {
    let mut nodes: Vec<_> = nodes.collect();
    // Parents before children, so that loading can link each node as it comes: in the
    // order of the paths' text, where a path comes before every path it is a prefix of.
    // (Earlier versions wrote them in order of depth, also parents first: both load.)
    nodes.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let changes: Vec<Change> = nodes
        .into_iter()
        .map(|(p, n)| Change::Put(p.clone(), n.clone()))
        .collect();
    let payload = encode_changes(&changes);
    let mut out = SNAPSHOT_MAGIC.to_vec();
    out.extend_from_slice(&generation.to_be_bytes());
    out.extend_from_slice(&sha256(&payload));
    out.extend_from_slice(&payload);
    out
}

/// Decodes a snapshot into its generation and nodes; any damage is an error.
pub fn decode_snapshot(bytes: &[u8]) -> Result<(u64, Vec<Change>), String> {
    if bytes.len() < 48 || &bytes[..8] != SNAPSHOT_MAGIC {
        return Err("snapshot has a bad header".into());
    }
    let generation = u64::from_be_bytes(bytes[8..16].try_into().expect("8 bytes"));
    let payload = &bytes[48..];
    if sha256(payload) != bytes[16..48] {
        return Err("snapshot checksum mismatch".into());
    }
    Ok((generation, decode_changes(payload)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_changes() -> Vec<Change> {
        let mut n = Node::leaf(b"v".to_vec(), "chr", "text/plain");
        n.props.access_role = Some(8);
        n.props.verno = 3;
        vec![
            Change::Put("./a".into(), Node::interior("urn:x")),
            Change::Put("./a/b".into(), n),
            Change::Remove("./c".into()),
        ]
    }

    #[test]
    fn changes_round_trip() {
        let changes = sample_changes();
        assert_eq!(decode_changes(&encode_changes(&changes)).unwrap(), changes);
    }

    #[test]
    fn journal_torn_tail_is_dropped_but_inner_damage_is_corruption() {
        let mut j = encode_journal_header(7);
        let r1 = encode_record(&encode_changes(&sample_changes()));
        let r2 = encode_record(&encode_changes(&[Change::Remove("./x".into())]));
        j.extend_from_slice(&r1);
        let after_first = j.len();
        j.extend_from_slice(&r2);
        let full = decode_journal(&j).unwrap();
        assert_eq!((full.generation, full.records.len()), (Some(7), 2));
        for cut in after_first..j.len() {
            let torn = decode_journal(&j[..cut]).unwrap();
            assert_eq!(torn.records.len(), 1, "cut at {cut}");
            assert_eq!(torn.valid_len, after_first as u64);
        }
        let mut damaged = j.clone();
        damaged[20 + 36] ^= 0xFF; // inside the first record's payload
        assert!(decode_journal(&damaged).is_err());
    }

    #[test]
    fn snapshot_checksum_is_verified() {
        let nodes = [
            ("./a".to_owned(), Node::interior("")),
            (".".to_owned(), Node::interior("")),
        ];
        let snap = encode_snapshot(3, nodes.iter().map(|(p, n)| (p, n)));
        let (generation, changes) = decode_snapshot(&snap).unwrap();
        assert_eq!(generation, 3);
        assert!(matches!(&changes[0], Change::Put(p, _) if p == "."));
        let mut bad = snap.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(decode_snapshot(&bad).is_err());
    }

    #[test]
    fn a_snapshot_puts_every_parent_before_its_children() {
        // Names that sort before `/` (`-`, `!`, `.`) and after it, at several depths.
        let paths = [
            "./a/b/c", "./a-b", "./a", "./a!", "./a/b", "./a.x/y", "./a.x", "./b", ".", "./a/b-c",
        ];
        let nodes: Vec<(String, Node)> = paths
            .iter()
            .map(|p| (p.to_string(), Node::interior("")))
            .collect();
        let snap = encode_snapshot(1, nodes.iter().map(|(p, n)| (p, n)));
        let (_, changes) = decode_snapshot(&snap).unwrap();
        let order: Vec<&str> = changes
            .iter()
            .map(|c| match c {
                Change::Put(p, _) => p.as_str(),
                Change::Remove(p) => panic!("a snapshot removes nothing: {p}"),
            })
            .collect();
        assert_eq!(order.len(), paths.len());
        for (i, path) in order.iter().enumerate() {
            if let Some(parent) = crate::uri::parent_str(path) {
                let at = order.iter().position(|p| *p == parent);
                assert!(
                    at.is_some_and(|at| at < i),
                    "{parent} after {path}: {order:?}"
                );
            }
        }
    }

    #[test]
    fn decoders_are_total_on_garbage() {
        for len in 0..64 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let _ = decode_changes(&junk);
            let _ = decode_journal(&junk);
            let _ = decode_snapshot(&junk);
        }
    }
}
