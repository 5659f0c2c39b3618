//! Big-endian wire helpers. FFS (flash file system) headers and entries are arrays of 32-bit
//! big-endian words; these helpers turn byte slices into words and back without indexing, so a
//! short slice is an error value, never a panic.

/// Reads `N` big-endian 32-bit words from the start of `bytes`, or `None` if it is too short.
pub(crate) fn read_be_words<const N: usize>(bytes: &[u8]) -> Option<[u32; N]> {
    let bytes = bytes.get(..N.checked_mul(4)?)?;
    let mut words = [0u32; N];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
        *word = u32::from_be_bytes(chunk.try_into().ok()?);
    }
    Some(words)
}

/// Writes `words` big-endian into the start of `out`, which must be at least `4 * words.len()`
/// bytes long; returns `None` (writing nothing) if it is not.
pub(crate) fn write_be_words(words: &[u32], out: &mut [u8]) -> Option<()> {
    let out = out.get_mut(..words.len().checked_mul(4)?)?;
    for (word, chunk) in words.iter().zip(out.chunks_exact_mut(4)) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    Some(())
}

/// The FFS checksum: XOR of the words. A structure whose last word is the checksum of the
/// words before it XORs to zero as a whole.
pub(crate) fn xor_words(words: &[u32]) -> u32 {
    words.iter().fold(0, |acc, word| acc ^ word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_big_endian() {
        let words: [u32; 2] = [0x5041_5254, 0x0102_0304];
        let mut bytes = [0u8; 8];
        assert_eq!(write_be_words(&words, &mut bytes), Some(()));
        assert_eq!(bytes, *b"PART\x01\x02\x03\x04");
        assert_eq!(read_be_words::<2>(&bytes), Some(words));
    }

    #[test]
    fn short_slices_are_refused() {
        assert_eq!(read_be_words::<2>(&[0u8; 7]), None);
        assert_eq!(write_be_words(&[1, 2], &mut [0u8; 7]), None);
    }

    #[test]
    fn checksum_is_xor() {
        assert_eq!(xor_words(&[0xF0F0_0000, 0x0F0F_0001, 0x0000_0001]), 0xFFFF_0000);
        assert_eq!(xor_words(&[]), 0);
    }
}
