//! `kvmtest`: runs inside a Linux L1 (an LPAR with nested virtualization, or QEMU `pseries`
//! with `cap-nested-papr=on`) and drives KVM-HV through `/dev/kvm` directly — no QEMU — to
//! run tiny L2 guests (`oxiboot_kvmtest::guest`). Each check prints `KVMTEST <name> ok ...` or
//! `KVMTEST <name> FAIL ...`; the last line is `KVMTEST summary passed=P failed=F`.
//!
//! A static freestanding ppc64le program (no libc): built for the firmware's bare-metal
//! target, it talks to the kernel with `sc` (`sys.rs`). Arguments: `cycles=N` (create/delete
//! cycles, default 1000). Built on the host it only says so (its logic is tested in the lib).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod sys;
#[cfg(target_os = "none")]
mod tests;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("kvmtest runs inside a ppc64le Linux L1 (cargo xtask builds it for that)");
    std::process::exit(2);
}

#[cfg(target_os = "none")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "    lis   2, .TOC.@ha",
    "    addi  2, 2, .TOC.@l",
    "    mr    3, 1", // argc, argv[] at the initial stack pointer
    "    clrrdi 1, 1, 4",
    "    addi  1, 1, -128",
    "    li    0, 0",
    "    std   0, 0(1)", // null back chain
    "    bl    kvmtest_start",
    "    trap",
);

/// Entry from `_start` with the initial stack (argc, then argv).
///
/// # Safety
/// `stack` is the process's initial stack as the kernel built it.
#[cfg(target_os = "none")]
#[no_mangle]
unsafe extern "C" fn kvmtest_start(stack: *const u64) -> ! {
    // SAFETY: the kernel's initial stack: argc then argc pointers to NUL-terminated strings.
    let argc = unsafe { *stack } as usize;
    let mut cycles = 1000;
    for i in 1..argc.min(16) {
        // SAFETY: as above.
        let arg = unsafe { cstr(*stack.add(1 + i) as *const u8) };
        if let Some(n) = arg.strip_prefix(b"cycles=").and_then(parse_u32) {
            cycles = n;
        }
    }
    let failed = tests::run_all(cycles);
    sys::exit(u64::from(failed != 0))
}

/// The NUL-terminated string at `p` (at most 256 bytes).
///
/// # Safety
/// `p` points at a NUL-terminated string.
#[cfg(target_os = "none")]
unsafe fn cstr<'a>(p: *const u8) -> &'a [u8] {
    let mut n = 0;
    // SAFETY: the caller's string is NUL-terminated.
    while n < 256 && unsafe { *p.add(n) } != 0 {
        n += 1;
    }
    // SAFETY: the first n bytes were just read.
    unsafe { core::slice::from_raw_parts(p, n) }
}

#[cfg(target_os = "none")]
fn parse_u32(s: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    if s.is_empty() {
        return None;
    }
    for &c in s {
        v = v.checked_mul(10)?.checked_add(u32::from(c.checked_sub(b'0').filter(|d| *d < 10)?))?;
    }
    Some(v)
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::fmt::Write;
    let mut line = tests::Line::<512>::new();
    let _ = write!(line, "KVMTEST panic {info}");
    line.print();
    sys::exit(3)
}
