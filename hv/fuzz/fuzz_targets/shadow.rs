//! Shadow-table decisions on arbitrary L1 trees: L1 memory is the fuzz input (a small image
//! the walk reads from, anything outside it unreadable), followed by the PATE, the faulting
//! address and the access. Whatever the tree holds, the decision never panics and never maps
//! outside the L1's memory; the invalidation parsers accept or reject any arguments cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxiboot_hv::nested::shadow::{fault_decision, parse_rpt_invalidate, parse_tlb_invalidate, ShadowFault, SHADOW_PAGE};
use oxiboot_hv::radix::{walk_access, Access};

/// L1 memory size the decisions are made against.
const L1_BYTES: u64 = 1 << 30;

fn word(data: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = data.get(at + i).copied().unwrap_or(0);
    }
    u64::from_be_bytes(bytes)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 64 {
        return;
    }
    let (head, image) = data.split_at(64);
    let pate0 = word(head, 0);
    let address = word(head, 8);
    let access = match head[16] % 3 {
        0 => Access::Load,
        1 => Access::Store,
        _ => Access::Fetch,
    };
    // The image sits at L1 real 0, tables wherever the entries say (most point outside).
    let read = |pa: u64| {
        let at = usize::try_from(pa).ok()?;
        (at % 8 == 0 && at + 8 <= image.len()).then(|| word(image, at))
    };
    let walk = walk_access(read, pate0, address, access);
    if let ShadowFault::Map { l2_page, l1_page, .. } = fault_decision(address, access, walk, L1_BYTES) {
        assert_eq!(l2_page % SHADOW_PAGE, 0);
        assert_eq!(l1_page % SHADOW_PAGE, 0);
        assert!(l1_page + SHADOW_PAGE <= L1_BYTES);
    }
    let args: Vec<u64> = (0..6).map(|i| word(head, 17 + 8 * i)).collect();
    let _ = parse_rpt_invalidate(args[0], args[1], args[2], args[3], args[4], args[5]);
    let _ = parse_tlb_invalidate(args[0], args[1], args[2]);
});
