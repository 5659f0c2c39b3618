//! The state the L0 keeps for each L2 guest ([`GuestState`]) and each L2 vCPU ([`VcpuState`]),
//! and how each GSID maps onto it.
//!
//! Values are stored as the L1 wrote them (or as the hypervisor saved them at the last exit);
//! the masks of [`super::values`] apply when the hypervisor loads them into the processor, see
//! [`VcpuState::l1_lpcr_bits`] and [`VcpuState::effective_msr`]. Registers POWER9 lacks
//! (DAWR1, DAWRX1, MMCR3, SIER2/3, DEXCR, HDEXCR, HASHKEYR, HASHPKEYR) are stored and returned
//! but never loaded.

use super::gsid;
use super::values::{
    HDEXCR_L1_SETTABLE, LOGICAL_PVR_ISA_3_00, LPCR_L1_SETTABLE, MSR_L1_SETTABLE, MSR_ME, VPA_NONE,
};
use super::wire::ElementValue;

/// GSID 0x0005: the L2's partition-scoped radix tree (L2 real → L1 real), as the L1 keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PartitionTableDescriptor {
    /// L1 real address of the root directory; 0 means no table.
    pub root_address: u64,
    /// Effective address bits the tree translates (52 on POWER9).
    pub effective_address_bits: u64,
    /// Size of the root directory in bytes.
    pub root_size: u64,
}

/// GSID 0x0006: the L2's process table, registered by the L2 through the L1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessTableDescriptor {
    /// L2 real address of the table; 0 means none registered yet.
    pub base_address: u64,
    /// Size in bytes.
    pub size: u64,
}

/// GSIDs 0x0C00/0x0C01: a RUN_VCPU buffer in L1 memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunBufferDescriptor {
    /// L1 real address.
    pub address: u64,
    /// Size in bytes (the buffer's capacity).
    pub size: u64,
}

/// What the L0 keeps per L2 guest (the guest-wide elements).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestState {
    /// Logical PVR the L2 runs as (GSID 0x0003); decides the PCR of its vCPUs.
    pub logical_pvr: u32,
    /// Timebase offset of the L2 from the L1 (GSID 0x0004), a multiple of 2^24.
    pub tb_offset: u64,
    /// Partition-scoped table (GSID 0x0005); `None` until the L1 sets a non-zero root.
    pub partition_table: Option<PartitionTableDescriptor>,
    /// Process table (GSID 0x0006); `None` until the L1 sets a non-zero base.
    pub process_table: Option<ProcessTableDescriptor>,
}

impl Default for GuestState {
    fn default() -> Self {
        Self { logical_pvr: LOGICAL_PVR_ISA_3_00, tb_offset: 0, partition_table: None, process_table: None }
    }
}

impl GuestState {
    /// The value of a guest-wide GSID that lives in this structure (0x0003–0x0006).
    pub fn read(&self, id: u16) -> Option<ElementValue> {
        Some(match id {
            gsid::LOGICAL_PVR => ElementValue::Word(self.logical_pvr),
            gsid::TB_OFFSET => ElementValue::Doubleword(self.tb_offset),
            gsid::PARTITION_TABLE => ElementValue::PartitionTable(self.partition_table.unwrap_or_default()),
            gsid::PROCESS_TABLE => ElementValue::ProcessTable(self.process_table.unwrap_or_default()),
            _ => return None,
        })
    }

    /// Stores a checked guest-wide value; `false` if `id`/`value` do not belong here.
    pub fn write(&mut self, id: u16, value: &ElementValue) -> bool {
        match (id, *value) {
            (gsid::LOGICAL_PVR, ElementValue::Word(pvr)) => self.logical_pvr = pvr,
            (gsid::TB_OFFSET, ElementValue::Doubleword(offset)) => self.tb_offset = offset,
            (gsid::PARTITION_TABLE, ElementValue::PartitionTable(table)) => {
                self.partition_table = (table.root_address != 0).then_some(table);
            }
            (gsid::PROCESS_TABLE, ElementValue::ProcessTable(table)) => {
                self.process_table = (table.base_address != 0).then_some(table);
            }
            _ => return false,
        }
        true
    }
}

/// What the L0 keeps per L2 vCPU: its whole register state between runs, plus the per-vCPU
/// buffers the L1 registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VcpuState {
    /// General-purpose registers.
    pub gpr: [u64; 32],
    /// Condition register.
    pub cr: u32,
    /// Fixed-point exception register.
    pub xer: u64,
    /// Link register.
    pub lr: u64,
    /// Count register.
    pub ctr: u64,
    /// Next instruction address (where the L2 resumes).
    pub nia: u64,
    /// Machine state register, as the L1 sees it (see [`Self::effective_msr`]).
    pub msr: u64,
    /// Come-from address register.
    pub cfar: u64,
    /// Vector-scalar registers; VSR 0–31 hold the FPRs in their high doubleword, VSR 32–63
    /// are the vector registers. Architectural bit 0 is the most significant bit.
    pub vsr: [u128; 64],
    /// Floating-point status and control register.
    pub fpscr: u64,
    /// Vector status and control register.
    pub vscr: u32,
    /// Vector save register.
    pub vrsave: u32,
    /// Save/restore registers 0 and 1.
    pub srr0: u64,
    /// Save/restore register 1.
    pub srr1: u64,
    /// Data address register.
    pub dar: u64,
    /// Data storage interrupt status register.
    pub dsisr: u32,
    /// Hypervisor data address register (HDSI exits).
    pub hdar: u64,
    /// Hypervisor data storage interrupt status register (HDSI exits).
    pub hdsisr: u32,
    /// Hypervisor emulation instruction register (HEA exits), instruction in the low word.
    pub heir: u64,
    /// Access segment descriptor register: the faulting L2 real address (HDSI/HISI exits).
    pub asdr: u64,
    /// L2 decrementer expiry in L1 timebase units.
    pub dec_expiry_tb: u64,
    /// When the L1 wants control back (hypervisor decrementer), in L1 timebase units.
    pub hdec_expiry_tb: u64,
    /// Virtual timebase.
    pub vtb: u64,
    /// Processor utilization of resources register.
    pub purr: u64,
    /// Scaled processor utilization of resources register.
    pub spurr: u64,
    /// Instruction counter.
    pub ic: u64,
    /// Logical partitioning control register as the L1 wrote it (see [`Self::l1_lpcr_bits`]).
    pub lpcr: u64,
    /// Hypervisor facility status and control register the L1 wants for its L2; on a 0xF80
    /// exit its top byte holds the interruption cause.
    pub hfscr: u64,
    /// Facility status and control register.
    pub fscr: u64,
    /// Authority mask override register.
    pub amor: u64,
    /// Directed privileged doorbell exception state.
    pub dpdes: u64,
    /// Control register.
    pub ctrl: u64,
    /// Process id register.
    pub pidr: u32,
    /// Authority mask register.
    pub amr: u64,
    /// Instruction authority mask register.
    pub iamr: u64,
    /// User authority mask override register.
    pub uamor: u64,
    /// Data address watchpoint register 0.
    pub dawr0: u64,
    /// Data address watchpoint register 1 (POWER10; not loaded on POWER9).
    pub dawr1: u64,
    /// Data address watchpoint register extension 0.
    pub dawrx0: u32,
    /// Data address watchpoint register extension 1 (POWER10; not loaded on POWER9).
    pub dawrx1: u32,
    /// Completed instruction address breakpoint register.
    pub ciabr: u64,
    /// Software-use special-purpose registers 0–3.
    pub sprg: [u64; 4],
    /// Program priority register.
    pub ppr: u64,
    /// Data stream control register.
    pub dscr: u64,
    /// Target address register.
    pub tar: u64,
    /// Problem state priority boost register.
    pub pspb: u32,
    /// Workload optimization register (POWER8; not loaded on POWER9).
    pub wort: u32,
    /// Monitor mode control registers 0–3 (MMCR3 is POWER10; not loaded on POWER9).
    pub mmcr: [u64; 4],
    /// Monitor mode control register A.
    pub mmcra: u64,
    /// Sampled instruction event registers 1–3 (SIER2/3 are POWER10; not loaded on POWER9).
    pub sier: [u64; 3],
    /// Performance monitor counters 1–6.
    pub pmc: [u32; 6],
    /// Sampled data address register.
    pub sdar: u64,
    /// Sampled instruction address register.
    pub siar: u64,
    /// Branch event status and control register.
    pub bescr: u64,
    /// Event-based branch handler register.
    pub ebbhr: u64,
    /// Event-based branch return register.
    pub ebbrr: u64,
    /// Dynamic execution control register (POWER10; not loaded on POWER9).
    pub dexcr: u64,
    /// Hypervisor dynamic execution control register (POWER10; not loaded on POWER9).
    pub hdexcr: u64,
    /// Hash key register (POWER10; not loaded on POWER9).
    pub hashkeyr: u64,
    /// Hash privileged key register (POWER10; not loaded on POWER9).
    pub hashpkeyr: u64,
    /// RUN_VCPU input buffer (GSID 0x0C00).
    pub run_input: Option<RunBufferDescriptor>,
    /// RUN_VCPU output buffer (GSID 0x0C01).
    pub run_output: Option<RunBufferDescriptor>,
    /// L1 real address of the L2 vCPU's VPA (GSID 0x0C02), if registered.
    pub vpa: Option<u64>,
}

impl Default for VcpuState {
    fn default() -> Self {
        Self {
            gpr: [0; 32],
            cr: 0,
            xer: 0,
            lr: 0,
            ctr: 0,
            nia: 0,
            msr: 0,
            cfar: 0,
            vsr: [0; 64],
            fpscr: 0,
            vscr: 0,
            vrsave: 0,
            srr0: 0,
            srr1: 0,
            dar: 0,
            dsisr: 0,
            hdar: 0,
            hdsisr: 0,
            heir: 0,
            asdr: 0,
            dec_expiry_tb: 0,
            hdec_expiry_tb: 0,
            vtb: 0,
            purr: 0,
            spurr: 0,
            ic: 0,
            lpcr: 0,
            hfscr: 0,
            fscr: 0,
            amor: 0,
            dpdes: 0,
            ctrl: 0,
            pidr: 0,
            amr: 0,
            iamr: 0,
            uamor: 0,
            dawr0: 0,
            dawr1: 0,
            dawrx0: 0,
            dawrx1: 0,
            ciabr: 0,
            sprg: [0; 4],
            ppr: 0,
            dscr: 0,
            tar: 0,
            pspb: 0,
            wort: 0,
            mmcr: [0; 4],
            mmcra: 0,
            sier: [0; 3],
            pmc: [0; 6],
            sdar: 0,
            siar: 0,
            bescr: 0,
            ebbhr: 0,
            ebbrr: 0,
            dexcr: 0,
            hdexcr: 0,
            hashkeyr: 0,
            hashpkeyr: 0,
            run_input: None,
            run_output: None,
            vpa: None,
        }
    }
}

/// Generates the GSID → field accessors for the single (not numbered) 64-bit and 32-bit
/// registers, so each mapping is written once for reading and writing.
macro_rules! single_registers {
    (doublewords { $($dword_id:path => $dword_field:ident,)* } words { $($word_id:path => $word_field:ident,)* }) => {
        impl VcpuState {
            fn single_doubleword_mut(&mut self, id: u16) -> Option<&mut u64> {
                match id {
                    $($dword_id => Some(&mut self.$dword_field),)*
                    _ => None,
                }
            }

            fn single_doubleword(&self, id: u16) -> Option<u64> {
                match id {
                    $($dword_id => Some(self.$dword_field),)*
                    _ => None,
                }
            }

            fn single_word_mut(&mut self, id: u16) -> Option<&mut u32> {
                match id {
                    $($word_id => Some(&mut self.$word_field),)*
                    _ => None,
                }
            }

            fn single_word(&self, id: u16) -> Option<u32> {
                match id {
                    $($word_id => Some(self.$word_field),)*
                    _ => None,
                }
            }
        }
    };
}

single_registers! {
    doublewords {
        gsid::HDEC_EXPIRY_TB => hdec_expiry_tb,
        gsid::NIA => nia,
        gsid::MSR => msr,
        gsid::LR => lr,
        gsid::XER => xer,
        gsid::CTR => ctr,
        gsid::CFAR => cfar,
        gsid::SRR0 => srr0,
        gsid::SRR1 => srr1,
        gsid::DAR => dar,
        gsid::DEC_EXPIRY_TB => dec_expiry_tb,
        gsid::VTB => vtb,
        gsid::LPCR => lpcr,
        gsid::HFSCR => hfscr,
        gsid::FSCR => fscr,
        gsid::FPSCR => fpscr,
        gsid::DAWR0 => dawr0,
        gsid::DAWR1 => dawr1,
        gsid::CIABR => ciabr,
        gsid::PURR => purr,
        gsid::SPURR => spurr,
        gsid::IC => ic,
        gsid::PPR => ppr,
        gsid::MMCRA => mmcra,
        gsid::BESCR => bescr,
        gsid::EBBHR => ebbhr,
        gsid::EBBRR => ebbrr,
        gsid::AMR => amr,
        gsid::IAMR => iamr,
        gsid::AMOR => amor,
        gsid::UAMOR => uamor,
        gsid::SDAR => sdar,
        gsid::SIAR => siar,
        gsid::DSCR => dscr,
        gsid::TAR => tar,
        gsid::DEXCR => dexcr,
        gsid::HDEXCR => hdexcr,
        gsid::HASHKEYR => hashkeyr,
        gsid::HASHPKEYR => hashpkeyr,
        gsid::CTRL => ctrl,
        gsid::DPDES => dpdes,
        gsid::HDAR => hdar,
        gsid::HEIR => heir,
        gsid::ASDR => asdr,
    }
    words {
        gsid::CR => cr,
        gsid::PIDR => pidr,
        gsid::DSISR => dsisr,
        gsid::VSCR => vscr,
        gsid::VRSAVE => vrsave,
        gsid::DAWRX0 => dawrx0,
        gsid::DAWRX1 => dawrx1,
        gsid::WORT => wort,
        gsid::PSPB => pspb,
        gsid::HDSISR => hdsisr,
    }
}

impl VcpuState {
    /// The 64-bit register a GSID names (including the numbered GPR/SPRG/MMCR/SIER families).
    fn doubleword_mut(&mut self, id: u16) -> Option<&mut u64> {
        let offset = |base: u16| usize::from(id.wrapping_sub(base));
        match id {
            0x1000..=0x101F => self.gpr.get_mut(offset(gsid::GPR0)),
            0x1036..=0x1039 => self.sprg.get_mut(offset(gsid::SPRG0)),
            0x103B..=0x103E => self.mmcr.get_mut(offset(gsid::MMCR0)),
            0x1040..=0x1042 => self.sier.get_mut(offset(gsid::SIER)),
            _ => self.single_doubleword_mut(id),
        }
    }

    fn doubleword(&self, id: u16) -> Option<u64> {
        let offset = |base: u16| usize::from(id.wrapping_sub(base));
        match id {
            0x1000..=0x101F => self.gpr.get(offset(gsid::GPR0)).copied(),
            0x1036..=0x1039 => self.sprg.get(offset(gsid::SPRG0)).copied(),
            0x103B..=0x103E => self.mmcr.get(offset(gsid::MMCR0)).copied(),
            0x1040..=0x1042 => self.sier.get(offset(gsid::SIER)).copied(),
            _ => self.single_doubleword(id),
        }
    }

    fn word_mut(&mut self, id: u16) -> Option<&mut u32> {
        match id {
            0x2007..=0x200C => self.pmc.get_mut(usize::from(id.wrapping_sub(gsid::PMC1))),
            _ => self.single_word_mut(id),
        }
    }

    fn word(&self, id: u16) -> Option<u32> {
        match id {
            0x2007..=0x200C => self.pmc.get(usize::from(id.wrapping_sub(gsid::PMC1))).copied(),
            _ => self.single_word(id),
        }
    }

    /// The value of a thread GSID (including the read-only fault registers and the
    /// write-only HDEC expiry; the request checks decide who may read what).
    pub fn read(&self, id: u16) -> Option<ElementValue> {
        Some(match id {
            gsid::RUN_INPUT_BUFFER => ElementValue::RunBuffer(self.run_input.unwrap_or_default()),
            gsid::RUN_OUTPUT_BUFFER => ElementValue::RunBuffer(self.run_output.unwrap_or_default()),
            gsid::VPA => ElementValue::Doubleword(self.vpa.unwrap_or(VPA_NONE)),
            0x3000..=0x303F => ElementValue::Quadword(*self.vsr.get(usize::from(id - gsid::VSR0))?),
            _ => match self.doubleword(id) {
                Some(dword) => ElementValue::Doubleword(dword),
                None => ElementValue::Word(self.word(id)?),
            },
        })
    }

    /// Stores a checked thread value; `false` if `id`/`value` do not belong here.
    pub fn write(&mut self, id: u16, value: &ElementValue) -> bool {
        match (id, *value) {
            (gsid::RUN_INPUT_BUFFER, ElementValue::RunBuffer(buffer)) => self.run_input = Some(buffer),
            (gsid::RUN_OUTPUT_BUFFER, ElementValue::RunBuffer(buffer)) => self.run_output = Some(buffer),
            (gsid::VPA, ElementValue::Doubleword(address)) => {
                self.vpa = (address != VPA_NONE).then_some(address);
            }
            (0x3000..=0x303F, ElementValue::Quadword(quad)) => {
                match self.vsr.get_mut(usize::from(id - gsid::VSR0)) {
                    Some(slot) => *slot = quad,
                    None => return false,
                }
            }
            (_, ElementValue::Doubleword(dword)) => match self.doubleword_mut(id) {
                Some(slot) => *slot = dword,
                None => return false,
            },
            (_, ElementValue::Word(word)) => match self.word_mut(id) {
                Some(slot) => *slot = word,
                None => return false,
            },
            _ => return false,
        }
        true
    }

    /// The LPCR bits the L1 controls; the hypervisor ORs in its own (HR, UPRT, HVICE, …).
    pub fn l1_lpcr_bits(&self) -> u64 {
        self.lpcr & LPCR_L1_SETTABLE
    }

    /// The MSR to run the L2 with: the L1's bits, HV and S clear, ME set.
    pub fn effective_msr(&self) -> u64 {
        (self.msr & MSR_L1_SETTABLE) | MSR_ME
    }

    /// The HDEXCR bits the L1 controls (POWER10 only).
    pub fn l1_hdexcr_bits(&self) -> u64 {
        self.hdexcr & HDEXCR_L1_SETTABLE
    }

    /// Floating-point register `n` (0–31): the high doubleword of VSR `n`.
    pub fn fpr(&self, n: usize) -> Option<u64> {
        self.vsr.get(n).filter(|_| n < 32).map(|vsr| (vsr >> 64) as u64)
    }
}
