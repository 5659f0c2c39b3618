//! The checks `kvmtest` runs, each on fresh L2 guests.

use crate::sys;
use core::fmt::{self, Write};
use oxiboot_kvmtest::guest::{self, report, Program};
use oxiboot_kvmtest::kvm::{self, MemoryRegion, MmuV3Config, Regs};

/// One output line of up to `N` bytes, built without an allocator.
pub struct Line<const N: usize = 512> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Line<N> {
    /// An empty line.
    pub const fn new() -> Self {
        Line { buf: [0; N], len: 0 }
    }

    /// Prints the line (with a newline) on standard output.
    pub fn print(&mut self) {
        let _ = self.write_str("\n");
        sys::write(1, &self.buf[..self.len]);
    }
}

impl<const N: usize> Write for Line<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

macro_rules! say {
    ($($arg:tt)*) => {{
        let mut line = Line::<512>::new();
        let _ = write!(line, $($arg)*);
        line.print();
    }};
}

type Check = Result<(), Failure>;

/// Why a check failed (a short message).
pub struct Failure(Line<FAILURE_LEN>);

/// Longest failure message kept.
const FAILURE_LEN: usize = 112;

macro_rules! fail {
    ($($arg:tt)*) => {{
        let mut line = Line::<FAILURE_LEN>::new();
        let _ = write!(line, $($arg)*);
        return Err(Failure(line));
    }};
}

/// Guest memory of every test VM, and where the guests put data.
const MEMORY: usize = 4 << 20;
const DATA: u32 = 0x10_0000;

/// An L2 guest (a KVM-HV VM) with `MEMORY` bytes at guest physical 0 in slot 0.
struct Vm {
    fd: u64,
    memory: *mut u8,
}

impl Vm {
    fn new(kvm: u64) -> Result<Vm, Failure> {
        let fd = match sys::ioctl(kvm, kvm::CREATE_VM, kvm::VM_PPC_HV) {
            Ok(fd) => fd,
            Err(e) => fail!("KVM_CREATE_VM: errno {e}"),
        };
        let mmu = MmuV3Config { flags: kvm::MMUV3_RADIX | kvm::MMUV3_GTSE, process_table: kvm::PATB_GR };
        if let Err(e) = sys::ioctl(fd, kvm::PPC_CONFIGURE_V3_MMU, &mmu as *const _ as u64) {
            sys::close(fd);
            fail!("KVM_PPC_CONFIGURE_V3_MMU (radix): errno {e}");
        }
        let memory = match sys::mmap(MEMORY, None) {
            Ok(m) => m,
            Err(e) => {
                sys::close(fd);
                fail!("mmap guest memory: errno {e}");
            }
        };
        let vm = Vm { fd, memory };
        vm.set_slot(0, 0, memory, MEMORY)?;
        Ok(vm)
    }

    fn set_slot(&self, slot: u32, guest: u64, host: *mut u8, size: usize) -> Check {
        let region = MemoryRegion {
            slot,
            flags: 0,
            guest_phys_addr: guest,
            memory_size: size as u64,
            userspace_addr: host as u64,
        };
        match sys::ioctl(self.fd, kvm::SET_USER_MEMORY_REGION, &region as *const _ as u64) {
            Ok(_) => Ok(()),
            Err(e) => fail!("KVM_SET_USER_MEMORY_REGION slot {slot} size {size:#x}: errno {e}"),
        }
    }

    fn load(&self, program: &Program) {
        // SAFETY: the guest memory mapping is MEMORY bytes long and ours.
        let mem = unsafe { core::slice::from_raw_parts_mut(self.memory, MEMORY) };
        program.bytes(&mut mem[guest::ENTRY as usize..]);
    }

    fn read_u64(&self, addr: u32) -> u64 {
        // SAFETY: callers pass addresses inside guest memory, 8-byte aligned.
        unsafe { core::ptr::read_volatile(self.memory.add(addr as usize) as *const u64) }
    }

    fn write_u64(&self, addr: u32, value: u64) {
        // SAFETY: as read_u64.
        unsafe { core::ptr::write_volatile(self.memory.add(addr as usize) as *mut u64, value) }
    }

    fn vcpu(&self, id: u64, gprs: &[(usize, u64)], run_size: usize) -> Result<Vcpu, Failure> {
        let fd = match sys::ioctl(self.fd, kvm::CREATE_VCPU, id) {
            Ok(fd) => fd,
            Err(e) => fail!("KVM_CREATE_VCPU {id}: errno {e}"),
        };
        let run = match sys::mmap(run_size, Some(fd)) {
            Ok(r) => r,
            Err(e) => {
                sys::close(fd);
                fail!("mmap kvm_run: errno {e}");
            }
        };
        let vcpu = Vcpu { fd, run, run_size };
        let papr = kvm::EnableCap { cap: kvm::CAP_PPC_PAPR, flags: 0, args: [0; 4], pad: [0; 64] };
        if let Err(e) = sys::ioctl(fd, kvm::ENABLE_CAP, &papr as *const _ as u64) {
            fail!("KVM_ENABLE_CAP(PPC_PAPR): errno {e}");
        }
        let mut regs = Regs { pc: guest::ENTRY, msr: kvm::GUEST_MSR, ..Regs::default() };
        for &(r, v) in gprs {
            regs.gpr[r] = v;
        }
        if let Err(e) = sys::ioctl(fd, kvm::SET_REGS, &regs as *const _ as u64) {
            fail!("KVM_SET_REGS: errno {e}");
        }
        Ok(vcpu)
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        sys::close(self.fd);
        sys::munmap(self.memory, MEMORY);
    }
}

/// A vCPU of a [`Vm`] and its shared `kvm_run` page.
struct Vcpu {
    fd: u64,
    run: *mut u8,
    run_size: usize,
}

/// What a guest reported through its hcall.
struct Hcall {
    nr: u64,
    args: [u64; 9],
}

impl Vcpu {
    fn run_field(&self, at: usize) -> u64 {
        // SAFETY: `at` is a field offset inside the mapped kvm_run structure.
        unsafe { core::ptr::read_volatile(self.run.add(at) as *const u64) }
    }

    fn exit_reason(&self) -> u32 {
        // SAFETY: as run_field.
        unsafe { core::ptr::read_volatile(self.run.add(kvm::run::EXIT_REASON) as *const u32) }
    }

    /// Runs until the guest's next report; `ret` is what its previous hcall returns in r3.
    fn next_hcall(&self, ret: u64) -> Result<Hcall, Failure> {
        // SAFETY: as run_field (the return value of the previous hcall).
        unsafe { core::ptr::write_volatile(self.run.add(kvm::run::HCALL_RET) as *mut u64, ret) };
        if let Err(e) = sys::ioctl(self.fd, kvm::RUN, 0) {
            fail!("KVM_RUN: errno {e} (exit reason {})", self.exit_reason());
        }
        match self.exit_reason() {
            kvm::EXIT_PAPR_HCALL => {
                let mut args = [0u64; 9];
                for (i, a) in args.iter_mut().enumerate() {
                    *a = self.run_field(kvm::run::HCALL_ARGS + 8 * i);
                }
                Ok(Hcall { nr: self.run_field(kvm::run::HCALL_NR), args })
            }
            kvm::EXIT_MMIO => {
                fail!("guest access outside its memory at {:#x}", self.run_field(kvm::run::MMIO_ADDR))
            }
            other => fail!("unexpected exit reason {other}"),
        }
    }

    fn expect(&self, ret: u64, nr: u64) -> Result<[u64; 9], Failure> {
        let h = self.next_hcall(ret)?;
        if h.nr != nr {
            fail!("guest made hcall {:#x}, expected {nr:#x}", h.nr);
        }
        Ok(h.args)
    }

    fn pc(&self) -> u64 {
        let mut regs = Regs::default();
        let _ = sys::ioctl(self.fd, kvm::GET_REGS, &mut regs as *mut _ as u64);
        regs.pc
    }
}

impl Drop for Vcpu {
    fn drop(&mut self) {
        sys::munmap(self.run, self.run_size);
        sys::close(self.fd);
    }
}

/// Runs every check; returns how many failed.
pub fn run_all(cycles: u32) -> u32 {
    let kvm = match sys::open_rw(b"/dev/kvm\0") {
        Ok(fd) => fd,
        Err(e) => {
            say!("KVMTEST open FAIL: /dev/kvm: errno {e}");
            say!("KVMTEST summary passed=0 failed=1");
            return 1;
        }
    };
    let api = sys::ioctl(kvm, kvm::GET_API_VERSION, 0).unwrap_or(0);
    let run_size = sys::ioctl(kvm, kvm::GET_VCPU_MMAP_SIZE, 0).unwrap_or(0) as usize;
    say!("KVMTEST start api={api} run_size={run_size} cycles={cycles}");
    let checks: [(&str, &dyn Fn() -> Check); 7] = [
        ("registers", &|| registers(kvm, run_size)),
        ("pages", &|| pages(kvm, run_size)),
        ("remap", &|| remap(kvm, run_size)),
        ("timer", &|| timer(kvm, run_size)),
        ("two-vcpus", &|| two_vcpus(kvm, run_size)),
        ("several-guests", &|| several_guests(kvm, run_size)),
        ("create-delete", &|| create_delete(kvm, run_size, cycles)),
    ];
    let (mut passed, mut failed) = (0, 0);
    for (name, check) in checks {
        let start = sys::now_ns();
        match check() {
            Ok(()) => {
                passed += 1;
                say!("KVMTEST {name} ok ({} ms)", (sys::now_ns() - start) / 1_000_000);
            }
            Err(Failure(why)) => {
                failed += 1;
                let mut line = Line::<512>::new();
                let _ = write!(line, "KVMTEST {name} FAIL: ");
                let n = why.len.min(line.buf.len() - line.len);
                line.buf[line.len..line.len + n].copy_from_slice(&why.buf[..n]);
                line.len += n;
                line.print();
            }
        }
    }
    say!("KVMTEST summary passed={passed} failed={failed}");
    sys::close(kvm);
    failed
}

/// Registers pass both ways through an L2 hcall exit.
fn registers(kvm: u64, run_size: usize) -> Check {
    let vm = Vm::new(kvm)?;
    vm.load(&guest::registers());
    let vcpu = vm.vcpu(0, &[], run_size)?;
    let args = vcpu.expect(0, report::REGISTERS)?;
    for (i, &a) in args.iter().enumerate() {
        if a != 0x104 + i as u64 {
            fail!("r{} = {a:#x} at the hcall, expected {:#x}", 4 + i, 0x104 + i as u64);
        }
    }
    let echo = vcpu.expect(0x1234_5678_9abc_def0, report::ECHO)?;
    if echo[0] != 0x1234_5678_9abc_def0 {
        fail!("the guest saw r3 = {:#x} after its hcall, not the value returned", echo[0]);
    }
    Ok(())
}

/// An L2 writes 512 pages it has never touched (each a fault the L1 must map).
fn pages(kvm: u64, run_size: usize) -> Check {
    const COUNT: u16 = 512;
    let vm = Vm::new(kvm)?;
    vm.load(&guest::pages(DATA, COUNT));
    let vcpu = vm.vcpu(0, &[], run_size)?;
    let args = vcpu.expect(0, report::PAGES)?;
    if args[0] != u64::from(COUNT) {
        fail!("guest reports {} pages written", args[0]);
    }
    for i in 0..u32::from(COUNT) {
        let v = vm.read_u64(DATA + i * 0x1000);
        if v != u64::from(i) {
            fail!("page {i}: the L1 sees {v:#x}, the L2 wrote {i:#x}");
        }
    }
    Ok(())
}

/// The L1 moves a guest page to other memory: the L2 must see the new memory.
fn remap(kvm: u64, run_size: usize) -> Check {
    const WINDOW: u32 = 0x80_0000;
    const SIZE: usize = 0x1_0000;
    let vm = Vm::new(kvm)?;
    vm.load(&guest::reader(WINDOW));
    let first = sys::mmap(SIZE, None).map_err(|e| failure(format_args!("mmap: errno {e}")))?;
    let second = sys::mmap(SIZE, None).map_err(|e| failure(format_args!("mmap: errno {e}")))?;
    // SAFETY: both mappings are SIZE bytes, ours.
    unsafe {
        (first as *mut u64).write_volatile(0x1111_2222_3333_4444);
        (second as *mut u64).write_volatile(0x5555_6666_7777_8888);
    }
    let result = (|| {
        vm.set_slot(1, WINDOW.into(), first, SIZE)?;
        let vcpu = vm.vcpu(0, &[], run_size)?;
        let seen = vcpu.expect(0, report::READ)?[0];
        if seen != 0x1111_2222_3333_4444 {
            fail!("before the move the guest read {seen:#x}");
        }
        vm.set_slot(1, WINDOW.into(), first, 0)?;
        vm.set_slot(1, WINDOW.into(), second, SIZE)?;
        let seen = vcpu.expect(0, report::READ)?[0];
        if seen != 0x5555_6666_7777_8888 {
            fail!("after the move the guest read {seen:#x} (a stale translation)");
        }
        Ok(())
    })();
    sys::munmap(first, SIZE);
    sys::munmap(second, SIZE);
    result
}

/// An L2 that never exits by itself still gives the L1 its CPU back (timer), and resumes.
fn timer(kvm: u64, run_size: usize) -> Check {
    let vm = Vm::new(kvm)?;
    vm.load(&guest::spinner(DATA));
    let vcpu = vm.vcpu(0, &[], run_size)?;
    sys::catch_alarm().map_err(|e| failure(format_args!("rt_sigaction: errno {e}")))?;
    let mut last = 0;
    for round in 0..3 {
        sys::alarm_in_us(50_000).map_err(|e| failure(format_args!("setitimer: errno {e}")))?;
        match sys::ioctl(vcpu.fd, kvm::RUN, 0) {
            Err(sys::EINTR) => {}
            Err(e) => fail!("round {round}: KVM_RUN errno {e}"),
            Ok(_) if vcpu.exit_reason() == kvm::EXIT_INTR => {}
            Ok(_) => fail!("round {round}: exit reason {} from a guest that never exits", vcpu.exit_reason()),
        }
        let count = vm.read_u64(DATA);
        if count <= last {
            fail!("round {round}: the guest's counter went {last} -> {count} (did not run)");
        }
        last = count;
    }
    if vcpu.pc() >= 0x100 {
        fail!("the guest's pc {:#x} is outside its loop", vcpu.pc());
    }
    Ok(())
}

/// Two vCPUs of one L2, run in turn, each with its own registers.
fn two_vcpus(kvm: u64, run_size: usize) -> Check {
    let vm = Vm::new(kvm)?;
    vm.load(&guest::vcpu_id());
    let a = vm.vcpu(0, &[(4, 0x42), (5, DATA.into())], run_size)?;
    let b = vm.vcpu(1, &[(4, 0x43), (5, u64::from(DATA) + 8)], run_size)?;
    for round in 0..3 {
        for (vcpu, id) in [(&a, 0x42), (&b, 0x43)] {
            let got = vcpu.expect(0, report::VCPU)?[0];
            if got != id {
                fail!("round {round}: vCPU {id:#x} reported {got:#x}");
            }
        }
    }
    if (vm.read_u64(DATA), vm.read_u64(DATA + 8)) != (0x42, 0x43) {
        fail!("the vCPUs' stores read back {:#x}, {:#x}", vm.read_u64(DATA), vm.read_u64(DATA + 8));
    }
    Ok(())
}

/// Four L2s at once, interleaved, each seeing only its own memory.
fn several_guests(kvm: u64, run_size: usize) -> Check {
    let vms = [Vm::new(kvm)?, Vm::new(kvm)?, Vm::new(kvm)?, Vm::new(kvm)?];
    let mut vcpus = [None, None, None, None];
    for (i, vm) in vms.iter().enumerate() {
        vm.load(&guest::reader(DATA));
        vm.write_u64(DATA, 0xa0 + i as u64);
        vcpus[i] = Some(vm.vcpu(0, &[], run_size)?);
    }
    for round in 0..2u64 {
        for (i, vcpu) in vcpus.iter().flatten().enumerate() {
            let want = 0xa0 + 0x10 * round + i as u64;
            let got = vcpu.expect(0, report::READ)?[0];
            if got != want {
                fail!("round {round}: guest {i} read {got:#x}, its memory holds {want:#x}");
            }
        }
        for (i, vm) in vms.iter().enumerate() {
            vm.write_u64(DATA, 0xb0 + i as u64);
        }
    }
    Ok(())
}

/// Many L2s created, run and destroyed one after the other.
fn create_delete(kvm: u64, run_size: usize, cycles: u32) -> Check {
    let start = sys::now_ns();
    for cycle in 0..cycles {
        let vm = Vm::new(kvm).map_err(|Failure(why)| prefixed(cycle, why))?;
        vm.load(&guest::registers());
        let vcpu = vm.vcpu(0, &[], run_size).map_err(|Failure(why)| prefixed(cycle, why))?;
        let args = vcpu.expect(0, report::REGISTERS).map_err(|Failure(why)| prefixed(cycle, why))?;
        if args[0] != 0x104 {
            fail!("cycle {cycle}: r4 = {:#x}", args[0]);
        }
    }
    let per_cycle_us = (sys::now_ns() - start) / 1000 / u64::from(cycles.max(1));
    say!("KVMTEST create-delete {cycles} cycles, {per_cycle_us} us each");
    Ok(())
}

fn failure(args: fmt::Arguments<'_>) -> Failure {
    let mut line = Line::<FAILURE_LEN>::new();
    let _ = line.write_fmt(args);
    Failure(line)
}

fn prefixed(cycle: u32, why: Line<FAILURE_LEN>) -> Failure {
    let text = core::str::from_utf8(&why.buf[..why.len]).unwrap_or("?");
    failure(format_args!("cycle {cycle}: {text}"))
}
