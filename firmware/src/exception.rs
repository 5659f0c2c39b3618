//! Exception frames and the report printed for an exception the firmware did not expect.
//!
//! The entry code (entry.S) saves the interrupted state into an [`ExceptionFrame`] on the
//! thread's exception stack; this module names the vector and formats what a developer
//! needs: vector, (H)SRR0/1, DAR/DSISR, HDAR/HDSISR, CFAR, LR, the thread, and the GPRs.

use core::fmt::{self, Write};

/// The interrupted state, as saved by the entry code (layout shared with entry.S).
#[repr(C)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExceptionFrame {
    /// r0–r31 at the time of the interrupt.
    pub gpr: [u64; 32],
    /// Vector offset (0x100 … 0x1fe0).
    pub vector: u64,
    /// Save/Restore Registers.
    pub srr0: u64,
    /// Save/Restore Register 1.
    pub srr1: u64,
    /// Hypervisor Save/Restore Register 0.
    pub hsrr0: u64,
    /// Hypervisor Save/Restore Register 1.
    pub hsrr1: u64,
    /// Data Address Register.
    pub dar: u64,
    /// Data Storage Interrupt Status Register.
    pub dsisr: u64,
    /// Hypervisor Data Address Register.
    pub hdar: u64,
    /// Hypervisor Data Storage Interrupt Status Register.
    pub hdsisr: u64,
    /// Hypervisor Emulation Instruction Register.
    pub heir: u64,
    /// Access Segment Descriptor Register.
    pub asdr: u64,
    /// Come-From Address Register (last taken branch).
    pub cfar: u64,
    /// Link Register.
    pub lr: u64,
    /// Count Register.
    pub ctr: u64,
    /// Condition Register.
    pub cr: u64,
    /// Fixed-point Exception Register.
    pub xer: u64,
    /// MSR inside the handler.
    pub msr: u64,
}

/// Architected vector names (Power ISA 3.0B Book III §7.5, POWER9).
pub fn vector_name(vector: u64) -> &'static str {
    match vector {
        0x100 => "System Reset",
        0x200 => "Machine Check",
        0x300 => "Data Storage",
        0x380 => "Data Segment",
        0x400 => "Instruction Storage",
        0x480 => "Instruction Segment",
        0x500 => "External",
        0x600 => "Alignment",
        0x700 => "Program",
        0x800 => "Floating-Point Unavailable",
        0x900 => "Decrementer",
        0x980 => "Hypervisor Decrementer",
        0xa00 => "Directed Privileged Doorbell",
        0xc00 => "System Call",
        0xd00 => "Trace",
        0xe00 => "Hypervisor Data Storage",
        0xe20 => "Hypervisor Instruction Storage",
        0xe40 => "Hypervisor Emulation Assistance",
        0xe60 => "Hypervisor Maintenance",
        0xe80 => "Directed Hypervisor Doorbell",
        0xea0 => "Hypervisor Virtualization",
        0xf00 => "Performance Monitor",
        0xf20 => "Vector Unavailable",
        0xf40 => "VSX Unavailable",
        0xf60 => "Facility Unavailable",
        0xf80 => "Hypervisor Facility Unavailable",
        0x1500 => "Soft Patch",
        0x1600 => "Denormalization",
        _ => "reserved vector",
    }
}

/// Whether the interrupt saves its state in HSRR0/1 (hypervisor interrupts) rather than
/// SRR0/1. External interrupts (0x500) are hypervisor interrupts with LPCR[LPES] = 0, as the
/// firmware and every LPAR run.
pub fn uses_hsrr(vector: u64) -> bool {
    matches!(vector, 0x500 | 0x980 | 0xe00..=0xeff | 0xf80 | 0x1500 | 0x1600)
}

impl ExceptionFrame {
    /// Address of the interrupted instruction.
    pub fn interrupted_at(&self) -> u64 {
        if uses_hsrr(self.vector) {
            self.hsrr0
        } else {
            self.srr0
        }
    }
}

/// Writes the report for an unexpected exception on the thread with hardware id `pir`.
pub fn write_report(out: &mut impl Write, frame: &ExceptionFrame, pir: u32) -> fmt::Result {
    let v = frame.vector;
    writeln!(out, "!!! Unexpected exception {v:#x} ({}) on thread PIR {pir:#x}", vector_name(v))?;
    writeln!(
        out,
        "!!! at {:#018x} (from {})",
        frame.interrupted_at(),
        if uses_hsrr(v) { "HSRR0" } else { "SRR0" }
    )?;
    writeln!(out, "!!!  SRR0 {:#018x}   SRR1 {:#018x}", frame.srr0, frame.srr1)?;
    writeln!(out, "!!! HSRR0 {:#018x}  HSRR1 {:#018x}", frame.hsrr0, frame.hsrr1)?;
    writeln!(out, "!!!   DAR {:#018x}  DSISR {:#010x}", frame.dar, frame.dsisr)?;
    writeln!(out, "!!!  HDAR {:#018x} HDSISR {:#010x}  HEIR {:#010x}", frame.hdar, frame.hdsisr, frame.heir)?;
    writeln!(out, "!!!  CFAR {:#018x}     LR {:#018x}   CTR {:#018x}", frame.cfar, frame.lr, frame.ctr)?;
    writeln!(out, "!!!    CR {:#010x}    XER {:#018x}   MSR {:#018x}", frame.cr, frame.xer, frame.msr)?;
    for (i, row) in frame.gpr.chunks(4).enumerate() {
        write!(out, "!!! ")?;
        for (j, r) in row.iter().enumerate() {
            write!(out, " r{:<2} {:#018x}", i * 4 + j, r)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    #[test]
    fn data_storage_report_names_everything() {
        let mut f = ExceptionFrame {
            vector: 0x300,
            srr0: 0x3000_4242,
            dar: 0xdead_0000,
            dsisr: 0x4000_0000,
            ..Default::default()
        };
        f.gpr[1] = 0x3100_7f00;
        let mut s = String::new();
        write_report(&mut s, &f, 0x105).unwrap();
        assert!(s.starts_with("!!! Unexpected exception 0x300 (Data Storage) on thread PIR 0x105\n"));
        assert!(s.contains("at 0x0000000030004242 (from SRR0)"));
        assert!(s.contains("DAR 0x00000000dead0000  DSISR 0x40000000"));
        assert!(s.contains("r1  0x0000000031007f00"));
        assert!(s.contains("r31 0x0000000000000000"));
    }

    #[test]
    fn hypervisor_vectors_use_hsrr() {
        let f = ExceptionFrame { vector: 0xe40, hsrr0: 0x1234, srr0: 0x9999, ..Default::default() };
        assert_eq!(f.interrupted_at(), 0x1234);
        assert!(!uses_hsrr(0x700) && !uses_hsrr(0xc00));
        assert!(uses_hsrr(0x500) && uses_hsrr(0xe80) && uses_hsrr(0x1500));
        assert_eq!(vector_name(0xe40), "Hypervisor Emulation Assistance");
        assert_eq!(vector_name(0x1fe0), "reserved vector");
    }
}
