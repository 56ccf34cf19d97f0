//! WDP datagram reassembly (WAP-259-WDP; SMS concatenation, CDMA WDP segments).
//!
//! Segments are keyed by (bearer, sender, reference, total); they may arrive in any order and
//! more than once (duplicates are ignored). A datagram whose segments do not all arrive within
//! the configured time expires. Pending datagrams are capped per sender and in total, in count
//! and in bytes; when a cap would be exceeded the oldest incomplete datagram is evicted first.
//! No clock is read: callers pass `now` (milliseconds on any monotonic scale).

use std::collections::BTreeMap;

/// Which network the segment came over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bearer {
    /// GSM SMS.
    Gsm,
    /// CDMA SMS.
    Cdma,
    /// UDP/IP.
    Udp,
}

/// Reassembly limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Milliseconds an incomplete datagram is kept.
    pub timeout_ms: u64,
    /// Incomplete datagrams per sender.
    pub max_pending_per_sender: usize,
    /// Incomplete datagrams in all.
    pub max_pending: usize,
    /// Buffered octets per sender.
    pub max_bytes_per_sender: usize,
    /// Buffered octets in all.
    pub max_bytes: usize,
}

impl Default for ReassemblyLimits {
    /// 5 minutes, 4 datagrams and 64 KiB per sender, 64 datagrams and 1 MiB in all.
    fn default() -> Self {
        ReassemblyLimits {
            timeout_ms: 5 * 60 * 1000,
            max_pending_per_sender: 4,
            max_pending: 64,
            max_bytes_per_sender: 64 * 1024,
            max_bytes: 1024 * 1024,
        }
    }
}

/// One segment of a datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The bearer.
    pub bearer: Bearer,
    /// The sender's address.
    pub sender: String,
    /// The concatenation reference.
    pub reference: u16,
    /// Number of segments.
    pub total: u8,
    /// This segment's number (from 1).
    pub seq: u8,
    /// Destination and source ports, if this segment carried them.
    pub ports: Option<(u16, u16)>,
    /// The payload.
    pub payload: Vec<u8>,
}

/// A complete datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// The bearer.
    pub bearer: Bearer,
    /// The sender's address.
    pub sender: String,
    /// Destination port.
    pub destination_port: u16,
    /// Source port.
    pub source_port: u16,
    /// The payload (a WSP PDU for port 2948).
    pub payload: Vec<u8>,
}

type Key = (Bearer, String, u16, u8);

struct Pending {
    first_seen: u64,
    parts: BTreeMap<u8, Vec<u8>>,
    ports: Option<(u16, u16)>,
    bytes: usize,
}

/// What happened to the datagrams the reassembler dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Incomplete datagrams that expired.
    pub expired: u64,
    /// Incomplete datagrams evicted to stay within the caps.
    pub evicted: u64,
    /// Segments refused as malformed (bad numbering, too large alone).
    pub rejected: u64,
    /// Duplicate segments ignored.
    pub duplicates: u64,
}

/// The reassembler.
pub struct Reassembler {
    limits: ReassemblyLimits,
    pending: BTreeMap<Key, Pending>,
    bytes: usize,
    stats: ReassemblyStats,
}

impl Reassembler {
    /// A reassembler with `limits`.
    pub fn new(limits: ReassemblyLimits) -> Self {
        Reassembler {
            limits,
            pending: BTreeMap::new(),
            bytes: 0,
            stats: ReassemblyStats::default(),
        }
    }

    /// Counters of what was dropped.
    pub fn stats(&self) -> ReassemblyStats {
        self.stats
    }

    /// Incomplete datagrams held.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Octets held.
    pub fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    /// Drops incomplete datagrams older than the timeout.
    pub fn expire(&mut self, now: u64) {
        let timeout = self.limits.timeout_ms;
        let old: Vec<Key> = self
            .pending
            .iter()
            .filter(|(_, p)| now.saturating_sub(p.first_seen) >= timeout)
            .map(|(k, _)| k.clone())
            .collect();
        for key in old {
            self.remove(&key);
            self.stats.expired += 1;
        }
    }

    fn remove(&mut self, key: &Key) -> Option<Pending> {
        let p = self.pending.remove(key)?;
        self.bytes -= p.bytes;
        Some(p)
    }

    fn evict_oldest(&mut self, sender: Option<&str>) -> bool {
        let victim = self
            .pending
            .iter()
            .filter(|(k, _)| sender.is_none_or(|s| k.1 == s))
            .min_by_key(|(_, p)| p.first_seen)
            .map(|(k, _)| k.clone());
        match victim {
            Some(k) => {
                self.remove(&k);
                self.stats.evicted += 1;
                true
            }
            None => false,
        }
    }

    /// Takes a segment; returns the datagram when it completes one.
    pub fn push(&mut self, segment: Segment, now: u64) -> Option<Datagram> {
        self.expire(now);
        if segment.total == 0
            || segment.seq == 0
            || segment.seq > segment.total
            || segment.payload.len() > self.limits.max_bytes_per_sender
        {
            self.stats.rejected += 1;
            return None;
        }
        if segment.total == 1 {
            let (dst, src) = segment.ports?;
            return Some(Datagram {
                bearer: segment.bearer,
                sender: segment.sender,
                destination_port: dst,
                source_port: src,
                payload: segment.payload,
            });
        }
        let key: Key = (
            segment.bearer,
            segment.sender.clone(),
            segment.reference,
            segment.total,
        );
        if !self.pending.contains_key(&key) {
            // Room for one more datagram, for this sender and in all.
            while self
                .pending
                .keys()
                .filter(|k| k.1 == segment.sender)
                .count()
                >= self.limits.max_pending_per_sender
            {
                self.evict_oldest(Some(&segment.sender));
            }
            while self.pending.len() >= self.limits.max_pending {
                self.evict_oldest(None);
            }
            self.pending.insert(
                key.clone(),
                Pending {
                    first_seen: now,
                    parts: BTreeMap::new(),
                    ports: None,
                    bytes: 0,
                },
            );
        }
        let len = segment.payload.len();
        {
            let p = self.pending.get(&key).expect("inserted above");
            if p.parts.contains_key(&segment.seq) {
                self.stats.duplicates += 1;
                return None;
            }
        }
        // Byte caps: evict other datagrams (oldest first) until this segment fits.
        loop {
            let sender_bytes: usize = self
                .pending
                .iter()
                .filter(|(k, _)| k.1 == segment.sender)
                .map(|(_, p)| p.bytes)
                .sum();
            if sender_bytes + len <= self.limits.max_bytes_per_sender
                && self.bytes + len <= self.limits.max_bytes
            {
                break;
            }
            let sender_over = sender_bytes + len > self.limits.max_bytes_per_sender;
            let victim = self
                .pending
                .iter()
                // Over the sender's cap only the sender's own datagrams can make room.
                .filter(|(k, _)| **k != key && (!sender_over || k.1 == segment.sender))
                .min_by_key(|(_, p)| p.first_seen)
                .map(|(k, _)| k.clone());
            match victim {
                Some(v) => {
                    self.remove(&v);
                    self.stats.evicted += 1;
                }
                None => {
                    // Only this datagram is left and it is too large: drop it.
                    self.remove(&key);
                    self.stats.evicted += 1;
                    return None;
                }
            }
        }
        let p = self.pending.get_mut(&key).expect("still pending");
        if segment.ports.is_some() && p.ports.is_none() {
            p.ports = segment.ports;
        }
        p.parts.insert(segment.seq, segment.payload);
        p.bytes += len;
        self.bytes += len;
        if p.parts.len() < usize::from(segment.total) {
            return None;
        }
        let p = self.remove(&key).expect("complete");
        let (dst, src) = match p.ports {
            Some(ports) => ports,
            None => {
                self.stats.rejected += 1;
                return None;
            }
        };
        let payload = p.parts.into_values().flatten().collect();
        Some(Datagram {
            bearer: segment.bearer,
            sender: segment.sender,
            destination_port: dst,
            source_port: src,
            payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(sender: &str, reference: u16, total: u8, seq: u8, payload: &[u8]) -> Segment {
        Segment {
            bearer: Bearer::Gsm,
            sender: sender.into(),
            reference,
            total,
            seq,
            ports: if seq == 1 { Some((2948, 9200)) } else { None },
            payload: payload.to_vec(),
        }
    }

    #[test]
    fn out_of_order_and_duplicate_segments_reassemble_once() {
        let mut r = Reassembler::new(ReassemblyLimits::default());
        assert!(r.push(seg("a", 1, 3, 3, b"ghi"), 0).is_none());
        assert!(r.push(seg("a", 1, 3, 1, b"abc"), 1).is_none());
        assert!(r.push(seg("a", 1, 3, 3, b"ghi"), 2).is_none());
        let d = r.push(seg("a", 1, 3, 2, b"def"), 3).unwrap();
        assert_eq!(d.payload, b"abcdefghi");
        assert_eq!((d.destination_port, d.source_port), (2948, 9200));
        assert_eq!(r.stats().duplicates, 1);
        assert_eq!(r.pending(), 0);
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn missing_segments_expire() {
        let limits = ReassemblyLimits {
            timeout_ms: 1000,
            ..ReassemblyLimits::default()
        };
        let mut r = Reassembler::new(limits);
        r.push(seg("a", 1, 2, 1, b"x"), 0);
        r.expire(999);
        assert_eq!(r.pending(), 1);
        r.expire(1000);
        assert_eq!(r.pending(), 0);
        assert_eq!(r.stats().expired, 1);
        // The late second half alone completes nothing.
        assert!(r.push(seg("a", 1, 2, 2, b"y"), 1001).is_none());
    }

    #[test]
    fn caps_evict_the_oldest_incomplete_datagram_first() {
        let limits = ReassemblyLimits {
            max_pending_per_sender: 2,
            max_pending: 3,
            ..ReassemblyLimits::default()
        };
        let mut r = Reassembler::new(limits);
        r.push(seg("a", 1, 2, 1, b"1"), 0);
        r.push(seg("a", 2, 2, 1, b"2"), 1);
        r.push(seg("a", 3, 2, 1, b"3"), 2); // a has two pending: evicts a/1
        assert_eq!(r.stats().evicted, 1);
        assert_eq!(r.pending(), 2);
        r.push(seg("b", 1, 2, 1, b"4"), 3);
        r.push(seg("c", 1, 2, 1, b"5"), 4); // three pending in all: evicts the oldest, a/2
        assert_eq!(r.stats().evicted, 2);
        assert_eq!(r.pending(), 3);
        assert!(r.push(seg("a", 3, 2, 2, b"!"), 5).is_some(), "a/3 survived");
        assert!(
            r.push(seg("a", 2, 2, 2, b"?"), 6).is_none(),
            "a/2 was evicted"
        );
    }

    #[test]
    fn byte_caps_hold() {
        let limits = ReassemblyLimits {
            max_bytes_per_sender: 10,
            max_bytes: 15,
            ..ReassemblyLimits::default()
        };
        let mut r = Reassembler::new(limits);
        r.push(seg("a", 1, 3, 1, &[0; 6]), 0);
        r.push(seg("a", 2, 3, 1, &[0; 6]), 1); // a over 10: evicts a/1
        assert!(r.buffered_bytes() <= 10);
        r.push(seg("b", 1, 3, 1, &[0; 8]), 2);
        assert!(r.buffered_bytes() <= 15);
        assert!(
            r.push(seg("a", 9, 3, 1, &[0; 11]), 3).is_none(),
            "a segment larger than the cap alone"
        );
        assert_eq!(r.stats().rejected, 1);
    }

    #[test]
    fn bad_numbering_is_rejected() {
        let mut r = Reassembler::new(ReassemblyLimits::default());
        assert!(r.push(seg("a", 1, 2, 0, b"x"), 0).is_none());
        assert!(r.push(seg("a", 1, 2, 3, b"x"), 0).is_none());
        assert!(r.push(seg("a", 1, 0, 1, b"x"), 0).is_none());
        assert_eq!(r.stats().rejected, 3);
    }
}
