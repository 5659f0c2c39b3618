//! Damaged HDAT: truncated dumps, flipped bytes and moved pointers must produce an error or a
//! tree, never a panic; specific damage must produce the specific error naming it.

use oxiboot_devtree::{to_fdt, validate_fdt, FdtOptions};
use oxiboot_hdat::{parse, HdatError, PVR_P9_NIMBUS_DD20};

const HEAP: &[u8] = include_bytes!("data/op920.wsp.heap");
const SPIRAH: &[u8] = include_bytes!("data/p8-840-spira.spirah");
/// Where the heap was mapped (SPIRA-H's host data area address).
const BASE: u64 = 0x3120_0000;

/// Window offset of SPIRA-S n-tuple `k` (the array starts 0x40 bytes in, 0x20 per n-tuple).
fn tuple(k: usize) -> usize {
    0x40 + 0x20 * k
}
const SP_SUBSYS: usize = 0;
const SLCA: usize = 3;
const MS_VPD: usize = 10;
const PCIA: usize = 12;
const PROC_CHIP: usize = 13;
const IPMI: usize = 16;
const STB: usize = 17;

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}
fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().unwrap())
}
fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}
fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}
fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_be_bytes());
}

/// Window offset of the first instance of n-tuple `k`.
fn first(k: usize) -> usize {
    (be64(HEAP, tuple(k)) - BASE) as usize
}

/// Window offset of internal data block `i` of the HDIF structure at `h`.
fn idata(b: &[u8], h: usize, i: usize) -> usize {
    h + be32(b, h + be32(b, h + 20) as usize + 8 * i) as usize
}

fn run(heap: &[u8]) -> Result<(), HdatError> {
    run_with(heap, BASE, SPIRAH)
}

/// Parses; a tree that comes out must flatten into a valid FDT.
fn run_with(heap: &[u8], base: u64, spirah: &[u8]) -> Result<(), HdatError> {
    let tree = parse(heap, base, spirah, PVR_P9_NIMBUS_DD20)?;
    let blob = to_fdt(&tree, &FdtOptions::default());
    assert_eq!(validate_fdt(&blob), Ok(()), "a tree built from damaged data must still flatten");
    Ok(())
}

fn patched(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut h = HEAP.to_vec();
    f(&mut h);
    h
}

#[test]
fn the_intact_dump_parses() {
    assert_eq!(run(HEAP), Ok(()));
}

#[test]
fn truncated_dumps_fail_cleanly() {
    let stb = first(STB);
    let mut lengths = vec![0, 1, 2, 16, 31, 32, 0x3f, 0x40, 0x27f, 0x280, HEAP.len() - 1];
    for k in 0..18 {
        let a = be64(HEAP, tuple(k));
        if a != 0 {
            let off = (a - BASE) as usize;
            lengths.extend([off, off + 1, off + 0x1f, off + 0x20, off + 0x40]);
        }
    }
    lengths.extend((1..48).map(|i| HEAP.len() * i / 48));
    for n in lengths {
        let n = n.min(HEAP.len());
        let r = run(&HEAP[..n]);
        if n <= stb + 0x20 {
            assert!(r.is_err(), "a dump cut at {n:#x} (before the last structure) must be an error");
        }
    }
}

/// Offsets of HDIF headers in the dump (magic then six printable characters), at most three
/// of each kind.
fn headers() -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    let mut seen: Vec<([u8; 6], usize)> = Vec::new();
    for at in (0..HEAP.len() - 32).step_by(2) {
        if be16(HEAP, at) != 0xd1f0 || !HEAP[at + 2..at + 8].iter().all(|c| (0x20..0x7f).contains(c)) {
            continue;
        }
        let id: [u8; 6] = HEAP[at + 2..at + 8].try_into().unwrap();
        match seen.iter_mut().find(|(i, _)| *i == id) {
            Some((_, n)) if *n >= 3 => continue,
            Some((_, n)) => *n += 1,
            None => seen.push((id, 1)),
        }
        out.push(at);
    }
    out
}

#[test]
fn flipped_header_bytes_never_panic() {
    let hs = headers();
    assert!(hs.len() > 25, "found {} HDIF headers", hs.len());
    let mut errors = 0;
    for &h in &hs {
        let idptr = h + be32(HEAP, h + 20) as usize;
        // Magic, eye-catcher, version, lengths, pointer tables, first internal data pointer.
        for off in [h, h + 2, h + 7, h + 11, h + 15, h + 19, h + 23, h + 25, h + 27, h + 31, idptr, idptr + 4]
        {
            if off >= HEAP.len() {
                continue;
            }
            let d = patched(|b| b[off] ^= 0xff);
            errors += usize::from(run(&d).is_err());
        }
    }
    assert!(errors > hs.len(), "most header damage is detected ({errors} errors)");
}

#[test]
fn flipped_bytes_anywhere_never_panic() {
    // A fixed pseudo-random sequence (64-bit LCG), so failures reproduce.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..160 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let at = (x >> 17) as usize % HEAP.len();
        let v = [0x00, 0xff, 0x80, 0x01][i % 4];
        let d = patched(|b| b[at] = v);
        let _ = run(&d);
    }
    // The SPIRA-S n-tuple array is where every pointer comes from: damage each byte of it.
    for at in (0x30..0x280).step_by(3) {
        let d = patched(|b| b[at] ^= 0x5a);
        let _ = run(&d);
    }
}

#[test]
fn pointers_outside_the_window_are_named() {
    let end = BASE + HEAP.len() as u64;
    for addr in [end, end + 0x1000, BASE - 0x100, 0x10, u64::MAX] {
        let d = patched(|b| put64(b, tuple(PROC_CHIP), addr));
        assert_eq!(run(&d), Err(HdatError::AddressOutOfWindow { what: "SPIRA-S processor chips", addr }));
    }
    // A structure whose header would run past the end of the window.
    let d = patched(|b| put64(b, tuple(MS_VPD), end - 8));
    assert!(matches!(run(&d), Err(HdatError::Truncated { what: "MS VPD", .. })), "{:?}", run(&d));
    // The window mapped at the wrong address: SPIRA-S is then below it.
    assert_eq!(
        run_with(HEAP, BASE + 0x10, SPIRAH),
        Err(HdatError::AddressOutOfWindow { what: "SPIRA-S", addr: BASE })
    );
    // An internal data block that runs past the window.
    let ms = first(MS_VPD);
    let ptr = ms + be32(HEAP, ms + 20) as usize + 8 * 2;
    let d = patched(|b| put32(b, ptr + 4, 0x7fff_ffff));
    assert!(matches!(run(&d), Err(HdatError::Truncated { what: "MS VPD", .. })), "{:?}", run(&d));
}

#[test]
fn bad_eye_catchers_are_named() {
    let d = patched(|b| b[0] = 0);
    assert_eq!(run(&d), Err(HdatError::BadEyeCatcher { expected: "SPIRAS", found: [0; 6] }));
    let chip = first(PROC_CHIP);
    let d = patched(|b| b[chip + 2] = b'X');
    assert_eq!(run(&d), Err(HdatError::BadEyeCatcher { expected: "SPPCRD", found: *b"XPPCRD" }));
    // The second instance is checked too (skiboot only checks the first).
    let stride = be32(HEAP, tuple(PROC_CHIP) + 12) as usize;
    let d = patched(|b| b[chip + stride + 7] = b'?');
    assert_eq!(run(&d), Err(HdatError::BadEyeCatcher { expected: "SPPCRD", found: *b"SPPCR?" }));
    let sp = first(SP_SUBSYS);
    let d = patched(|b| b[sp + 3] = b'!');
    assert_eq!(run(&d), Err(HdatError::BadEyeCatcher { expected: "SPINFO", found: *b"S!INFO" }));
    let mut spirah = SPIRAH.to_vec();
    spirah[2] = b'x';
    assert_eq!(
        run_with(HEAP, BASE, &spirah),
        Err(HdatError::BadEyeCatcher { expected: "SPIRAH", found: *b"xPIRAH" })
    );
}

#[test]
fn counts_past_their_section_are_named() {
    let slca = first(SLCA);
    let arr = idata(HEAP, slca, 0);
    let available = u64::from(be32(HEAP, be32(HEAP, slca + 20) as usize + slca + 4));
    let d = patched(|b| put32(b, arr + 4, 0x1_0000));
    assert_eq!(
        run(&d),
        Err(HdatError::CountPastSection {
            what: "SLCA entries",
            count: 0x1_0000,
            elem_size: 0x68,
            available
        })
    );
    let ipmi = first(IPMI);
    let sensors = idata(HEAP, ipmi, 0);
    let d = patched(|b| put32(b, sensors, 1_000_000));
    assert!(matches!(
        run(&d),
        Err(HdatError::CountPastSection { what: "IPMI sensors", count: 1_000_000, .. })
    ));
    // More cores than allocated, then more than the window holds.
    let d = patched(|b| put16(b, tuple(PCIA) + 10, be16(HEAP, tuple(PCIA) + 8) + 1));
    assert_eq!(run(&d), Err(HdatError::BadNtuple { what: "SPIRA-S PCIA" }));
    let d = patched(|b| {
        put16(b, tuple(PCIA) + 8, 0xffff);
        put16(b, tuple(PCIA) + 10, 0xffff);
    });
    assert!(run(&d).is_err());
    // A child array longer than its parent's area.
    let ms = first(MS_VPD);
    let child = ms + be32(HEAP, ms + 28) as usize;
    let d = patched(|b| put32(b, child + 8, u32::MAX));
    assert!(run(&d).is_err());
}

#[test]
fn unsupported_versions_are_named() {
    let d = patched(|b| put16(b, 10, 0x30));
    assert_eq!(run(&d), Err(HdatError::UnsupportedVersion { what: "SPIRA-S", version: 0x30 }));
    let mut spirah = SPIRAH.to_vec();
    put16(&mut spirah, 10, 0x20);
    assert_eq!(
        run_with(HEAP, BASE, &spirah),
        Err(HdatError::UnsupportedVersion { what: "SPIRA-H", version: 0x20 })
    );
    for n in [0, 8, 0x3f, 0x47] {
        assert!(
            matches!(run_with(HEAP, BASE, &SPIRAH[..n]), Err(HdatError::Truncated { .. })),
            "SPIRA-H cut at {n}"
        );
    }
}

#[test]
fn errors_read_well() {
    let e = HdatError::AddressOutOfWindow { what: "SPIRA-S PCIA", addr: 0x10 };
    assert_eq!(e.to_string(), "SPIRA-S PCIA: address 0x10 is outside the mapped HDAT window");
    let e = HdatError::BadEyeCatcher { expected: "SPPCRD", found: *b"SP\x00CRD" };
    assert_eq!(e.to_string(), "bad HDIF header: expected eye-catcher \"SPPCRD\", found \"SP\\x00CRD\"");
    let e = HdatError::CountPastSection { what: "SLCA entries", count: 3, elem_size: 0x68, available: 0x10 };
    assert_eq!(
        e.to_string(),
        "SLCA entries: 3 elements of 0x68 bytes do not fit in the 0x10 bytes of their block"
    );
}
