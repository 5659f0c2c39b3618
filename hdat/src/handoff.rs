//! What a host firmware image carries so that an FSP (Flexible Service Processor) or
//! hostboot can hand it HDAT: the NACA (Node Address Communication Area) at image offset
//! `0x4000`, which points at the image's SPIRA-H; SPIRA-H itself, whose first n-tuple names
//! the host data area where the service processor is to build SPIRA-S and the HDAT
//! structures; and PROCIN (processor initialisation), the entry address (NIA) and MSR the
//! threads are started with.
//!
//! The templates are built by `const fn`s so the firmware links them in as plain data; the
//! parser in [`crate::spira`] reads them back (see the tests). Layouts follow the HDIF format
//! (`crate::hdif`): a 32-byte header, an internal-data pointer table, then the data.

/// Image offset of the NACA, where the service processor looks for it.
pub const NACA_OFFSET: u64 = 0x4000;
/// Size of the NACA as laid out here.
pub const NACA_LEN: usize = 0x40;
/// Offset in the NACA of the SPIRA-H address.
pub const NACA_SPIRAH: usize = 0x00;
/// Offset in the NACA of the legacy SPIRA address (POWER7/8 only; left 0).
pub const NACA_LEGACY_SPIRA: usize = 0x30;

/// Image offset of SPIRA-H (where skiboot keeps it too).
pub const SPIRAH_OFFSET: u64 = 0x1_0400;
/// Size of the SPIRA-H template: header, pointer table, array header, six n-tuples.
pub const SPIRAH_LEN: usize = 0x100;
/// Image offset of PROCIN.
pub const PROCIN_OFFSET: u64 = 0x1_0800;
/// Size of the PROCIN template.
pub const PROCIN_LEN: usize = 0x40;

/// HDIF header magic.
const HDIF_MAGIC: u16 = 0xd1f0;
/// SPIRA-H version written (the first secure-boot-compliant layout, what parsers expect).
const SPIRAH_VERSION: u16 = 0x50;
/// PROCIN structure version.
const PROCIN_VERSION: u16 = 0x01;
/// Header length of every HDIF structure written here.
const HDR_LEN: u32 = 0x20;
/// Number of SPIRA-H n-tuples: host data area, PROCIN, CPU control, and three memory-dump
/// tables (source, destination, results) that oxiboot leaves empty.
const SPIRAH_NTUPLES: u32 = 6;
/// Allocated bytes per n-tuple (0x18 of them are meaningful).
const NTUPLE_STRIDE: u32 = 0x20;
/// Meaningful bytes per n-tuple.
const NTUPLE_USED: u32 = 0x18;

const fn put16(b: &mut [u8], at: usize, v: u16) {
    let x = v.to_be_bytes();
    b[at] = x[0];
    b[at + 1] = x[1];
}

const fn put32(b: &mut [u8], at: usize, v: u32) {
    let x = v.to_be_bytes();
    let mut i = 0;
    while i < 4 {
        b[at + i] = x[i];
        i += 1;
    }
}

const fn put64(b: &mut [u8], at: usize, v: u64) {
    put32(b, at, (v >> 32) as u32);
    put32(b, at + 4, v as u32);
}

/// Writes an HDIF header with one internal-data pointer, which points at `data_len` bytes
/// right after the pointer table (offset 0x30).
const fn hdif_header(b: &mut [u8], id: &[u8; 6], version: u16, total: u32, data_len: u32) {
    put16(b, 0, HDIF_MAGIC);
    let mut i = 0;
    while i < 6 {
        b[2 + i] = id[i];
        i += 1;
    }
    put16(b, 8, 0); // instance
    put16(b, 10, version);
    put32(b, 12, total);
    put32(b, 16, HDR_LEN);
    put32(b, 20, HDR_LEN); // internal-data pointer table right after the header
    put16(b, 24, 1); // one internal-data pointer
    put16(b, 26, 0); // no children
    put32(b, 28, 0);
    // Internal-data pointer 0: (offset, size) of the data block.
    put32(b, 0x20, 0x30);
    put32(b, 0x24, data_len);
}

/// The NACA: the SPIRA-H address (`spirah_addr`, where the service processor finds it in the
/// loaded image) and no legacy SPIRA.
pub const fn naca(spirah_addr: u64) -> [u8; NACA_LEN] {
    let mut b = [0u8; NACA_LEN];
    put64(&mut b, NACA_SPIRAH, spirah_addr);
    put64(&mut b, NACA_LEGACY_SPIRA, 0);
    b
}

/// SPIRA-H asking for the host data area at `data_area_addr` (`data_area_len` bytes) and
/// naming PROCIN at `procin_addr`. The service processor fills in the host data area's
/// actual count and length when it has built SPIRA-S there.
pub const fn spira_h(data_area_addr: u64, data_area_len: u32, procin_addr: u64) -> [u8; SPIRAH_LEN] {
    let mut b = [0u8; SPIRAH_LEN];
    let array_len = 0x10 + SPIRAH_NTUPLES * NTUPLE_STRIDE;
    hdif_header(&mut b, b"SPIRAH", SPIRAH_VERSION, SPIRAH_LEN as u32, array_len);
    // Array header at 0x30: elements start 0x10 after it.
    put32(&mut b, 0x30, 0x10);
    put32(&mut b, 0x34, SPIRAH_NTUPLES);
    put32(&mut b, 0x38, NTUPLE_STRIDE);
    put32(&mut b, 0x3c, NTUPLE_USED);
    // N-tuple 0: host data area (addr, alloc_cnt, act_cnt, alloc_len, act_len).
    put64(&mut b, 0x40, data_area_addr);
    put16(&mut b, 0x48, 1);
    put16(&mut b, 0x4a, 0);
    put32(&mut b, 0x4c, data_area_len);
    put32(&mut b, 0x50, 0);
    // N-tuple 1: PROCIN.
    put64(&mut b, 0x60, procin_addr);
    put16(&mut b, 0x68, 1);
    put16(&mut b, 0x6a, 1);
    put32(&mut b, 0x6c, PROCIN_LEN as u32);
    put32(&mut b, 0x70, PROCIN_LEN as u32);
    b
}

/// PROCIN: the threads start at `nia` with `msr`.
pub const fn procin(nia: u64, msr: u64) -> [u8; PROCIN_LEN] {
    let mut b = [0u8; PROCIN_LEN];
    hdif_header(&mut b, b"PROCIN", PROCIN_VERSION, PROCIN_LEN as u32, 0x10);
    put64(&mut b, 0x30, nia);
    put64(&mut b, 0x38, msr);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hdif::Hdif;
    use crate::window::Window;
    use crate::SpiraH;

    #[test]
    fn spira_h_template_parses_back_with_its_host_data_area() {
        let b = spira_h(0x3120_0000, 0x80_0000, PROCIN_OFFSET);
        let h = SpiraH::parse(&b).expect("template parses");
        assert_eq!(h.version, 0x50);
        assert_eq!(h.host_data_area.addr, 0x3120_0000);
        assert_eq!(h.host_data_area.alloc_cnt, 1);
        assert_eq!(h.host_data_area.alloc_len, 0x80_0000);
        assert_eq!(h.host_data_area.act_len, 0);
    }

    #[test]
    fn procin_template_holds_entry_and_msr() {
        let b = procin(0x80, 0x9000_0000_0000_0000);
        let win = Window::new(&b, 0);
        let h = Hdif::at(win, 0, "PROCIN").expect("header");
        assert_eq!(h.version(), 1);
        let regs = h.idata(0).expect("pointer").expect("block");
        assert_eq!(regs.be64(0).expect("nia"), 0x80);
        assert_eq!(regs.be64(8).expect("msr"), 0x9000_0000_0000_0000);
    }

    #[test]
    fn naca_points_at_spira_h_only() {
        let b = naca(SPIRAH_OFFSET);
        assert_eq!(&b[..8], &[0, 0, 0, 0, 0, 1, 0x04, 0]);
        assert!(b[8..].iter().all(|&x| x == 0));
    }

    #[test]
    fn templates_fit_between_their_offsets() {
        assert!(NACA_OFFSET + NACA_LEN as u64 <= SPIRAH_OFFSET);
        assert!(SPIRAH_OFFSET + SPIRAH_LEN as u64 <= PROCIN_OFFSET);
    }
}
