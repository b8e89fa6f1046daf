//! Cell formats shared by several tables.

use nd_netlink_proto::attr::AffinityQuiesced;
use ndadm::model::{Affinity, MacAddr, Stats, WireState};

use super::{Align, Table};

/// The counter columns of the VIP, port, server and tree listings.
pub const STATS_COLUMNS: [(&str, Align); 6] = [
    ("CONNS", Align::Right),
    ("ACTIVE", Align::Right),
    ("INACTIVE", Align::Right),
    ("PACKETS", Align::Right),
    ("BYTES", Align::Right),
    ("DROPS", Align::Right),
];

/// The cells of [`STATS_COLUMNS`]; the drop reasons add up into one column, `-` for an
/// object that keeps no drop counters.
pub fn stats_cells(stats: &Stats) -> Vec<String> {
    vec![
        stats.conns.to_string(),
        stats.active.to_string(),
        stats.inactive.to_string(),
        stats.packets.to_string(),
        stats.bytes.to_string(),
        stats
            .drops()
            .map_or_else(|| "-".to_string(), |drops| drops.to_string()),
    ]
}

/// A remaining lifetime in milliseconds, coarsened as it grows: `9.5s`, `14m59s`, `2h05m`.
pub fn duration_ms(ms: u32) -> String {
    let secs = ms / 1000;
    match secs {
        0..=59 => format!("{}.{}s", secs, ms % 1000 / 100),
        60..=3599 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
    }
}

/// A static MAC address, or `-` when the neighbour table resolves the server.
pub fn mac_or_dash(mac: Option<MacAddr>) -> String {
    mac.map_or_else(|| "-".to_string(), |mac| mac.to_string())
}

/// A port's affinity: `-` when off, else the timeout and netmask length (`300s/24`), and
/// what quiesced servers' clients do unless they keep them, the default.
pub fn affinity_cell(affinity: &Affinity) -> String {
    if !affinity.is_on() {
        return "-".to_string();
    }
    let settings = format!("{}s/{}", affinity.timeout, affinity.prefix);
    match affinity.quiesced {
        WireState::Known(AffinityQuiesced::Keep) => settings,
        other => format!("{settings} {other}"),
    }
}

/// A table of objects with counters: the `leading` columns, then [`STATS_COLUMNS`]; each row
/// gives its leading cells and its statistics.
pub fn stats_table<'a>(
    leading: &[(&'static str, Align)],
    rows: impl IntoIterator<Item = (Vec<String>, &'a Stats)>,
) -> Table {
    let mut columns = leading.to_vec();
    columns.extend(STATS_COLUMNS);
    let mut table = Table::new(&columns);
    for (mut cells, stats) in rows {
        cells.extend(stats_cells(stats));
        table.row(cells);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_coarsen_with_size() {
        assert_eq!(duration_ms(0), "0.0s");
        assert_eq!(duration_ms(9_560), "9.5s");
        assert_eq!(duration_ms(60_000), "1m00s");
        assert_eq!(duration_ms(899_999), "14m59s");
        assert_eq!(duration_ms(7_500_000), "2h05m");
    }

    #[test]
    fn affinity_shows_timeout_netmask_and_a_rebalancing_choice() {
        assert_eq!(affinity_cell(&Affinity::default()), "-");
        let on = Affinity {
            timeout: 300,
            prefix: 24,
            ..Affinity::default()
        };
        assert_eq!(affinity_cell(&on), "300s/24");
        let rebalancing = Affinity {
            quiesced: WireState::Known(AffinityQuiesced::Rebalance),
            ..on
        };
        assert_eq!(affinity_cell(&rebalancing), "300s/24 rebalance");
    }
}
