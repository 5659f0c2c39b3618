//! Big-endian cell decoding and device-tree address translation (`reg`, `ranges`).

use alloc::vec::Vec;

/// A property does not hold the cells it should.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellError;

/// Reads `count` big-endian 32-bit cells from the start of `bytes` as one number.
/// More than four cells cannot be represented and are an error.
pub fn read_cells(bytes: &[u8], count: u32) -> Result<u128, CellError> {
    if count > 4 || bytes.len() < count as usize * 4 {
        return Err(CellError);
    }
    Ok(bytes[..count as usize * 4]
        .chunks_exact(4)
        .fold(0u128, |acc, c| (acc << 32) | u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as u128))
}

/// Splits a property into consecutive entries of `cells_per_entry` cells; the property
/// length must be an exact multiple.
pub(crate) fn entries(bytes: &[u8], cells_per_entry: u32) -> Result<impl Iterator<Item = &[u8]>, CellError> {
    let entry = cells_per_entry as usize * 4;
    if entry == 0 || !bytes.len().is_multiple_of(entry) {
        return Err(CellError);
    }
    Ok(bytes.chunks_exact(entry))
}

/// One `(address, size)` pair of a `reg` property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RegEntry {
    pub address: u128,
    pub size: u128,
}

/// Decodes a `reg` property with the parent's cell sizes.
pub(crate) fn parse_reg(
    bytes: &[u8],
    address_cells: u32,
    size_cells: u32,
) -> Result<Vec<RegEntry>, CellError> {
    entries(bytes, address_cells + size_cells)?
        .map(|e| {
            Ok(RegEntry {
                address: read_cells(e, address_cells)?,
                size: read_cells(&e[address_cells as usize * 4..], size_cells)?,
            })
        })
        .collect()
}

/// One entry of a `ranges` property: child addresses `[child, child + size)` appear at
/// `parent…` in the parent's address space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RangeEntry {
    pub child: u128,
    pub parent: u128,
    pub size: u128,
}

/// How a node maps its children's addresses into its own parent's address space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ranges {
    /// No `ranges` property: children's addresses are not visible outside.
    Untranslatable,
    /// Empty `ranges`: identity mapping.
    Identity,
    /// The listed windows.
    Windows(Vec<RangeEntry>),
}

/// Decodes a `ranges` property (`None` = property absent).
pub(crate) fn parse_ranges(
    bytes: Option<&[u8]>,
    child_address_cells: u32,
    parent_address_cells: u32,
    child_size_cells: u32,
) -> Result<Ranges, CellError> {
    let Some(bytes) = bytes else { return Ok(Ranges::Untranslatable) };
    if bytes.is_empty() {
        return Ok(Ranges::Identity);
    }
    let per_entry = child_address_cells + parent_address_cells + child_size_cells;
    let list = entries(bytes, per_entry)?
        .map(|e| {
            let p = child_address_cells as usize * 4;
            let s = p + parent_address_cells as usize * 4;
            Ok(RangeEntry {
                child: read_cells(e, child_address_cells)?,
                parent: read_cells(&e[p..], parent_address_cells)?,
                size: read_cells(&e[s..], child_size_cells)?,
            })
        })
        .collect::<Result<Vec<_>, CellError>>()?;
    Ok(Ranges::Windows(list))
}

impl Ranges {
    /// Maps a child address (and the `len` bytes after it) to the parent's space.
    pub(crate) fn map(&self, address: u128, len: u128) -> Option<u128> {
        match self {
            Ranges::Untranslatable => None,
            Ranges::Identity => Some(address),
            Ranges::Windows(list) => list.iter().find_map(|r| {
                let offset = address.checked_sub(r.child)?;
                (offset.checked_add(len)? <= r.size).then(|| r.parent + offset)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be(cells: &[u32]) -> Vec<u8> {
        cells.iter().flat_map(|c| c.to_be_bytes()).collect()
    }

    #[test]
    fn cells_combine_big_endian() {
        assert_eq!(read_cells(&be(&[0x6_03fc, 0]), 2), Ok(0x6_03fc_0000_0000));
        assert_eq!(read_cells(&be(&[1]), 1), Ok(1));
        assert_eq!(read_cells(&be(&[1]), 2), Err(CellError));
        assert_eq!(read_cells(&be(&[0; 5]), 5), Err(CellError));
        assert_eq!(read_cells(&[], 0), Ok(0));
    }

    #[test]
    fn reg_entries() {
        let reg = parse_reg(&be(&[0, 0, 0, 0x8000_0000, 0, 0x4000_0000, 0, 0x1000]), 2, 2).unwrap();
        assert_eq!(reg[0], RegEntry { address: 0, size: 0x8000_0000 });
        assert_eq!(reg[1], RegEntry { address: 0x4000_0000, size: 0x1000 });
        assert!(parse_reg(&be(&[0, 0, 0]), 2, 2).is_err());
    }

    #[test]
    fn qemu_lpc_ranges_translate() {
        // lpc@0: ranges = <space addr  opb-addr  size> with 2 child, 1 parent, 1 size cells.
        let lpc = parse_ranges(
            Some(&be(&[
                0,
                0,
                0xe000_0000,
                0x1000_0000,
                1,
                0,
                0xd001_0000,
                0x1_0000,
                3,
                0,
                0xf000_0000,
                0x1000_0000,
            ])),
            2,
            1,
            1,
        )
        .unwrap();
        // lpcm-opb: ranges = <opb-addr  phys(2)  size>.
        let opb = parse_ranges(
            Some(&be(&[0, 0x6_0300, 0, 0x8000_0000, 0x8000_0000, 0x6_0300, 0x8000_0000, 0x8000_0000])),
            1,
            2,
            1,
        )
        .unwrap();
        let io_uart = (1u128 << 32) | 0x3f8;
        let opb_addr = lpc.map(io_uart, 8).unwrap();
        assert_eq!(opb_addr, 0xd001_03f8);
        assert_eq!(opb.map(opb_addr, 8), Some(0x6_0300_d001_03f8));
        // Beyond the I/O window, or in a space with no window.
        assert_eq!(lpc.map((1u128 << 32) | 0x1_0000, 1), None);
        assert_eq!(lpc.map(2u128 << 32, 1), None);
    }

    #[test]
    fn identity_and_absent_ranges() {
        assert_eq!(parse_ranges(Some(&[]), 1, 1, 1).unwrap().map(5, 1), Some(5));
        assert_eq!(parse_ranges(None, 1, 1, 1).unwrap().map(5, 1), None);
        assert!(parse_ranges(Some(&be(&[1, 2])), 1, 1, 1).is_err());
    }
}
