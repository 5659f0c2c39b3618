//! Shadow partition-scoped tables: one radix tree per L2 guest that has run, mapping L2 real
//! addresses straight to host real addresses under a shadow LPID of its own, filled one page
//! per fault from the L1's tree for the L2 and the L1's carve (decisions in
//! `oxiboot_hv::nested::shadow`), dropped on the L1's invalidations.
//!
//! Table memory comes from the firmware heap within the LPAR's budget; when it runs out, every
//! shadow of the LPAR is cleared (counted as reclaimed) and filling starts again.

use super::NestedLpar;
use crate::image::partition::lpar::Lpar;
use crate::image::partition::mmu;
use crate::image::partition::setup::HeapTables;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use log::warn;
use oxiboot::exception::ExceptionFrame;
use oxiboot_hv::nested::hcall::{Rejection, DELETE_FLAG_ALL_GUESTS, H_NOT_ENOUGH_RESOURCES};
use oxiboot_hv::nested::registry::PageTableUsage;
use oxiboot_hv::nested::shadow::{
    fault_access, fault_decision, unknown_guest, Invalidation, LpidPool, ShadowFault,
};
use oxiboot_hv::nested::state::GuestState;
use oxiboot_hv::radix::{
    encode_pate_dw0, encode_process_table_dw1, walk_access, MapMode, PageSize, PartitionTree, ProcessTable,
    RadixError, TableMemory,
};

/// Shadow LPIDs: every LPID no configured LPAR uses.
static LPIDS: spin::Mutex<Option<LpidPool>> = spin::Mutex::new(None);

/// Takes the LPARs' LPIDs out of the pool (at set-up).
pub fn init_lpids(lpar_ids: impl IntoIterator<Item = u32>) {
    *LPIDS.lock() = Some(LpidPool::new(lpar_ids));
}

/// One guest's shadow.
struct Shadow {
    lpid: u32,
    tree: PartitionTree,
    /// The L1's tree for the guest (PATE doubleword 0 form), as last seen.
    l1_pate0: u64,
    /// The partition-table entry written for `lpid`.
    pate: (u64, u64),
}

/// Every shadow of one LPAR and the vCPUs running now.
pub struct Shadows {
    guests: BTreeMap<u64, Shadow>,
    running: BTreeSet<(u64, u64)>,
    memory: AccountedTables,
}

/// The firmware heap as table memory, within a budget; freed tables wait for the flush.
struct AccountedTables {
    in_use: u64,
    max: u64,
    reclaimed: u64,
    pending: Vec<(u64, u64)>,
}

impl TableMemory for AccountedTables {
    fn read_u64(&self, pa: u64) -> Option<u64> {
        HeapTables.read_u64(pa)
    }
    fn write_u64(&mut self, pa: u64, value: u64) -> bool {
        HeapTables.write_u64(pa, value)
    }
    fn alloc_table(&mut self, bytes: u64) -> Option<u64> {
        if self.in_use + bytes > self.max {
            return None;
        }
        let pa = HeapTables.alloc_table(bytes)?;
        self.in_use += bytes;
        Some(pa)
    }
    fn free_table(&mut self, pa: u64, bytes: u64) {
        self.in_use = self.in_use.saturating_sub(bytes);
        self.pending.push((pa, bytes));
    }
}

impl AccountedTables {
    /// Gives back the tables freed since the last flush (call after `tlbie` for their LPID).
    fn release(&mut self) {
        for (pa, bytes) in self.pending.drain(..) {
            // No table references it any more and its LPID's cached walks were flushed.
            HeapTables.free_table(pa, bytes);
        }
    }
}

impl Shadows {
    /// No shadows, `max_table_bytes` allowed.
    pub fn new(max_table_bytes: u64) -> Self {
        Self {
            guests: BTreeMap::new(),
            running: BTreeSet::new(),
            memory: AccountedTables { in_use: 0, max: max_table_bytes, reclaimed: 0, pending: Vec::new() },
        }
    }

    /// For the host-wide statistics.
    pub fn usage(&self) -> PageTableUsage {
        PageTableUsage { in_use: self.memory.in_use, max: self.memory.max, reclaimed: self.memory.reclaimed }
    }

    /// Whether an `H_GUEST_DELETE(flags, guest)` would delete a guest one of whose vCPUs runs.
    pub fn deleting_running(&self, flags: u64, guest_id: u64) -> bool {
        let all = flags & DELETE_FLAG_ALL_GUESTS != 0;
        self.running.iter().any(|&(guest, _)| all || guest == guest_id)
    }

    /// Marks a vCPU running; false if it already is (on another thread).
    pub fn start_running(&mut self, guest_id: u64, vcpu_id: u64) -> bool {
        self.running.insert((guest_id, vcpu_id))
    }

    /// Marks a vCPU stopped.
    pub fn stop_running(&mut self, guest_id: u64, vcpu_id: u64) {
        self.running.remove(&(guest_id, vcpu_id));
    }

    /// Frees the shadows of deleted guests.
    pub fn remove(&mut self, guest_ids: &[u64]) {
        for id in guest_ids {
            if let Some(shadow) = self.guests.remove(id) {
                self.destroy(shadow);
            }
        }
    }

    /// Frees every shadow (the LPAR reboots).
    pub fn remove_all(&mut self) {
        let guests = core::mem::take(&mut self.guests);
        for (_, shadow) in guests {
            self.destroy(shadow);
        }
        self.running.clear();
    }

    fn destroy(&mut self, shadow: Shadow) {
        // The entry cleared and its LPID flushed first: nothing can walk the tree after that,
        // so its tables may go back to the heap at once.
        mmu::set_partition(shadow.lpid, 0, 0);
        shadow.tree.destroy(&mut self.memory);
        self.memory.release();
        if let Some(pool) = LPIDS.lock().as_mut() {
            pool.free(shadow.lpid);
        }
    }

    /// Makes the guest's shadow ready to run: LPID, tree, partition-table entry matching what
    /// the L1 last set (a new L1 tree root clears the shadow). Returns the shadow LPID.
    pub fn prepare(&mut self, guest_id: u64, state: &GuestState) -> Result<u32, Rejection> {
        let no_resources = Rejection::new(H_NOT_ENOUGH_RESOURCES);
        let l1_table = state.partition_table.ok_or(no_resources)?;
        let l1_pate0 = encode_pate_dw0(
            l1_table.root_address,
            l1_table.effective_address_bits as u32,
            l1_table.root_size,
        )
        .unwrap_or(0);
        if !self.guests.contains_key(&guest_id) {
            let lpid = LPIDS.lock().as_mut().and_then(LpidPool::allocate).ok_or(no_resources)?;
            let tree = match PartitionTree::new(&mut self.memory) {
                Ok(tree) => tree,
                Err(_) => {
                    if let Some(pool) = LPIDS.lock().as_mut() {
                        pool.free(lpid);
                    }
                    return Err(no_resources);
                }
            };
            self.guests.insert(guest_id, Shadow { lpid, tree, l1_pate0, pate: (0, 0) });
        }
        let Some(shadow) = self.guests.get_mut(&guest_id) else { return Err(no_resources) };
        if shadow.l1_pate0 != l1_pate0 {
            shadow.l1_pate0 = l1_pate0;
            let _ = shadow.tree.clear(&mut self.memory);
            shadow.pate = (0, 0);
        }
        let process_table = state
            .process_table
            .and_then(|t| {
                ProcessTable::size_code_for(t.size)
                    .and_then(|code| encode_process_table_dw1(t.base_address, code).ok())
            })
            .unwrap_or(0);
        let pate = (shadow.tree.pate_dw0(), process_table);
        if shadow.pate != pate {
            shadow.pate = pate;
            mmu::set_partition(shadow.lpid, pate.0, pate.1);
        }
        let lpid = shadow.lpid;
        self.memory.release();
        Ok(lpid)
    }
}

/// What an L2 partition-scoped fault came to.
pub enum FaultOutcome {
    /// Shadow page added: resume the L2.
    Resolved,
    /// Exit to the L1 with the fault; HDSISR (or the HISI cause bits) to report.
    Reflect(u64),
    /// The L1 mapped the L2 outside its memory: end the run with a machine check.
    OutsideL1,
}

/// Handles an HDSI (0xE00) or HISI (0xE20) of guest `guest_id`'s vCPU.
pub fn fault(lpar: &Lpar, nested: &NestedLpar, guest_id: u64, f: &ExceptionFrame) -> FaultOutcome {
    let instruction = f.vector == 0xe20;
    let access = fault_access(instruction, f.hdsisr);
    // ASDR holds the L2 real address whose partition-scoped translation failed.
    let l2_address = f.asdr & !0xfff;
    let carve = lpar.carve;
    let mut shadows = nested.shadows.lock();
    let Some(l1_pate0) = shadows.guests.get(&guest_id).map(|s| s.l1_pate0) else {
        return FaultOutcome::Reflect(f.hdsisr);
    };
    let read_l1 = |pa: u64| {
        let host = carve.host_range(pa, 8).ok()?;
        // SAFETY: inside the L1's carve (checked); the L1 may change it concurrently, which
        // only makes the walk see an older or newer entry, as the hardware would.
        Some(u64::from_be(unsafe { core::ptr::read_volatile(host as *const u64) }))
    };
    let walk = walk_access(read_l1, l1_pate0, l2_address, access);
    match fault_decision(l2_address, access, walk, carve.size) {
        ShadowFault::Reflect { status } => FaultOutcome::Reflect(status),
        ShadowFault::OutsideL1 { l1_address } => {
            let label = lpar.label();
            if lpar.stats.may_report(&label) {
                warn!(
                    "{label}: its L2 guest {guest_id} was mapped at L1 real address {l1_address:#x}, outside the LPAR's memory; machine check to the L1"
                );
            }
            FaultOutcome::OutsideL1
        }
        ShadowFault::Map { l2_page, l1_page, perms, attribute } => {
            let host = carve.host_base + l1_page;
            match map(&mut shadows, guest_id, l2_page, host, perms, attribute) {
                Ok(()) => FaultOutcome::Resolved,
                Err(RadixError::OutOfMemory { .. }) => {
                    reclaim(&mut shadows);
                    match map(&mut shadows, guest_id, l2_page, host, perms, attribute) {
                        Ok(()) => FaultOutcome::Resolved,
                        Err(_) => FaultOutcome::Reflect(f.hdsisr),
                    }
                }
                Err(_) => FaultOutcome::Reflect(f.hdsisr),
            }
        }
    }
}

fn map(
    shadows: &mut Shadows,
    guest_id: u64,
    l2_page: u64,
    host: u64,
    perms: oxiboot_hv::radix::Perms,
    attribute: oxiboot_hv::radix::Attribute,
) -> Result<(), RadixError> {
    let Shadows { guests, memory, .. } = shadows;
    let Some(shadow) = guests.get_mut(&guest_id) else { return Ok(()) };
    let stats = shadow.tree.map_page_with(
        memory,
        l2_page,
        host,
        PageSize::Size4K,
        perms,
        attribute,
        MapMode::Replace,
    )?;
    if stats.replaced_pages != 0 || stats.tables_freed != 0 {
        // A read-only entry became writable (or a large one was replaced): the old one may be
        // cached.
        mmu::flush_lpid(shadow.lpid);
        memory.release();
    }
    Ok(())
}

/// Out of table memory: every shadow of the LPAR starts again empty.
fn reclaim(shadows: &mut Shadows) {
    let before = shadows.memory.in_use;
    let Shadows { guests, memory, .. } = shadows;
    for shadow in guests.values_mut() {
        let _ = shadow.tree.clear(memory);
        mmu::flush_lpid(shadow.lpid);
    }
    memory.release();
    memory.reclaimed += before.saturating_sub(memory.in_use);
}

/// Carries out an L1's invalidation hypercall.
pub fn invalidate(lpar: &Lpar, nested: &NestedLpar, what: Invalidation) -> Result<(), Rejection> {
    let guest_id = match what {
        Invalidation::L1ProcessScoped { .. } => {
            // The L1's own translations, cached under its LPID: flushed whole (a superset).
            mmu::flush_lpid(lpar.config.id);
            return Ok(());
        }
        Invalidation::ShadowRange { guest_id, .. } | Invalidation::ShadowAll { guest_id } => guest_id,
    };
    if nested.registry.lock().l2_guest(guest_id).is_none() {
        return Err(unknown_guest());
    }
    let mut shadows = nested.shadows.lock();
    let Shadows { guests, memory, .. } = &mut *shadows;
    // A guest that never ran has no shadow: nothing is cached for it.
    let Some(shadow) = guests.get_mut(&guest_id) else { return Ok(()) };
    let ranged = match what {
        Invalidation::ShadowRange { start, end, .. } => shadow.tree.unmap(memory, start, end - start).is_ok(),
        _ => false,
    };
    if !ranged {
        // Everything (also when a range could not be walked: dropping more is never wrong).
        let _ = shadow.tree.clear(memory);
    }
    mmu::flush_lpid(shadow.lpid);
    memory.release();
    Ok(())
}
