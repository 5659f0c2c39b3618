//! Linux system calls on ppc64le, made directly (`sc`): r0 = number, r3..r8 = arguments,
//! result in r3 with CR0[SO] set on error (r3 then holds the errno).

use core::arch::asm;

/// `write`.
const WRITE: u64 = 4;
/// `close`.
const CLOSE: u64 = 6;
/// `ioctl`.
const IOCTL: u64 = 54;
/// `mmap`.
const MMAP: u64 = 90;
/// `munmap`.
const MUNMAP: u64 = 91;
/// `setitimer`.
const SETITIMER: u64 = 104;
/// `rt_sigaction`.
const RT_SIGACTION: u64 = 173;
/// `exit_group`.
const EXIT_GROUP: u64 = 234;
/// `clock_gettime`.
const CLOCK_GETTIME: u64 = 246;
/// `openat`.
const OPENAT: u64 = 286;

/// `EINTR`.
pub const EINTR: i64 = 4;

fn syscall(nr: u64, a: [u64; 6]) -> Result<u64, i64> {
    let ret: u64;
    let cr: u64;
    // SAFETY: a Linux system call; every register the kernel may change is declared.
    unsafe {
        asm!(
            "sc",
            "mfcr {cr}",
            cr = out(reg) cr,
            inlateout("r0") nr => _,
            inlateout("r3") a[0] => ret,
            inlateout("r4") a[1] => _,
            inlateout("r5") a[2] => _,
            inlateout("r6") a[3] => _,
            inlateout("r7") a[4] => _,
            inlateout("r8") a[5] => _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            out("r12") _,
            out("ctr") _,
            out("xer") _,
            out("cr0") _,
            options(nostack),
        );
    }
    if (cr >> 28) & 1 != 0 {
        Err(ret as i64)
    } else {
        Ok(ret)
    }
}

/// Writes all of `bytes` to `fd` (best effort).
pub fn write(fd: u64, bytes: &[u8]) {
    let mut done = 0;
    while done < bytes.len() {
        match syscall(WRITE, [fd, bytes[done..].as_ptr() as u64, (bytes.len() - done) as u64, 0, 0, 0]) {
            Ok(n) if n > 0 => done += n as usize,
            _ => return,
        }
    }
}

/// Ends the process.
pub fn exit(code: u64) -> ! {
    let _ = syscall(EXIT_GROUP, [code, 0, 0, 0, 0, 0]);
    loop {
        core::hint::spin_loop();
    }
}

/// Opens `path` (NUL-terminated) read-write, close-on-exec.
pub fn open_rw(path: &[u8]) -> Result<u64, i64> {
    const AT_FDCWD: i64 = -100;
    const O_RDWR_CLOEXEC: u64 = 2 | 0x8_0000;
    syscall(OPENAT, [AT_FDCWD as u64, path.as_ptr() as u64, O_RDWR_CLOEXEC, 0, 0, 0])
}

/// Closes `fd`.
pub fn close(fd: u64) {
    let _ = syscall(CLOSE, [fd, 0, 0, 0, 0, 0]);
}

/// `ioctl(fd, request, arg)`.
pub fn ioctl(fd: u64, request: u64, arg: u64) -> Result<u64, i64> {
    syscall(IOCTL, [fd, request, arg, 0, 0, 0])
}

/// Maps `len` bytes: anonymous private memory (`fd` None) or shared from `fd`.
pub fn mmap(len: usize, fd: Option<u64>) -> Result<*mut u8, i64> {
    const PROT_RW: u64 = 3;
    const MAP_SHARED: u64 = 1;
    const MAP_PRIVATE_ANON: u64 = 2 | 0x20;
    let (flags, fd) = match fd {
        Some(fd) => (MAP_SHARED, fd),
        None => (MAP_PRIVATE_ANON, u64::MAX),
    };
    syscall(MMAP, [0, len as u64, PROT_RW, flags, fd, 0]).map(|a| a as *mut u8)
}

/// Unmaps what [`mmap`] gave.
pub fn munmap(addr: *mut u8, len: usize) {
    let _ = syscall(MUNMAP, [addr as u64, len as u64, 0, 0, 0, 0]);
}

/// Monotonic time in nanoseconds.
pub fn now_ns() -> u64 {
    const CLOCK_MONOTONIC: u64 = 1;
    let mut ts = [0u64; 2];
    let _ = syscall(CLOCK_GETTIME, [CLOCK_MONOTONIC, ts.as_mut_ptr() as u64, 0, 0, 0, 0]);
    ts[0] * 1_000_000_000 + ts[1]
}

extern "C" fn on_alarm(_signal: i32) {}

/// Makes SIGALRM interrupt system calls (KVM_RUN returns EINTR) instead of killing us.
pub fn catch_alarm() -> Result<(), i64> {
    const SIGALRM: u64 = 14;
    // struct sigaction as the kernel reads it: handler, flags, restorer, mask.
    let handler: extern "C" fn(i32) = on_alarm;
    let action: [u64; 4] = [handler as usize as u64, 0, 0, 0];
    syscall(RT_SIGACTION, [SIGALRM, action.as_ptr() as u64, 0, 8, 0, 0]).map(|_| ())
}

/// Delivers one SIGALRM after `us` microseconds.
pub fn alarm_in_us(us: u64) -> Result<(), i64> {
    const ITIMER_REAL: u64 = 0;
    let value: [u64; 4] = [0, 0, us / 1_000_000, us % 1_000_000];
    syscall(SETITIMER, [ITIMER_REAL, value.as_ptr() as u64, 0, 0, 0, 0]).map(|_| ())
}
