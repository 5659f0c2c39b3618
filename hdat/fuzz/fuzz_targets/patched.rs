//! The real POWER9 dump, cut and patched by the fuzzer, so damage reaches every parser stage:
//! the input is a 4-byte length (the dump is cut there, modulo its size plus one, when its top
//! bit is set) followed by 5-byte patches (a 4-byte offset into the dump, a byte to store
//! there). Any result but a panic is fine, and a tree must flatten into a valid FDT.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxiboot_devtree::{to_fdt, validate_fdt, FdtOptions};
use oxiboot_hdat::{parse, PVR_P9_NIMBUS_DD20};
use std::cell::RefCell;

const HEAP: &[u8] = include_bytes!("../../tests/data/op920.wsp.heap");
const SPIRAH: &[u8] = include_bytes!("../../tests/data/p8-840-spira.spirah");
const BASE: u64 = 0x3120_0000;

thread_local! {
    /// A working copy of the dump, patched and restored for each input (copying 2.6 MB per
    /// run would dominate the run time).
    static WORK: RefCell<Vec<u8>> = RefCell::new(HEAP.to_vec());
}

fuzz_target!(|data: &[u8]| {
    let Some((len, patches)) = data.split_first_chunk::<4>() else { return };
    let len = u32::from_be_bytes(*len);
    let keep =
        if len & 0x8000_0000 != 0 { (len as usize & 0x7fff_ffff) % (HEAP.len() + 1) } else { HEAP.len() };
    WORK.with(|w| {
        let mut heap = w.borrow_mut();
        let mut undo = Vec::new();
        for p in patches.chunks_exact(5) {
            let at = u32::from_be_bytes([p[0], p[1], p[2], p[3]]) as usize % HEAP.len();
            undo.push((at, heap[at]));
            heap[at] = p[4];
        }
        if let Ok(tree) = parse(&heap[..keep], BASE, SPIRAH, PVR_P9_NIMBUS_DD20) {
            assert_eq!(validate_fdt(&to_fdt(&tree, &FdtOptions::default())), Ok(()));
        }
        for (at, b) in undo.into_iter().rev() {
            heap[at] = b;
        }
    });
});
