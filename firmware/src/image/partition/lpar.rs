//! The LPAR and vCPU objects and an LPAR's life cycle: (re)booting it into its memory,
//! stopping it (power-off, reboot, crash) and what its restart policy then says.

use super::nested::{NestedLpar, NestedRun};
use super::{mmu, run, vty};
use crate::image::cpus;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use log::{error, info, warn};
use oxiboot::percpu::PerCpu;
use oxiboot_hv::config::{LparConfig, RestartPolicy};
use oxiboot_hv::lpar::memory::{Carve, GuestMemory, OutsideCarve};
use oxiboot_hv::lpar::xics::Presenter;
use oxiboot_hv::radix::PartitionTree;
use oxiboot_platform::cpu;
use oxiboot_platform::spr::Lpcr;

/// A vCPU's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum VcpuState {
    /// Not running (never started, or after `stop-self`, or the LPAR is stopped).
    Stopped = 0,
    /// Handed to its thread, not yet in the guest.
    Starting = 1,
    /// Running guest code (or the hypervisor on its behalf).
    Running = 2,
}

/// Requests one thread makes to another thread's vCPU through a hypervisor doorbell.
pub mod kick {
    /// Leave the guest: the LPAR is stopping.
    pub const STOP: u32 = 1;
    /// Reload LPCR (the LPAR changed its interrupt endianness or relocation).
    pub const LPCR: u32 = 2;
}

/// One virtual processor, bound to one hardware thread.
pub struct Vcpu {
    /// Index of its LPAR in [`super::Hypervisor::lpars`].
    pub lpar: usize,
    /// Its hardware thread (PIR), also the interrupt server number the LPAR sees.
    pub pir: u32,
    /// The per-CPU data of that thread.
    pub cpu: &'static PerCpu,
    state: AtomicU32,
    /// Where `start-cpu` asked it to start, and r3.
    pub start: spin::Mutex<(u64, u64)>,
    /// Its XICS interrupt presenter.
    pub icp: spin::Mutex<Presenter>,
    /// An `H_PROD` arrived: the next (or current) `H_CEDE` returns at once.
    pub prodded: AtomicBool,
    /// Pending [`kick`] requests.
    pub kicks: AtomicU32,
    /// Guest real address of its registered virtual processor area (0: none).
    pub vpa: AtomicU64,
    /// LPCR generation it last loaded.
    pub lpcr_generation: AtomicU32,
    /// Its thread runs an L2 vCPU for it (nested virtualization).
    pub in_l2: AtomicBool,
    /// The L1 context kept while an L2 runs.
    pub nested_run: spin::Mutex<NestedRun>,
}

impl Vcpu {
    /// Current state.
    pub fn state(&self) -> VcpuState {
        match self.state.load(Ordering::Acquire) {
            1 => VcpuState::Starting,
            2 => VcpuState::Running,
            _ => VcpuState::Stopped,
        }
    }

    /// Moves a stopped vCPU to Starting; false if it is not stopped (another `start-cpu` may
    /// have claimed it first).
    pub fn claim_for_start(&self) -> bool {
        self.state
            .compare_exchange(
                VcpuState::Stopped as u32,
                VcpuState::Starting as u32,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// Changes state.
    pub fn set_state(&self, s: VcpuState) {
        self.state.store(s as u32, Ordering::Release);
    }

    /// Rings this vCPU's thread's hypervisor doorbell.
    pub fn kick(&self, what: u32) {
        self.kicks.fetch_or(what, Ordering::AcqRel);
        cpu::doorbell_send(self.pir);
    }
}

/// Why an LPAR stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `power-off` from inside.
    PowerOff,
    /// `system-reboot` from inside.
    Reboot,
    /// `ibm,os-term`, or an error the hypervisor could not let it continue after.
    Crash,
}

/// An LPAR's life-cycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum LparState {
    /// Not running.
    Off = 0,
    /// Running.
    Running = 1,
    /// Its vCPUs are being stopped.
    Stopping = 2,
}

/// Counters of guest exits since the LPAR's last boot, for `docs/perf.md` and the stop
/// message.
#[derive(Default)]
pub struct Stats {
    /// Every exit to the hypervisor.
    pub exits: AtomicU64,
    /// Of which hcalls.
    pub hcalls: AtomicU64,
    /// Of which `H_CEDE`.
    pub cedes: AtomicU64,
    /// Of which doorbell kicks.
    pub doorbells: AtomicU64,
    /// Of which reflected interrupts (program, machine check, system call from user).
    pub reflected: AtomicU64,
    /// Timebase ticks spent in the hypervisor handling exits, sleeps in `H_CEDE` included.
    pub hypervisor_ticks: AtomicU64,
    /// Of which asleep in `H_CEDE` (the vCPU idle).
    pub idle_ticks: AtomicU64,
    /// Misbehaviours of the guest reported on the console (see [`Stats::may_report`]).
    pub reported: AtomicU64,
    /// L2 runs started (`H_GUEST_RUN_VCPU` entering an L2).
    pub nested_runs: AtomicU64,
    /// Exceptions taken from L2s (handled here or ending a run).
    pub nested_exits: AtomicU64,
}

impl Stats {
    fn reset(&self) {
        let counters = [
            &self.exits,
            &self.hcalls,
            &self.cedes,
            &self.doorbells,
            &self.reflected,
            &self.hypervisor_ticks,
            &self.idle_ticks,
            &self.reported,
            &self.nested_runs,
            &self.nested_exits,
        ];
        for counter in counters {
            counter.store(0, Ordering::Relaxed);
        }
    }

    /// Whether a guest misbehaviour (an access outside its memory, a bad RTAS block) may
    /// still be logged in this boot: the first [`REPORTS_PER_BOOT`], so that a guest cannot
    /// flood the shared console; the last one says so.
    pub fn may_report(&self, label: &str) -> bool {
        let n = self.reported.fetch_add(1, Ordering::Relaxed);
        if n + 1 == REPORTS_PER_BOOT {
            log::warn!("{label}: further misbehaviour in this boot is not logged");
        }
        n < REPORTS_PER_BOOT
    }
}

/// Guest misbehaviours logged per boot of an LPAR.
pub const REPORTS_PER_BOOT: u64 = 16;

/// What an LPAR boots, kept in hypervisor memory for reboots.
pub struct BootImages {
    /// The kernel ELF file.
    pub kernel: &'static [u8],
    /// The initramfs, if any.
    pub initramfs: Option<&'static [u8]>,
}

/// One logical partition.
pub struct Lpar {
    /// Index in [`super::Hypervisor::lpars`].
    pub index: usize,
    /// Its configuration.
    pub config: LparConfig,
    /// Its memory.
    pub carve: Carve,
    /// Its partition-scoped radix tree (mapping exactly its memory).
    pub tree: PartitionTree,
    /// Partition table entry doubleword 0 (pointing at `tree`).
    pub pate0: u64,
    /// Its boot images.
    pub images: BootImages,
    /// Its vCPUs, in PIR order; the first is the boot vCPU.
    pub vcpus: Vec<Vcpu>,
    state: AtomicU32,
    /// Why it is stopping.
    pub stop_reason: spin::Mutex<Option<StopReason>>,
    /// vCPUs handed to threads and not yet back.
    pub active: AtomicU32,
    /// LPCR bits the LPAR chose with `H_SET_MODE` (ILE, AIL).
    pub lpcr_bits: AtomicU64,
    /// Bumped when `lpcr_bits` change.
    pub lpcr_generation: AtomicU32,
    /// Times it has booted.
    pub boots: AtomicU32,
    /// Seconds to add to the hardware clock for `get-time-of-day` (`set-time-of-day`).
    pub clock_offset: AtomicU64,
    /// Exit counters.
    pub stats: Stats,
    /// Index of its console in the vty multiplexer.
    pub console: usize,
    /// Its L2 guests, if it has nested virtualization.
    pub nested: Option<NestedLpar>,
}

/// Byte access to an LPAR's memory through its carve (the hypervisor runs in real mode,
/// so host physical addresses are directly usable).
pub struct CarveMemory(pub Carve);

impl GuestMemory for CarveMemory {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), OutsideCarve> {
        let host = self.0.host_range(address, buf.len() as u64)?;
        // SAFETY: the range is inside the LPAR's carve (checked), which is RAM owned by the
        // hypervisor; guest writes racing with this read only make the bytes stale.
        unsafe { core::ptr::copy_nonoverlapping(host as *const u8, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), OutsideCarve> {
        let host = self.0.host_range(address, data.len() as u64)?;
        // SAFETY: as for `read`; the LPAR asked for these bytes to be written.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), host as *mut u8, data.len()) };
        Ok(())
    }
}

impl Lpar {
    /// Current state.
    pub fn state(&self) -> LparState {
        match self.state.load(Ordering::Acquire) {
            1 => LparState::Running,
            2 => LparState::Stopping,
            _ => LparState::Off,
        }
    }

    fn set_state(&self, s: LparState) {
        self.state.store(s as u32, Ordering::Release);
    }

    /// Its memory, checked access.
    pub fn memory(&self) -> CarveMemory {
        CarveMemory(self.carve)
    }

    /// The vCPU with interrupt server number (PIR) `server`.
    pub fn vcpu_by_server(&self, server: u64) -> Option<&Vcpu> {
        self.vcpus.iter().find(|v| u64::from(v.pir) == server)
    }

    /// Its name for messages: `lpar 2 "svc"`.
    pub fn label(&self) -> String {
        alloc::format!("lpar {} \"{}\"", self.config.id, self.config.name)
    }

    /// The LPCR its vCPUs run with (without MER, which each vCPU sets for itself).
    pub fn guest_lpcr(&self) -> u64 {
        let fixed = Lpcr::HR
            | Lpcr::UPRT
            | Lpcr::GTSE
            | Lpcr::HVICE
            | Lpcr::HDICE
            | Lpcr::PDEE
            | Lpcr::HDEE
            | Lpcr::DEE
            | Lpcr::EEE
            | Lpcr::OEE;
        let default_prefetch_depth = 4u64 << (63 - 11);
        fixed.bits() | default_prefetch_depth | self.lpcr_bits.load(Ordering::Acquire)
    }

    /// Changes the LPCR bits the LPAR controls; running vCPUs reload LPCR.
    pub fn update_lpcr_bits(&self, mask: Lpcr, value: Lpcr, me: &Vcpu) {
        let old = self.lpcr_bits.load(Ordering::Acquire);
        self.lpcr_bits.store((old & !mask.bits()) | (value & mask).bits(), Ordering::Release);
        self.lpcr_generation.fetch_add(1, Ordering::AcqRel);
        for v in self.vcpus.iter().filter(|v| v.pir != me.pir && v.state() == VcpuState::Running) {
            v.kick(kick::LPCR);
        }
    }

    /// Zeroes its memory, loads its images and device tree, and makes its boot vCPU ready
    /// to start. Runs on the thread of the boot vCPU.
    pub fn prepare_boot(&self) -> Result<(), String> {
        let boot = self.boots.fetch_add(1, Ordering::AcqRel) + 1;
        self.stats.reset();
        let started = crate::image::console::uptime_us();
        self.lpcr_bits.store(0, Ordering::Release);
        self.lpcr_generation.fetch_add(1, Ordering::AcqRel);
        for v in &self.vcpus {
            *v.icp.lock() = Presenter::new();
            v.prodded.store(false, Ordering::Release);
            v.kicks.store(0, Ordering::Release);
            v.vpa.store(0, Ordering::Release);
        }
        if let Some(nested) = &self.nested {
            // An L1 reset frees everything of its L2s: registry, shadow tables, shadow LPIDs.
            nested.reset();
        }
        super::setup::load_images(self)?;
        mmu::set_partition(self.config.id, self.pate0, 0);
        let boot_vcpu = &self.vcpus[0];
        info!(
            "{}: boot #{boot}: {} vCPUs, {} MiB, prepared in {} ms",
            self.label(),
            self.vcpus.len(),
            self.carve.size >> 20,
            (crate::image::console::uptime_us() - started) / 1000
        );
        self.set_state(LparState::Running);
        boot_vcpu.set_state(VcpuState::Starting);
        Ok(())
    }

    /// Starts stopping the LPAR (from one of its vCPUs): every other running vCPU is asked
    /// to leave the guest. Returns false if it was already stopping.
    pub fn begin_stop(&self, reason: StopReason, me: &Vcpu) -> bool {
        if self
            .state
            .compare_exchange(
                LparState::Running as u32,
                LparState::Stopping as u32,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return false;
        }
        *self.stop_reason.lock() = Some(reason);
        for v in self.vcpus.iter().filter(|v| v.pir != me.pir && v.state() != VcpuState::Stopped) {
            v.kick(kick::STOP);
        }
        true
    }

    /// Called by the last vCPU to leave a stopping LPAR: reports, decides the restart
    /// policy and, if the LPAR restarts, prepares it and returns its boot vCPU.
    pub fn finish_stop(&self) -> Option<&Vcpu> {
        let reason = self.stop_reason.lock().take().unwrap_or(StopReason::Crash);
        vty::lpar_stopped(self.console);
        let s = &self.stats;
        let busy =
            s.hypervisor_ticks.load(Ordering::Relaxed).saturating_sub(s.idle_ticks.load(Ordering::Relaxed));
        info!(
            "{}: {} after {} exits ({} hcalls, {} cedes, {} doorbells, {} reflected); hypervisor busy {} us",
            self.label(),
            match reason {
                StopReason::PowerOff => "powered off",
                StopReason::Reboot => "rebooting",
                StopReason::Crash => "crashed",
            },
            s.exits.load(Ordering::Relaxed),
            s.hcalls.load(Ordering::Relaxed),
            s.cedes.load(Ordering::Relaxed),
            s.doorbells.load(Ordering::Relaxed),
            s.reflected.load(Ordering::Relaxed),
            busy / 512,
        );
        if let Some(nested) = &self.nested {
            nested.report(
                &self.label(),
                s.nested_runs.load(Ordering::Relaxed),
                s.nested_exits.load(Ordering::Relaxed),
            );
        }
        let policy = self.config.restart;
        let restart = match reason {
            StopReason::Reboot => true,
            StopReason::PowerOff => policy == RestartPolicy::Always,
            StopReason::Crash => policy != RestartPolicy::Never,
        };
        for v in &self.vcpus {
            v.set_state(VcpuState::Stopped);
        }
        if !restart {
            self.set_state(LparState::Off);
            info!("{}: stays off (restart policy \"{}\")", self.label(), policy.keyword());
            return None;
        }
        if reason != StopReason::Reboot {
            info!("{}: restarting (restart policy \"{}\")", self.label(), policy.keyword());
        }
        match self.prepare_boot() {
            Ok(()) => Some(&self.vcpus[0]),
            Err(e) => {
                error!("{}: cannot restart: {e}", self.label());
                self.set_state(LparState::Off);
                None
            }
        }
    }
}

impl Vcpu {
    pub(super) fn new(lpar: usize, pir: u32, cpu: &'static PerCpu) -> Self {
        Self {
            lpar,
            pir,
            cpu,
            state: AtomicU32::new(0),
            start: spin::Mutex::new((0, 0)),
            icp: spin::Mutex::new(Presenter::new()),
            prodded: AtomicBool::new(false),
            kicks: AtomicU32::new(0),
            vpa: AtomicU64::new(0),
            lpcr_generation: AtomicU32::new(0),
            in_l2: AtomicBool::new(false),
            nested_run: spin::Mutex::new(NestedRun::default()),
        }
    }
}

impl Lpar {
    pub(super) fn new(
        index: usize,
        config: LparConfig,
        carve: Carve,
        (tree, pate0): (PartitionTree, u64),
        images: BootImages,
        vcpus: Vec<Vcpu>,
        console: usize,
    ) -> Self {
        Self {
            index,
            config,
            carve,
            tree,
            pate0,
            images,
            vcpus,
            state: AtomicU32::new(LparState::Off as u32),
            stop_reason: spin::Mutex::new(None),
            active: AtomicU32::new(0),
            lpcr_bits: AtomicU64::new(0),
            lpcr_generation: AtomicU32::new(0),
            boots: AtomicU32::new(0),
            clock_offset: AtomicU64::new(0),
            stats: Stats::default(),
            console,
            nested: None,
        }
    }
}

/// Hands vCPU `vcpu` of LPAR `lpar` to its thread (from another thread).
pub fn dispatch(lpar: &Lpar, vcpu: &Vcpu) -> bool {
    lpar.active.fetch_add(1, Ordering::AcqRel);
    let arg = run::job_argument(lpar.index, vcpu);
    if vcpu.cpu.mailbox.post_detached(run::vcpu_job, arg).is_err() {
        lpar.active.fetch_sub(1, Ordering::AcqRel);
        warn!("{}: thread PIR {:#x} is busy; vCPU not started", lpar.label(), vcpu.pir);
        return false;
    }
    cpus::wake(vcpu.cpu);
    true
}
