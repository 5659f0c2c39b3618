//! The KVM user-space interface on 64-bit PowerPC Linux (`include/uapi/linux/kvm.h`,
//! `arch/powerpc/include/uapi/asm/kvm.h`): ioctl numbers and the structures passed.
//!
//! PowerPC encodes ioctl directions differently from x86: 3 direction bits at the top
//! (none = 1, read = 2, write = 4) and a 13-bit size.

const IOC_NONE: u64 = 1;
const IOC_READ: u64 = 2;
const IOC_WRITE: u64 = 4;
const KVMIO: u64 = 0xae;

const fn ioc(dir: u64, nr: u64, size: u64) -> u64 {
    (dir << 29) | (size << 16) | (KVMIO << 8) | nr
}

/// `KVM_GET_API_VERSION`.
pub const GET_API_VERSION: u64 = ioc(IOC_NONE, 0x00, 0);
/// `KVM_CREATE_VM` (argument: machine type).
pub const CREATE_VM: u64 = ioc(IOC_NONE, 0x01, 0);
/// `KVM_CHECK_EXTENSION`.
pub const CHECK_EXTENSION: u64 = ioc(IOC_NONE, 0x03, 0);
/// `KVM_GET_VCPU_MMAP_SIZE`.
pub const GET_VCPU_MMAP_SIZE: u64 = ioc(IOC_NONE, 0x04, 0);
/// `KVM_CREATE_VCPU` (argument: vCPU id).
pub const CREATE_VCPU: u64 = ioc(IOC_NONE, 0x41, 0);
/// `KVM_SET_USER_MEMORY_REGION`.
pub const SET_USER_MEMORY_REGION: u64 = ioc(IOC_WRITE, 0x46, core::mem::size_of::<MemoryRegion>() as u64);
/// `KVM_RUN`.
pub const RUN: u64 = ioc(IOC_NONE, 0x80, 0);
/// `KVM_GET_REGS`.
pub const GET_REGS: u64 = ioc(IOC_READ, 0x81, core::mem::size_of::<Regs>() as u64);
/// `KVM_SET_REGS`.
pub const SET_REGS: u64 = ioc(IOC_WRITE, 0x82, core::mem::size_of::<Regs>() as u64);
/// `KVM_PPC_CONFIGURE_V3_MMU`.
pub const PPC_CONFIGURE_V3_MMU: u64 = ioc(IOC_WRITE, 0xaf, core::mem::size_of::<MmuV3Config>() as u64);

/// `KVM_ENABLE_CAP` (on a vCPU).
pub const ENABLE_CAP: u64 = ioc(IOC_WRITE, 0xa3, core::mem::size_of::<EnableCap>() as u64);
/// Capability `KVM_CAP_PPC_PAPR`: the vCPU is a PAPR guest (kvm-hv refuses to run others).
pub const CAP_PPC_PAPR: u32 = 68;

/// `KVM_VM_PPC_HV`: a VM run by the HV (hypervisor-mode) implementation, kvm-hv.
pub const VM_PPC_HV: u64 = 1;
/// `KVM_PPC_MMUV3_RADIX`.
pub const MMUV3_RADIX: u64 = 1;
/// `KVM_PPC_MMUV3_GTSE` (guest translation shootdown enable).
pub const MMUV3_GTSE: u64 = 2;
/// PATB_GR: "guest radix" bit of the process-table doubleword, which must agree with
/// `MMUV3_RADIX` (no process table: the test guests run in real mode).
pub const PATB_GR: u64 = 1 << 63;

/// `KVM_EXIT_MMIO`.
pub const EXIT_MMIO: u32 = 6;
/// `KVM_EXIT_FAIL_ENTRY`.
pub const EXIT_FAIL_ENTRY: u32 = 9;
/// `KVM_EXIT_INTR`.
pub const EXIT_INTR: u32 = 10;
/// `KVM_EXIT_INTERNAL_ERROR`.
pub const EXIT_INTERNAL_ERROR: u32 = 17;
/// `KVM_EXIT_PAPR_HCALL`.
pub const EXIT_PAPR_HCALL: u32 = 19;

/// Byte offsets in `struct kvm_run` (the per-vCPU shared page).
pub mod run {
    /// `exit_reason` (u32).
    pub const EXIT_REASON: usize = 8;
    /// `papr_hcall.nr` (u64).
    pub const HCALL_NR: usize = 32;
    /// `papr_hcall.ret` (u64).
    pub const HCALL_RET: usize = 40;
    /// `papr_hcall.args[9]` (u64 each).
    pub const HCALL_ARGS: usize = 48;
    /// `mmio.phys_addr` (u64).
    pub const MMIO_ADDR: usize = 32;
}

/// `struct kvm_userspace_memory_region`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct MemoryRegion {
    /// Slot number.
    pub slot: u32,
    /// Flags (none used).
    pub flags: u32,
    /// Guest physical address of the slot.
    pub guest_phys_addr: u64,
    /// Size; 0 deletes the slot.
    pub memory_size: u64,
    /// Address of the backing memory in this process.
    pub userspace_addr: u64,
}

/// `struct kvm_regs` (PowerPC).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct Regs {
    /// Next instruction address.
    pub pc: u64,
    /// Condition register.
    pub cr: u64,
    /// Count register.
    pub ctr: u64,
    /// Link register.
    pub lr: u64,
    /// Fixed-point exception register.
    pub xer: u64,
    /// Machine state register.
    pub msr: u64,
    /// Save/restore registers 0 and 1.
    pub srr0: u64,
    /// See `srr0`.
    pub srr1: u64,
    /// Process id (unused with radix).
    pub pid: u64,
    /// SPRG0..7.
    pub sprg: [u64; 8],
    /// General-purpose registers.
    pub gpr: [u64; 32],
}

/// `struct kvm_ppc_mmuv3_cfg`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct MmuV3Config {
    /// `KVM_PPC_MMUV3_*` flags.
    pub flags: u64,
    /// Second doubleword of the partition-table entry (0: none).
    pub process_table: u64,
}

/// `struct kvm_enable_cap`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct EnableCap {
    /// Capability number.
    pub cap: u32,
    /// Flags (none).
    pub flags: u32,
    /// Arguments.
    pub args: [u64; 4],
    /// Reserved.
    pub pad: [u8; 64],
}

/// MSR of the test guests: 64-bit (SF), machine checks enabled (ME), little-endian (LE).
pub const GUEST_MSR: u64 = (1 << 63) | (1 << 12) | 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_are_the_powerpc_ones() {
        assert_eq!(GET_API_VERSION, 0x2000_ae00);
        assert_eq!(CREATE_VM, 0x2000_ae01);
        assert_eq!(RUN, 0x2000_ae80);
        assert_eq!(SET_USER_MEMORY_REGION, 0x8020_ae46);
        assert_eq!(core::mem::size_of::<Regs>(), 392);
        assert_eq!(GET_REGS, 0x4188_ae81);
        assert_eq!(SET_REGS, 0x8188_ae82);
        assert_eq!(PPC_CONFIGURE_V3_MMU, 0x8010_aeaf);
        assert_eq!(ENABLE_CAP, 0x8068_aea3);
    }
}
