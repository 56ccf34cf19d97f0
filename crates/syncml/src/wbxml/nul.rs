//! Finding the NUL that ends an inline string (`STR_I`), or that text must not carry into
//! one: eight octets at a time.

/// Offset of the first NUL octet of `bytes`: a word of eight octets per step (a NUL octet
/// is the lowest one whose `(w - 0x01…) & !w & 0x80…` bit is set: a borrow only travels
/// upward from a NUL, so no octet below the first NUL can set it), the last few octets
/// one by one.
// In line: every inline string read goes through it, mostly a word or two.
#[inline(always)]
pub(crate) fn find_nul(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while let Some(word) = bytes[at..].first_chunk::<8>() {
        let word = u64::from_le_bytes(*word);
        let nul = word.wrapping_sub(ONES) & !word & HIGHS;
        if nul != 0 {
            return Some(at + (nul.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..].iter().position(|&b| b == 0).map(|k| at + k)
}

#[cfg(test)]
mod tests {
    use super::find_nul;

    #[test]
    fn the_first_nul_is_found_at_every_place_and_in_every_word_shape() {
        for len in 0..40 {
            // Octets a borrow could mislead: 0x01 (becomes 0x00), 0x80 and 0x81 (high bit).
            for filler in [b'a', 0x01, 0x80, 0x81, 0xFF] {
                let mut bytes = vec![filler; len];
                assert_eq!(find_nul(&bytes), None, "{len} {filler:#x}");
                for at in 0..len {
                    bytes[at] = 0;
                    assert_eq!(find_nul(&bytes), Some(at), "{len} {filler:#x} {at}");
                    // A second NUL after the first changes nothing.
                    for later in at + 1..len {
                        let mut two = bytes.clone();
                        two[later] = 0;
                        assert_eq!(find_nul(&two), Some(at));
                    }
                    bytes[at] = filler;
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn find_nul_is_position(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100)) {
            proptest::prop_assert_eq!(find_nul(&bytes), bytes.iter().position(|&b| b == 0));
        }
    }
}
