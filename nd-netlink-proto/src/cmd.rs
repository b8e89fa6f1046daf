//! Command numbers. The list only ever grows at the end.

/// Commands of the `nd` family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Cmd {
    /// Never sent.
    Unspec = 0,
    /// Add a cluster address: `VIP`.
    NewVip = 1,
    /// Remove a cluster address with its ports, servers and connections: `VIP`.
    DelVip = 2,
    /// Dump cluster addresses; each reply carries `VIP`, `STATS`.
    GetVip = 3,
    /// Add a port to a cluster address: `VIP`, `PORT`, optional `SCHEDULER` (default `wrr`)
    /// and `AFFINITY_*` (default: no affinity).
    NewPort = 4,
    /// Remove a port with its servers and connections: `VIP`, `PORT`.
    DelPort = 5,
    /// Dump ports; each reply carries `VIP`, `PORT`, `SCHEDULER`, `STATS`.
    GetPort = 6,
    /// Add a server: `VIP`, `PORT`, `SERVER`, optional `WEIGHT` (default 1) and `MAC`.
    NewServer = 7,
    /// Change a server: `VIP`, `PORT`, `SERVER`, and `WEIGHT` and/or `MAC`.
    SetServer = 8,
    /// Remove a server and end its connections: `VIP`, `PORT`, `SERVER`.
    DelServer = 9,
    /// Dump servers; each reply carries `VIP`, `PORT`, `SERVER`, `WEIGHT`, optional `MAC`,
    /// `SERVER_STATE`, `STATS`.
    GetServer = 10,
    /// Replace the weights of every server of a port at once: `VIP`, `PORT`, `WEIGHTS`
    /// naming each server of the port exactly once.
    SetWeights = 11,
    /// Dump the connection table; each reply carries `CLIENT`, `CLIENT_PORT`, `VIP`, `PORT`,
    /// `SERVER`, `CONN_STATE`, `EXPIRES_MS`.
    GetConn = 12,
    /// Read timeouts and limits; the reply carries every `TIMEOUT_*` and `CONN_LIMIT`.
    GetConfig = 13,
    /// Change any subset of the `TIMEOUT_*` attributes and `CONN_LIMIT`.
    SetConfig = 14,
    /// Remove every cluster address and connection of the namespace.
    Flush = 15,
    /// Read global figures: `VERSION`, `CONN_COUNT`, `CONN_LIMIT`, `CONN_TABLE_BYTES`, `DROPS`.
    GetInfo = 16,
    /// Change a port: `VIP`, `PORT`, and `SCHEDULER` and/or `AFFINITY_*`. Open connections
    /// stay with their servers; new ones are scheduled the new way. Changing the affinity
    /// settings drops the port's affinity records.
    SetPort = 17,
    /// Set the Executor's role: `HA_ROLE`.
    SetHa = 18,
    /// Read the role and the synchronisation figures: the reply carries `HA_ROLE`, `SYNC`.
    GetHa = 19,
    /// Install records of the peer's table: `SYNC_BATCH`.
    SyncInstall = 20,
    /// The sync daemon's report of its link to the peer: `SYNC` with `PEER`, `CONNECTED`,
    /// `LAG_RECORDS`, `LAG_MS`, `SENT`, `RECEIVED`.
    SetSyncStatus = 21,
    /// Dump the affinity records; each reply carries `VIP`, `PORT`, `CLIENT`,
    /// `AFFINITY_PREFIX`, `SERVER`, `CONN_COUNT` (its open connections) and `EXPIRES_MS`.
    GetAffinity = 22,
    /// Published on the `sync` multicast group, never requested: `SYNC_BATCH`.
    SyncRecords = 23,
}

impl Cmd {
    /// The highest command number.
    pub const MAX: u8 = Cmd::SyncRecords as u8;

    /// Maps a wire value to a command, `None` for numbers this side does not know.
    pub fn from_u8(value: u8) -> Option<Cmd> {
        const ALL: [Cmd; Cmd::MAX as usize + 1] = [
            Cmd::Unspec,
            Cmd::NewVip,
            Cmd::DelVip,
            Cmd::GetVip,
            Cmd::NewPort,
            Cmd::DelPort,
            Cmd::GetPort,
            Cmd::NewServer,
            Cmd::SetServer,
            Cmd::DelServer,
            Cmd::GetServer,
            Cmd::SetWeights,
            Cmd::GetConn,
            Cmd::GetConfig,
            Cmd::SetConfig,
            Cmd::Flush,
            Cmd::GetInfo,
            Cmd::SetPort,
            Cmd::SetHa,
            Cmd::GetHa,
            Cmd::SyncInstall,
            Cmd::SetSyncStatus,
            Cmd::GetAffinity,
            Cmd::SyncRecords,
        ];
        ALL.get(usize::from(value)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_maps_back_to_itself() {
        for n in 0..=Cmd::MAX {
            assert_eq!(Cmd::from_u8(n).map(|c| c as u8), Some(n));
        }
        assert_eq!(Cmd::from_u8(Cmd::MAX + 1), None);
    }
}
