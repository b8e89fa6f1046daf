//! The records a dispatcher's connection table is synchronised with: what the active
//! Executor publishes on the `sync` multicast group, what `nd-syncd` relays to the standby,
//! and what the standby's Executor installs. Each record is 24 bytes with a fixed layout, so
//! a batch is one attribute of concatenated records, as IPVS's sync messages are.
//!
//! ```text
//! offset size field
//!      0    1 kind         (RecordKind)
//!      1    1 state        (a ConnState value; 0 for affinity records)
//!      2    1 prefix       (affinity records: the client netmask's length; else 0)
//!      3    1 reserved     (0)
//!      4    4 client       (network order: the client's address, or its network)
//!      8    4 vip          (network order)
//!     12    4 server       (network order)
//!     16    2 client_port  (network order; 0 for affinity records)
//!     18    2 port         (network order)
//!     20    4 expires_ms   (network order: how long the entry has left on the sender)
//! ```
//!
//! Addresses are carried as the Executor holds them (network byte order), ports in network
//! byte order on the wire. A record that does not decode is refused whole.

use crate::attr::ConnState;

/// Size of one record.
pub const RECORD_LEN: usize = 24;

/// What a record says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordKind {
    /// A connection is open, or moved to `state`: enter or update it.
    Conn = 1,
    /// A connection ended: remove it.
    ConnGone = 2,
    /// A client (network) is bound to a server: enter or update the affinity record.
    Affinity = 3,
    /// An affinity record expired: remove it.
    AffinityGone = 4,
}

impl RecordKind {
    /// Maps a wire value to a kind.
    pub fn from_u8(value: u8) -> Option<RecordKind> {
        match value {
            1 => Some(RecordKind::Conn),
            2 => Some(RecordKind::ConnGone),
            3 => Some(RecordKind::Affinity),
            4 => Some(RecordKind::AffinityGone),
            _ => None,
        }
    }
}

/// One synchronised fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncRecord {
    /// What the record says.
    pub kind: RecordKind,
    /// The connection's state; `None` for affinity records.
    pub state: Option<ConnState>,
    /// Affinity records: the client netmask's length, 0 to 32.
    pub prefix: u8,
    /// Client address (or network), network order.
    pub client: u32,
    /// Cluster address, network order.
    pub vip: u32,
    /// Server address, network order.
    pub server: u32,
    /// Client port, host order.
    pub client_port: u16,
    /// Cluster port, host order.
    pub port: u16,
    /// How long the entry has left, in milliseconds.
    pub expires_ms: u32,
}

/// Why bytes are not a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The batch is not a whole number of records.
    Length,
    /// Unknown kind byte.
    Kind(u8),
    /// A connection record with an unknown state, or an affinity record with one.
    State(u8),
    /// A netmask longer than 32 bits.
    Prefix(u8),
    /// A reserved byte is not zero.
    Reserved,
}

impl SyncRecord {
    /// The record's wire form.
    pub fn encode(&self) -> [u8; RECORD_LEN] {
        let mut b = [0u8; RECORD_LEN];
        b[0] = self.kind as u8;
        b[1] = self.state.map_or(0, |s| s as u8);
        b[2] = self.prefix;
        b[4..8].copy_from_slice(&self.client.to_ne_bytes());
        b[8..12].copy_from_slice(&self.vip.to_ne_bytes());
        b[12..16].copy_from_slice(&self.server.to_ne_bytes());
        b[16..18].copy_from_slice(&self.client_port.to_be_bytes());
        b[18..20].copy_from_slice(&self.port.to_be_bytes());
        b[20..24].copy_from_slice(&self.expires_ms.to_be_bytes());
        b
    }

    /// Reads one record.
    pub fn decode(b: &[u8; RECORD_LEN]) -> Result<SyncRecord, RecordError> {
        let kind = RecordKind::from_u8(b[0]).ok_or(RecordError::Kind(b[0]))?;
        let is_conn = matches!(kind, RecordKind::Conn | RecordKind::ConnGone);
        let state = match (is_conn, b[1]) {
            (true, value) => Some(ConnState::from_u8(value).ok_or(RecordError::State(value))?),
            (false, 0) => None,
            (false, value) => return Err(RecordError::State(value)),
        };
        if b[2] > 32 || (is_conn && b[2] != 0) {
            return Err(RecordError::Prefix(b[2]));
        }
        if b[3] != 0 {
            return Err(RecordError::Reserved);
        }
        let word = |at: usize| [b[at], b[at + 1], b[at + 2], b[at + 3]];
        Ok(SyncRecord {
            kind,
            state,
            prefix: b[2],
            client: u32::from_ne_bytes(word(4)),
            vip: u32::from_ne_bytes(word(8)),
            server: u32::from_ne_bytes(word(12)),
            client_port: u16::from_be_bytes([b[16], b[17]]),
            port: u16::from_be_bytes([b[18], b[19]]),
            expires_ms: u32::from_be_bytes(word(20)),
        })
    }
}

/// The records of a batch, each decoded or refused.
pub fn records(
    batch: &[u8],
) -> Result<impl Iterator<Item = Result<SyncRecord, RecordError>> + '_, RecordError> {
    if !batch.len().is_multiple_of(RECORD_LEN) {
        return Err(RecordError::Length);
    }
    Ok(batch.chunks_exact(RECORD_LEN).map(|chunk| {
        // `chunks_exact` gives RECORD_LEN bytes.
        let bytes: &[u8; RECORD_LEN] = chunk.try_into().map_err(|_| RecordError::Length)?;
        SyncRecord::decode(bytes)
    }))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn conn() -> SyncRecord {
        SyncRecord {
            kind: RecordKind::Conn,
            state: Some(ConnState::Established),
            prefix: 0,
            client: u32::from_ne_bytes([10, 0, 0, 2]),
            vip: u32::from_ne_bytes([10, 0, 0, 100]),
            server: u32::from_ne_bytes([10, 0, 0, 11]),
            client_port: 40_000,
            port: 80,
            expires_ms: 900_000,
        }
    }

    #[test]
    fn the_layout_is_the_documented_one() {
        let b = conn().encode();
        assert_eq!(b[0], 1);
        assert_eq!(b[1], ConnState::Established as u8);
        assert_eq!(&b[4..8], &[10, 0, 0, 2]);
        assert_eq!(&b[12..16], &[10, 0, 0, 11]);
        assert_eq!(&b[16..18], &40_000u16.to_be_bytes());
        assert_eq!(&b[18..20], &[0, 80]);
        assert_eq!(&b[20..24], &900_000u32.to_be_bytes());
    }

    #[test]
    fn records_round_trip() {
        let affinity = SyncRecord {
            kind: RecordKind::Affinity,
            state: None,
            prefix: 24,
            client_port: 0,
            ..conn()
        };
        for record in [conn(), affinity] {
            assert_eq!(SyncRecord::decode(&record.encode()), Ok(record));
        }
    }

    #[test]
    fn bad_records_are_refused() {
        let good = conn().encode();
        let with = |at: usize, value: u8| {
            let mut b = good;
            b[at] = value;
            SyncRecord::decode(&b)
        };
        assert_eq!(with(0, 9), Err(RecordError::Kind(9)));
        assert_eq!(with(1, 0), Err(RecordError::State(0)));
        assert_eq!(with(2, 8), Err(RecordError::Prefix(8)));
        assert_eq!(with(3, 1), Err(RecordError::Reserved));
        let mut affinity = good;
        affinity[0] = RecordKind::Affinity as u8;
        assert_eq!(
            SyncRecord::decode(&affinity),
            Err(RecordError::State(affinity[1]))
        );
        affinity[1] = 0;
        affinity[2] = 33;
        assert_eq!(SyncRecord::decode(&affinity), Err(RecordError::Prefix(33)));
    }

    #[test]
    fn a_batch_is_whole_records() {
        let mut batch = Vec::new();
        batch.extend_from_slice(&conn().encode());
        batch.extend_from_slice(&conn().encode());
        assert_eq!(records(&batch).unwrap().count(), 2);
        assert!(records(&batch[..30]).is_err());
        assert_eq!(records(&[]).unwrap().count(), 0);
    }
}
