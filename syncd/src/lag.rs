//! How far the peer is behind: the `Records` frames sent on a link and not yet acknowledged.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The frames in flight on one link, oldest first.
#[derive(Clone, Debug, Default)]
pub struct Lag {
    in_flight: VecDeque<InFlight>,
    records: u64,
    last_sent: u64,
    last_acked: u64,
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    seq: u64,
    records: u64,
    sent_at: Instant,
}

/// An acknowledgement that cannot be right.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the peer acknowledged frame {acked}, but only {sent} were sent")]
pub struct AckBeyondSent {
    /// The frame acknowledged.
    pub acked: u64,
    /// The last frame sent.
    pub sent: u64,
}

impl Lag {
    /// Notes frame `seq` with `records` records, sent at `now`. Frames are numbered from 1
    /// upwards, one by one.
    pub fn sent(&mut self, seq: u64, records: usize, now: Instant) {
        debug_assert_eq!(seq, self.last_sent + 1, "frames are numbered one by one");
        self.last_sent = seq;
        self.records += records as u64;
        self.in_flight.push_back(InFlight {
            seq,
            records: records as u64,
            sent_at: now,
        });
    }

    /// The next frame's number.
    pub fn next_seq(&self) -> u64 {
        self.last_sent + 1
    }

    /// Takes the peer's word that every frame up to `seq` is installed. An old or repeated
    /// acknowledgement changes nothing.
    pub fn acked(&mut self, seq: u64) -> Result<(), AckBeyondSent> {
        if seq > self.last_sent {
            return Err(AckBeyondSent {
                acked: seq,
                sent: self.last_sent,
            });
        }
        self.last_acked = self.last_acked.max(seq);
        while let Some(front) = self.in_flight.front() {
            if front.seq > seq {
                break;
            }
            self.records -= front.records;
            self.in_flight.pop_front();
        }
        Ok(())
    }

    /// Records sent and not acknowledged.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Frames sent and not acknowledged.
    pub fn frames(&self) -> usize {
        self.in_flight.len()
    }

    /// How long the oldest unacknowledged frame has waited.
    pub fn age(&self, now: Instant) -> Duration {
        self.in_flight.front().map_or(Duration::ZERO, |oldest| {
            now.saturating_duration_since(oldest.sent_at)
        })
    }

    /// [`Lag::age`] in whole milliseconds, as reported.
    pub fn age_ms(&self, now: Instant) -> u32 {
        u32::try_from(self.age(now).as_millis()).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledgements_are_cumulative_and_lag_is_the_oldest_wait() {
        let start = Instant::now();
        let mut lag = Lag::default();
        assert_eq!(
            (lag.records(), lag.frames(), lag.age(start)),
            (0, 0, Duration::ZERO)
        );
        lag.sent(1, 10, start);
        lag.sent(2, 5, start + Duration::from_millis(30));
        lag.sent(3, 1, start + Duration::from_millis(50));
        assert_eq!(lag.next_seq(), 4);
        assert_eq!(lag.records(), 16);
        assert_eq!(lag.age_ms(start + Duration::from_millis(100)), 100);

        lag.acked(2).unwrap();
        assert_eq!((lag.records(), lag.frames()), (1, 1));
        assert_eq!(lag.age_ms(start + Duration::from_millis(100)), 50);

        // A late acknowledgement of frames already acknowledged changes nothing.
        lag.acked(1).unwrap();
        assert_eq!(lag.records(), 1);
        lag.acked(3).unwrap();
        assert_eq!((lag.records(), lag.frames()), (0, 0));
        assert_eq!(lag.age(start + Duration::from_secs(9)), Duration::ZERO);
    }

    #[test]
    fn an_acknowledgement_of_a_frame_never_sent_is_an_error() {
        let mut lag = Lag::default();
        lag.sent(1, 1, Instant::now());
        assert_eq!(lag.acked(2), Err(AckBeyondSent { acked: 2, sent: 1 }));
        assert_eq!(lag.records(), 1);
    }
}
