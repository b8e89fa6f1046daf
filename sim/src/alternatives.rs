//! A weight computation the Manager does not offer, measured beside its own: the load
//! policy in proportional-correction form.
//!
//! [`nd_manager::wcf::InverseLoad`] aims each weight at the inverse of its server's load
//! index, so it stops where `weight × (L + e)` is the same on every server. The
//! proportional correction multiplies each weight by how far its server's index is from the
//! mean,
//!
//! ```text
//! raw(S)    = old(S) * (mean_T L(T) + e) / (L(S) + e)
//! target(S) = max_weight * raw(S) / max_T raw(T)
//! new(S)    = s * old(S) + (1 - s) * target(S)
//! ```
//!
//! so it stops only where every index is the same. A server coming back from weight 0
//! starts from the weight its declared capacity gives it beside the others.

use nd_manager::wcf::{blend, scaled_to_max, WcfInput, WcfServer, WeightComputation, LOAD_FLOOR};

/// Weights corrected in proportion to load, blended with the old ones.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProportionalCorrection;

impl WeightComputation for ProportionalCorrection {
    fn compute(&self, input: &WcfInput<'_>) -> Vec<u32> {
        let healthy: Vec<&WcfServer> = input.servers.iter().filter(|s| s.load.is_some()).collect();
        if healthy.is_empty() {
            return vec![0; input.servers.len()];
        }
        let n = healthy.len() as f64;
        let floor = LOAD_FLOOR / n;
        let mean = healthy.iter().filter_map(|s| s.load).sum::<f64>() / n;
        let weighted: Vec<f64> = healthy
            .iter()
            .filter(|s| s.old_weight > 0)
            .map(|s| f64::from(s.old_weight) / s.capacity)
            .collect();
        let per_capacity = if weighted.is_empty() {
            1.0
        } else {
            weighted.iter().sum::<f64>() / weighted.len() as f64
        };
        let raw: Vec<Option<f64>> = input
            .servers
            .iter()
            .map(|server| {
                let load = server.load?;
                let base = if server.old_weight > 0 {
                    f64::from(server.old_weight)
                } else {
                    per_capacity * server.capacity
                };
                Some(base * (mean + floor) / (load.max(0.0) + floor))
            })
            .collect();
        blend(input, &scaled_to_max(&raw, input.max_weight))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nd_manager::wcf::RecentRates;

    fn server(load: Option<f64>, old_weight: u32, capacity: f64) -> WcfServer {
        WcfServer {
            load,
            old_weight,
            capacity,
            rates: RecentRates::new(),
        }
    }

    fn compute(servers: &[WcfServer], smoothing: f64) -> Vec<u32> {
        ProportionalCorrection.compute(&WcfInput {
            servers,
            max_weight: 100,
            smoothing,
            switch_margin: 0.0,
        })
    }

    #[test]
    fn equal_indexes_keep_the_weights_and_a_heavier_server_loses_in_proportion() {
        let even = [server(Some(0.5), 100, 1.0), server(Some(0.5), 50, 0.5)];
        assert_eq!(compute(&even, 0.0), vec![100, 50]);
        // Floor 0.05: the first server's index 0.3 against the mean 0.5.
        let uneven = [server(Some(0.3), 100, 1.0), server(Some(0.7), 100, 1.0)];
        let expected = (100.0_f64 * 0.55 / 0.75 / (0.55 / 0.35)).round() as u32;
        assert_eq!(compute(&uneven, 0.0), vec![100, expected]);
    }

    #[test]
    fn down_servers_get_zero_and_come_back_by_capacity() {
        let servers = [server(Some(0.5), 80, 1.0), server(None, 80, 1.0)];
        assert_eq!(compute(&servers, 0.0), vec![100, 0]);
        let back = [server(Some(0.5), 80, 1.0), server(Some(0.5), 0, 0.5)];
        assert_eq!(compute(&back, 0.0), vec![100, 50]);
    }
}
