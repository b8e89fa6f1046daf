//! Numbers for the servers and ports of a configuration, which connection table entries use
//! instead of addresses: the lowest number not in use, so that numbers stay small and dense
//! and the tables indexed by them stay short.

/// Words of a bitmap covering every `u16`.
pub const BITMAP_WORDS: usize = (u16::MAX as usize + 1) / 64;

/// The lowest number not among `used`, with `bitmap` (cleared here) as scratch space of
/// [`BITMAP_WORDS`] words; `None` if every number is taken or the bitmap is too short.
pub fn lowest_free(used: impl IntoIterator<Item = u16>, bitmap: &mut [u64]) -> Option<u16> {
    if bitmap.len() < BITMAP_WORDS {
        return None;
    }
    bitmap.iter_mut().for_each(|word| *word = 0);
    for number in used {
        bitmap[usize::from(number) / 64] |= 1 << (number % 64);
    }
    bitmap[..BITMAP_WORDS]
        .iter()
        .enumerate()
        .find(|(_, word)| **word != u64::MAX)
        .map(|(index, word)| (index * 64 + word.trailing_ones() as usize) as u16)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    #[test]
    fn takes_the_lowest_gap() {
        let mut bitmap = vec![0; BITMAP_WORDS];
        assert_eq!(lowest_free([], &mut bitmap), Some(0));
        assert_eq!(lowest_free([0, 1, 3], &mut bitmap), Some(2));
        assert_eq!(lowest_free(0..64, &mut bitmap), Some(64));
        assert_eq!(lowest_free([5, 0, 1, 2, 3, 4], &mut bitmap), Some(6));
    }

    #[test]
    fn none_when_all_are_taken() {
        let mut bitmap = vec![0; BITMAP_WORDS];
        assert_eq!(lowest_free(0..=u16::MAX, &mut bitmap), None);
        assert_eq!(
            lowest_free((0..=u16::MAX).filter(|&n| n != 65_000), &mut bitmap),
            Some(65_000)
        );
        assert_eq!(lowest_free([], &mut bitmap[..10]), None);
    }
}
