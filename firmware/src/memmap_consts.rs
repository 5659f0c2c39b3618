// Firmware memory map constants: the single source of truth shared by the firmware code
// (through `memmap.rs`) and the linker script (through `build.rs`, which includes this file
// and writes them out as linker symbols). Plain `const` items only: this file is `include!`d.

/// Physical address the image is linked at and runs from after it relocates itself
/// (QEMU and the boot firmware before us load it at 0).
pub const FIRMWARE_BASE: u64 = 0x3000_0000;
/// Largest image (code, data and zero-initialised data) the layout leaves room for.
pub const IMAGE_MAX_SIZE: u64 = 0x0120_0000;
/// HDAT host data area: where an FSP (or hostboot) builds SPIRA-S and the HDAT structures
/// when it boots us with HDAT instead of a device tree (our SPIRA-H names it; the same
/// place skiboot uses, FIRMWARE_BASE + 18 MiB). Unused on FDT boots.
pub const HDAT_AREA_BASE: u64 = FIRMWARE_BASE + IMAGE_MAX_SIZE;
/// Size of the HDAT host data area.
pub const HDAT_AREA_SIZE: u64 = 0x0080_0000;
/// Per-thread areas: one slot per hardware thread, handed out in arrival order.
pub const PERCPU_BASE: u64 = HDAT_AREA_BASE + HDAT_AREA_SIZE;
/// Size of one thread's slot: per-CPU data, exception stack, normal stack.
pub const PERCPU_SLOT_SIZE: u64 = 0x8000;
/// Most hardware threads the firmware will bring up (POWER9: 2 sockets x 24 cores x 4
/// threads = 192; 4 sockets of SMT4 = 384).
pub const MAX_THREADS: u64 = 512;
/// Offset in a slot of the top of the exception stack (it grows down towards the per-CPU
/// data, which ends at 0x1000).
pub const PERCPU_EXC_STACK_TOP: u64 = 0x4000;
/// Offset in a slot of the top of the normal stack (it grows down to PERCPU_EXC_STACK_TOP).
pub const PERCPU_STACK_TOP: u64 = PERCPU_SLOT_SIZE;
/// Firmware heap (the global allocator).
pub const HEAP_BASE: u64 = PERCPU_BASE + PERCPU_SLOT_SIZE * MAX_THREADS;
/// Size of the firmware heap (32 MiB less the reset scratch page above it).
pub const HEAP_SIZE: u64 = 0x0200_0000 - RESET_SCRATCH_SIZE;
/// One page that survives a warm reset (QEMU and the hardware keep RAM contents); holds the
/// boot counter used to tell a reboot from a cold start.
pub const RESET_SCRATCH_BASE: u64 = HEAP_BASE + HEAP_SIZE;
/// Size of the reset-surviving page.
pub const RESET_SCRATCH_SIZE: u64 = 0x1000;
/// Interrupt controller (XIVE) tables: one slot per chip.
pub const XIVE_TABLES_BASE: u64 = RESET_SCRATCH_BASE + RESET_SCRATCH_SIZE;
/// Size of one chip's XIVE table slot (its tables need about 2.2 MiB, aligned to 1 MiB).
pub const XIVE_TABLES_PER_CHIP: u64 = 0x40_0000;
/// Most chips the XIVE table area has room for.
pub const XIVE_MAX_CHIPS: u64 = 8;
/// First byte after everything the firmware keeps for itself at run time.
pub const FIRMWARE_END: u64 = 0x36a0_0000;
/// Where the boot firmware (QEMU's `-kernel`) loads the kernel payload, and how much room it
/// has (QEMU's limit; the initrd follows at 0x2800_0000).
pub const KERNEL_LOAD_BASE: u64 = 0x2000_0000;
/// Size of the kernel load window.
pub const KERNEL_LOAD_SIZE: u64 = 0x0800_0000;
/// Where a loader (QEMU's `-device loader,file=oxicfg.bin,addr=0x1f00000`) may place the
/// partition configuration blob instead of the OXICFG flash partition: above the device tree
/// QEMU passes at 0x0100_0000, below the flash staging area.
pub const CONFIG_LOAD_BASE: u64 = 0x01f0_0000;
/// Most bytes a loaded configuration blob may have.
pub const CONFIG_LOAD_MAX: u64 = 0x0010_0000;
