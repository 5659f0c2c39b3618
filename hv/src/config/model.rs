//! The resolved partition configuration: what the host tool compiles into the blob and what the
//! firmware reads back from it. Every core, thread and byte of memory is already decided here;
//! nothing is left to choose at boot.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Size of a memory block: LPAR memory, the hypervisor reservation and every fixed base are
/// whole, aligned 256 MiB blocks (PowerVM's usual logical memory block size, and what a Linux
/// `pseries` kernel reports as its memory block size).
pub const BLOCK_SIZE: u64 = 256 << 20;

/// The firmware's memory map constants, shared with the firmware and its linker script: one
/// source of truth, so a change there moves the reservation here too.
#[allow(dead_code, clippy::identity_op)]
mod firmware_memmap {
    include!("../../../firmware/src/memmap_consts.rs");
}

/// End of the exception vectors in the low copy of the image, which stay in use while the
/// firmware runs (`firmware/src/memmap.rs`).
const LOW_VECTORS_END: u64 = 0x3000;

/// Physical memory the firmware itself uses at run time: the exception vectors in the low image
/// copy, and `FIRMWARE_BASE..FIRMWARE_END` (image, per-CPU slots, heap, reset page, XIVE
/// tables). No LPAR and no hypervisor reservation may touch these ranges; since memory is carved
/// in whole blocks, the blocks they fall in are firmware's.
pub const FIRMWARE_RESERVED: [Region; 2] = [
    Region { base: 0, size: LOW_VECTORS_END },
    Region {
        base: firmware_memmap::FIRMWARE_BASE,
        size: firmware_memmap::FIRMWARE_END - firmware_memmap::FIRMWARE_BASE,
    },
];

/// Default hypervisor memory reservation (page tables, per-LPAR device trees, vCPU state, nested
/// shadow tables).
pub const DEFAULT_HYPERVISOR_MEMORY: u64 = BLOCK_SIZE;

/// Largest LPID an LPAR may have (LPIDR holds 12 bits on POWER9; 0 is the hypervisor).
pub const MAX_LPID: u32 = 4095;

/// Most partitions one configuration may describe.
pub const MAX_LPARS: usize = 256;

/// Most hardware threads one configuration may hand out (POWER9: 4 sockets x 24 cores x 4
/// threads = 384; the limit keeps the boot-time checks cheap on any input).
pub const MAX_THREADS: usize = 4096;

/// Longest partition name, in bytes (`ibm,partition-name`).
pub const MAX_NAME_LEN: usize = 31;

/// Longest console prefix, in bytes (room for the default `[name] ` of the longest name).
pub const MAX_PREFIX_LEN: usize = 40;

/// Longest kernel command line, in bytes (Linux's `COMMAND_LINE_SIZE` on powerpc is 2048,
/// including the terminating NUL).
pub const MAX_CMDLINE_LEN: usize = 2047;

/// Longest image reference (a flash partition name or a file name), in bytes.
pub const MAX_IMAGE_NAME_LEN: usize = 255;

/// Default and largest number of L2 guests a nested-virtualisation LPAR may create (QEMU's
/// `pseries` limit for the PAPR nested API v2).
pub const MAX_L2_GUESTS: u32 = 4095;

/// Default and largest number of vCPUs per L2 guest (QEMU's limit).
pub const MAX_L2_VCPUS: u32 = 2048;

/// A range of physical memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Region {
    /// First byte.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
}

impl Region {
    /// One past the last byte (saturating: a region reaching the top of the address space ends
    /// there).
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }

    /// Whether the two regions share at least one byte.
    pub fn overlaps(&self, other: &Region) -> bool {
        self.size != 0 && other.size != 0 && self.base < other.end() && other.base < self.end()
    }

    /// Whether the region is non-empty, block-aligned and a whole number of blocks.
    pub fn is_whole_blocks(&self) -> bool {
        self.size != 0 && self.size.is_multiple_of(BLOCK_SIZE) && self.base.is_multiple_of(BLOCK_SIZE)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last = self.end().saturating_sub(1);
        write!(f, "{:#011x}..={:#011x} ({})", self.base, last, ByteSize(self.size))
    }
}

/// A byte count shown in the largest binary unit that divides it (`2 GiB`, `768 MiB`, `12 KiB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(&str, u32); 4] = [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)];
        for (unit, shift) in UNITS {
            if self.0 != 0 && self.0.is_multiple_of(1u64 << shift) {
                return write!(f, "{} {unit}", self.0 >> shift);
            }
        }
        write!(f, "{} bytes", self.0)
    }
}

/// The console the firmware (and the multiplexed virtual terminals) use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirmwareConsole {
    /// The UART `/chosen/stdout-path` names, else COM1 (0x3f8), else the lowest LPC I/O port.
    Auto,
    /// The UART at this LPC I/O port.
    Uart {
        /// LPC I/O port.
        port: u32,
    },
}

/// Where an LPAR's `hvc0` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Console {
    /// A virtual terminal multiplexed on the firmware console; each output line is prefixed.
    Vty {
        /// Printed before each line the LPAR writes.
        prefix: String,
    },
    /// A UART of its own.
    Uart {
        /// LPC I/O port.
        port: u32,
    },
}

/// What happens when an LPAR stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    /// Stays stopped after a power-off or a crash (a `reboot` the LPAR asks for still reboots).
    Never,
    /// Restarted after a crash; stays stopped after a power-off.
    OnCrash,
    /// Restarted after a crash and after a power-off.
    Always,
}

impl RestartPolicy {
    /// The spelling used in the config file.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::OnCrash => "on-crash",
            Self::Always => "always",
        }
    }
}

/// The processor compatibility mode the LPAR runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuCompat {
    /// POWER9 (ISA 3.0B) architected mode.
    Power9,
    /// POWER8 (ISA 2.07) compatibility mode.
    Power8,
}

impl CpuCompat {
    /// The logical PVR of the mode (`cpu-version` in the LPAR's device tree).
    pub fn logical_pvr(self) -> u32 {
        match self {
            Self::Power9 => 0x0f00_0005,
            Self::Power8 => 0x0f00_0004,
        }
    }

    /// The mode with this logical PVR.
    pub fn from_logical_pvr(pvr: u32) -> Option<Self> {
        [Self::Power9, Self::Power8].into_iter().find(|mode| mode.logical_pvr() == pvr)
    }

    /// The spelling used in the config file.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Power9 => "power9",
            Self::Power8 => "power8",
        }
    }
}

/// Where a kernel or initramfs comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// A flash (PNOR) partition. For a kernel, the partition holds a BOOTKERNEL container
    /// (`docs/flash.md`), whose initramfs is used unless the LPAR names one itself.
    Partition {
        /// Partition name.
        name: String,
    },
    /// A file the host tool saw; what the firmware finds must have this size and digest.
    File {
        /// The file name as written in the config.
        name: String,
        /// Size in bytes.
        size: u64,
        /// [`image_digest`](super::digest::image_digest) of the content.
        digest: u32,
    },
}

impl ImageSource {
    /// The partition or file name.
    pub fn name(&self) -> &str {
        match self {
            Self::Partition { name } | Self::File { name, .. } => name,
        }
    }
}

/// What an LPAR boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootConfig {
    /// The kernel.
    pub kernel: ImageSource,
    /// The initramfs, if any.
    pub initramfs: Option<ImageSource>,
    /// The kernel command line (`/chosen/bootargs`).
    pub cmdline: String,
}

/// Limits for an LPAR that runs KVM with L2 guests (PAPR nested API v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NestedLimits {
    /// Most L2 guests at once.
    pub max_l2_guests: u32,
    /// Most vCPUs per L2 guest.
    pub max_l2_vcpus: u32,
}

/// One logical partition, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LparConfig {
    /// LPID, 1 to [`MAX_LPID`].
    pub id: u32,
    /// Name (`ibm,partition-name`).
    pub name: String,
    /// Hardware threads (PIRs) it owns, ascending; one vCPU each.
    pub threads: Vec<u32>,
    /// Whether it was given whole cores (every thread of each of its cores is its own).
    pub whole_cores: bool,
    /// Its memory, whole blocks.
    pub memory: Region,
    /// Its console.
    pub console: Console,
    /// What it boots.
    pub boot: BootConfig,
    /// Started when the firmware enters partitioned mode.
    pub autostart: bool,
    /// What happens when it stops.
    pub restart: RestartPolicy,
    /// Processor compatibility mode.
    pub cpu_compat: CpuCompat,
    /// `Some` when nested virtualisation (the `H_GUEST_*` hcalls) is enabled.
    pub nested: Option<NestedLimits>,
}

/// The whole machine's partitioning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineConfig {
    /// Memory reserved for the hypervisor.
    pub hypervisor: Region,
    /// The firmware console.
    pub firmware_console: FirmwareConsole,
    /// The partitions, in the order of the config file.
    pub lpars: Vec<LparConfig>,
}

impl MachineConfig {
    /// The LPAR with this LPID.
    pub fn lpar(&self, id: u32) -> Option<&LparConfig> {
        self.lpars.iter().find(|lpar| lpar.id == id)
    }
}

/// Why a partition name is not acceptable, if it is not.
pub fn name_problem(name: &str) -> Option<&'static str> {
    let first_ok = name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    let rest_ok = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if name.is_empty() {
        Some("is empty")
    } else if name.len() > MAX_NAME_LEN {
        Some("is longer than 31 bytes")
    } else if !first_ok || !rest_ok {
        Some("must start with a letter or digit and hold only letters, digits, '-', '_' and '.'")
    } else {
        None
    }
}

/// Why a flash partition name is not acceptable, if it is not (FFS: 1 to 15 printable ASCII
/// characters, see `docs/flash.md`).
pub fn partition_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.len() > 15 {
        Some("is longer than 15 characters (the FFS name field)")
    } else if !name.bytes().all(|b| b.is_ascii_graphic()) {
        Some("must be printable ASCII without spaces")
    } else {
        None
    }
}

/// POWER9 core number of a core within its chip, from the PIR of one of its threads (skiboot's
/// `P9_PIR2COREID`: bits 2 to 7; the chip id is above, the thread number below).
pub fn core_number(pir: u32) -> u32 {
    (pir >> 2) & 0x3f
}
