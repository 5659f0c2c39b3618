//! The ECC (error-correcting code) of OpenPOWER PNOR partitions: every 8 data bytes are
//! followed by 1 check byte, a 64-bit SECDED (single-error-correcting, double-error-detecting)
//! code defined by hostboot and libflash (`ecc.c`).
//!
//! The 8 data bytes are read as a big-endian 64-bit word `d`. Check bit `i` (bit `i` of the ECC
//! byte, 0 = least significant) is the parity of `d & CHECK_ROWS[i]`. Every data bit feeds an
//! odd number (3 or 5) of check bits, all with different patterns, so the *syndrome* (stored
//! ECC XOR recomputed ECC) of a single flipped data bit is that bit's pattern, a flipped check
//! bit gives a one-bit syndrome, and two flipped bits give a non-zero even-weight syndrome that
//! matches neither: detected, not corrected. The syndrome table is derived here from the rows
//! rather than written out.

use alloc::vec::Vec;
use core::fmt;

/// Data bytes per ECC word.
pub const DATA_BYTES_PER_WORD: usize = 8;
/// Bytes of one ECC word on flash: 8 data bytes then the check byte.
pub const RAW_BYTES_PER_WORD: usize = 9;
/// The check byte of an erased (all 0xFF) word, which is 0x00: erased ECC flash reads as
/// `FF FF FF FF FF FF FF FF 00`.
pub const ERASED_WORD_ECC: u8 = 0x00;

/// Data-bit masks of check bits 0..=7 (libflash's `eccmatrix`, from the hardware design).
const CHECK_ROWS: [u64; 8] = [
    0x0000_e842_3c0f_99ff,
    0x00e8_423c_0f99_ff00,
    0xe842_3c0f_99ff_0000,
    0x423c_0f99_ff00_00e8,
    0x3c0f_99ff_0000_e842,
    0x0f99_ff00_00e8_423c,
    0x99ff_0000_e842_3c0f,
    0xff00_00e8_423c_0f99,
];

/// The check byte for 8 data bytes.
pub fn ecc_byte(data: [u8; 8]) -> u8 {
    let word = u64::from_be_bytes(data);
    CHECK_ROWS
        .iter()
        .enumerate()
        .fold(0u8, |ecc, (bit, row)| ecc | (((row & word).count_ones() & 1) as u8) << bit)
}

/// What a syndrome means.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Syndrome {
    Clean,
    /// Data bit flipped, numbered from the least significant bit of the big-endian word.
    DataBit(u8),
    /// Check bit flipped.
    EccBit(u8),
    Uncorrectable,
}

/// The syndrome a flipped data bit produces: which check bits it feeds.
const fn data_bit_syndrome(bit: u32) -> u8 {
    let mut syndrome = 0u8;
    let mut row = 0;
    while row < CHECK_ROWS.len() {
        syndrome |= (((CHECK_ROWS[row] >> bit) & 1) as u8) << row;
        row += 1;
    }
    syndrome
}

const SYNDROMES: [Syndrome; 256] = {
    let mut table = [Syndrome::Uncorrectable; 256];
    table[0] = Syndrome::Clean;
    let mut bit = 0;
    while bit < 8 {
        table[1 << bit] = Syndrome::EccBit(bit as u8);
        bit += 1;
    }
    let mut bit = 0;
    while bit < 64 {
        table[data_bit_syndrome(bit) as usize] = Syndrome::DataBit(bit as u8);
        bit += 1;
    }
    table
};

/// A bit that was wrong and has been corrected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Correction {
    /// Offset of the byte holding the bit, in the raw (with-ECC) buffer.
    pub offset: usize,
    /// The bit in that byte, 0 = least significant.
    pub bit: u8,
    /// Whether it was the word's check byte rather than a data byte.
    pub in_ecc_byte: bool,
}

/// An error decoding or encoding ECC data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EccError {
    /// The 9-byte word at `offset` of the raw buffer has two or more bits wrong.
    Uncorrectable { offset: usize },
    /// A raw buffer that is not a whole number of 9-byte words.
    PartialWord { len: usize },
    /// An output buffer of the wrong size.
    OutputSize { needed: usize, available: usize },
}

impl fmt::Display for EccError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EccError::Uncorrectable { offset } => {
                write!(f, "uncorrectable ECC error in the 9-byte word at offset 0x{offset:x}")
            }
            EccError::PartialWord { len } => {
                write!(f, "{len} bytes is not a whole number of 9-byte ECC words")
            }
            EccError::OutputSize { needed, available } => {
                write!(f, "output buffer of {available} bytes, {needed} needed")
            }
        }
    }
}

/// The state of one 9-byte word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordCheck {
    /// Data and check byte agree.
    Clean,
    /// One bit was wrong; the data given back is corrected.
    Corrected(Correction),
    /// Two or more bits are wrong.
    Uncorrectable,
}

/// Checks one word (`raw` is its 9 bytes at `offset` of the raw buffer) and returns the
/// corrected data bytes with what was found.
fn check_word(raw: &[u8], offset: usize) -> ([u8; 8], WordCheck) {
    let mut data = [0u8; 8];
    let (data_bytes, ecc) = raw.split_at(raw.len().min(DATA_BYTES_PER_WORD));
    data.iter_mut().zip(data_bytes).for_each(|(out, byte)| *out = *byte);
    let stored = ecc.first().copied().unwrap_or(0);
    let syndrome =
        SYNDROMES.get(usize::from(stored ^ ecc_byte(data))).copied().unwrap_or(Syndrome::Uncorrectable);
    match syndrome {
        Syndrome::Clean => (data, WordCheck::Clean),
        Syndrome::Uncorrectable => (data, WordCheck::Uncorrectable),
        Syndrome::EccBit(bit) => {
            let correction = Correction { offset: offset + DATA_BYTES_PER_WORD, bit, in_ecc_byte: true };
            (data, WordCheck::Corrected(correction))
        }
        Syndrome::DataBit(bit) => {
            let word = u64::from_be_bytes(data) ^ (1u64 << bit);
            let byte = DATA_BYTES_PER_WORD - 1 - usize::from(bit / 8);
            let correction = Correction { offset: offset + byte, bit: bit % 8, in_ecc_byte: false };
            (word.to_be_bytes(), WordCheck::Corrected(correction))
        }
    }
}

/// Checks every word of `raw`, calling `each` with the word's offset in `raw`, its corrected
/// data and what was found. Trailing bytes that do not make a whole word are ignored.
pub fn scan(raw: &[u8], mut each: impl FnMut(usize, [u8; 8], WordCheck)) {
    for (index, word) in raw.chunks_exact(RAW_BYTES_PER_WORD).enumerate() {
        let offset = index * RAW_BYTES_PER_WORD;
        let (data, check) = check_word(word, offset);
        each(offset, data, check);
    }
}

/// Decodes `raw` (whole 9-byte words) into `out` (8 bytes per word), correcting single-bit
/// errors and reporting each to `on_correction`; stops at the first uncorrectable word.
pub fn decode_into(
    raw: &[u8],
    out: &mut [u8],
    on_correction: &mut dyn FnMut(Correction),
) -> Result<(), EccError> {
    if !raw.len().is_multiple_of(RAW_BYTES_PER_WORD) {
        return Err(EccError::PartialWord { len: raw.len() });
    }
    let needed = decoded_len(raw.len());
    if out.len() != needed {
        return Err(EccError::OutputSize { needed, available: out.len() });
    }
    let mut result = Ok(());
    let mut outputs = out.chunks_exact_mut(DATA_BYTES_PER_WORD);
    scan(raw, |offset, data, check| {
        if result.is_err() {
            return;
        }
        match check {
            WordCheck::Clean => {}
            WordCheck::Corrected(correction) => on_correction(correction),
            WordCheck::Uncorrectable => result = Err(EccError::Uncorrectable { offset }),
        }
        if let Some(output) = outputs.next() {
            output.copy_from_slice(&data);
        }
    });
    result
}

/// Data decoded from ECC words, with the bits that were corrected.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decoded {
    /// The data, 8 bytes per word.
    pub data: Vec<u8>,
    /// Corrected bits, in order.
    pub corrections: Vec<Correction>,
}

/// Decodes `raw` (whole 9-byte words), correcting single-bit errors.
pub fn decode(raw: &[u8]) -> Result<Decoded, EccError> {
    let mut decoded = Decoded { data: alloc::vec![0; decoded_len(raw.len())], corrections: Vec::new() };
    let corrections = &mut decoded.corrections;
    decode_into(raw, &mut decoded.data, &mut |correction| corrections.push(correction))?;
    Ok(decoded)
}

/// Encodes `data` into `out`, which must be exactly [`encoded_len`]`(data.len())` bytes. A last
/// partial word is padded with 0xFF (erased flash).
pub fn encode_into(data: &[u8], out: &mut [u8]) -> Result<(), EccError> {
    let needed = encoded_len(data.len());
    if out.len() != needed {
        return Err(EccError::OutputSize { needed, available: out.len() });
    }
    for (chunk, word) in data.chunks(DATA_BYTES_PER_WORD).zip(out.chunks_exact_mut(RAW_BYTES_PER_WORD)) {
        let mut bytes = [0xFFu8; 8];
        bytes.iter_mut().zip(chunk).for_each(|(out, byte)| *out = *byte);
        let (data_out, ecc_out) = word.split_at_mut(DATA_BYTES_PER_WORD);
        data_out.copy_from_slice(&bytes);
        ecc_out.fill(ecc_byte(bytes));
    }
    Ok(())
}

/// Encodes `data`, padding a last partial word with 0xFF.
pub fn encode(data: &[u8]) -> Vec<u8> {
    let mut out = alloc::vec![0; encoded_len(data.len())];
    // The buffer has exactly the length `encode_into` asks for.
    let _ = encode_into(data, &mut out);
    out
}

/// Raw bytes needed to store `data_len` bytes with ECC (whole words).
pub fn encoded_len(data_len: usize) -> usize {
    data_len.div_ceil(DATA_BYTES_PER_WORD) * RAW_BYTES_PER_WORD
}

/// Data bytes held by the whole words of `raw_len` raw bytes.
pub fn decoded_len(raw_len: usize) -> usize {
    raw_len / RAW_BYTES_PER_WORD * DATA_BYTES_PER_WORD
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF];

    #[test]
    fn known_check_bytes() {
        assert_eq!(ecc_byte([0; 8]), 0x00);
        assert_eq!(ecc_byte([0xFF; 8]), ERASED_WORD_ECC);
        // The syndrome of a lone data bit is its check byte: libflash's table maps 0xC1 to IBM bit
        // 63 (the least significant) and 0xC4 to IBM bit 0 (the most significant).
        assert_eq!(ecc_byte([0, 0, 0, 0, 0, 0, 0, 1]), 0xC1);
        assert_eq!(ecc_byte([0x80, 0, 0, 0, 0, 0, 0, 0]), 0xC4);
    }

    #[test]
    fn the_code_is_secded() {
        // Every data bit feeds an odd number (>= 3) of check bits, all patterns distinct.
        let mut seen = [false; 256];
        for bit in 0..64 {
            let syndrome = data_bit_syndrome(bit);
            assert!(syndrome.count_ones() % 2 == 1 && syndrome.count_ones() >= 3, "bit {bit}");
            assert!(!seen[usize::from(syndrome)], "bit {bit} shares its syndrome");
            seen[usize::from(syndrome)] = true;
        }
        // Spot checks against libflash's syndrome table (IBM bit numbering, 0 = MSB):
        // syndrome 0x07 is bit 47, 0x0B is bit 37, 0xC4 is bit 0, 0xF4 is bit 4.
        assert!(SYNDROMES[0x07] == Syndrome::DataBit(63 - 47));
        assert!(SYNDROMES[0x0B] == Syndrome::DataBit(63 - 37));
        assert!(SYNDROMES[0xC4] == Syndrome::DataBit(63));
        assert!(SYNDROMES[0xF4] == Syndrome::DataBit(63 - 4));
        assert!(SYNDROMES[0x80] == Syndrome::EccBit(7));
        assert!(SYNDROMES[0x03] == Syndrome::Uncorrectable);
    }

    #[test]
    fn every_single_bit_error_is_corrected() {
        let clean = encode(&SAMPLE);
        for byte in 0..RAW_BYTES_PER_WORD {
            for bit in 0..8u8 {
                let mut raw = clean.clone();
                raw[byte] ^= 1 << bit;
                let decoded = decode(&raw);
                let expected = Correction { offset: byte, bit, in_ecc_byte: byte == 8 };
                assert_eq!(decoded, Ok(Decoded { data: SAMPLE.to_vec(), corrections: vec![expected] }));
            }
        }
    }

    #[test]
    fn every_double_bit_error_is_detected() {
        let clean = encode(&SAMPLE);
        for first in 0..72 {
            for second in first + 1..72 {
                let mut raw = clean.clone();
                raw[first / 8] ^= 1 << (first % 8);
                raw[second / 8] ^= 1 << (second % 8);
                assert_eq!(
                    decode(&raw),
                    Err(EccError::Uncorrectable { offset: 0 }),
                    "bits {first}, {second}"
                );
            }
        }
    }

    #[test]
    fn errors_are_reported_at_their_word() {
        let data: Vec<u8> = (0..32).collect();
        let mut raw = encode(&data);
        raw[9 + 3] ^= 0x10;
        let decoded = decode(&raw);
        assert_eq!(decoded.as_ref().map(|d| d.data.clone()), Ok(data.clone()));
        assert_eq!(
            decoded.map(|d| d.corrections),
            Ok(vec![Correction { offset: 12, bit: 4, in_ecc_byte: false }])
        );
        raw[27] ^= 0x03;
        assert_eq!(decode(&raw), Err(EccError::Uncorrectable { offset: 27 }));
    }

    #[test]
    fn encoding_pads_and_sizes() {
        let raw = encode(&[0xAA; 3]);
        assert_eq!(raw.len(), 9);
        assert_eq!(&raw[..8], &[0xAA, 0xAA, 0xAA, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(encoded_len(0), 0);
        assert_eq!(encoded_len(16), 18);
        assert_eq!(decoded_len(4096), 455 * 8);
        assert_eq!(decode(&[0; 10]), Err(EccError::PartialWord { len: 10 }));
        assert_eq!(encode_into(&[0; 8], &mut [0; 8]), Err(EccError::OutputSize { needed: 9, available: 8 }));
    }
}
