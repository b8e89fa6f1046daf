//! The delay before dialling the peer again: doubling from a floor to a ceiling.

use std::time::Duration;

/// Exponential backoff between failed dials.
#[derive(Clone, Debug)]
pub struct Backoff {
    floor: Duration,
    ceiling: Duration,
    next: Duration,
}

impl Backoff {
    /// Delays from `floor`, doubling up to `ceiling`.
    pub fn new(floor: Duration, ceiling: Duration) -> Backoff {
        Backoff {
            floor,
            ceiling: ceiling.max(floor),
            next: floor,
        }
    }

    /// The delay before the next attempt; each call doubles the following one.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.ceiling);
        delay
    }

    /// Back to the floor, after a link that worked.
    pub fn reset(&mut self) {
        self.next = self.floor;
    }

    /// New bounds (a reload); the next delay starts from the floor.
    pub fn set_bounds(&mut self, floor: Duration, ceiling: Duration) {
        *self = Backoff::new(floor, ceiling);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_ceiling_and_resets() {
        let ms = Duration::from_millis;
        let mut backoff = Backoff::new(ms(100), ms(700));
        let delays: Vec<_> = (0..5).map(|_| backoff.next_delay()).collect();
        assert_eq!(delays, [ms(100), ms(200), ms(400), ms(700), ms(700)]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), ms(100));
        assert_eq!(Backoff::new(ms(500), ms(10)).next_delay(), ms(500));
    }
}
