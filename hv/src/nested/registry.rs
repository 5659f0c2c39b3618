//! The nested-virtualization bookkeeping of one L1 (one LPAR): negotiated capabilities, its L2
//! guests and their vCPUs, the limits from the configuration, and an exact account of the heap
//! they use (the host-wide statistics report it).
//!
//! The heap account is what the hypervisor allocates per object — [`L2Guest`] per guest, a
//! boxed [`VcpuState`] per vCPU — and limits are enforced on it *before* allocating, so an L1
//! hits `H_NOT_ENOUGH_RESOURCES` rather than exhausting the firmware heap. Shadow page tables
//! are accounted by their own code and passed in as [`PageTableUsage`].

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use core::mem::size_of;

use super::access::HostWideStatistics;
use super::args::{NestedView, MAX_VCPU_ID};
use super::hcall::{Rejection, H_IN_USE, H_NOT_ENOUGH_RESOURCES, H_P2, H_P3, H_STATE};
use super::state::{GuestState, VcpuState};

/// Guest ids are 1…4095, like QEMU's (0 is never a guest).
pub const MAX_GUEST_ID: u64 = 4095;
/// vCPUs per guest allowed by the API (ids 0–2047).
pub const MAX_VCPUS_PER_GUEST: u32 = 2048;

/// Per-L1 limits, from the LPAR configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most L2 guests at once (at most 4095).
    pub max_guests: u32,
    /// Most vCPUs per guest (at most 2048).
    pub max_vcpus_per_guest: u32,
    /// Heap bytes this L1's guests and vCPUs may use.
    pub heap_budget_bytes: u64,
}

impl Default for Limits {
    /// QEMU's limits, with a 64 MiB heap budget (about 30 000 vCPUs).
    fn default() -> Self {
        Self {
            max_guests: MAX_GUEST_ID as u32,
            max_vcpus_per_guest: MAX_VCPUS_PER_GUEST,
            heap_budget_bytes: 64 << 20,
        }
    }
}

/// Shadow page-table memory of this L1's L2s, from the shadow page-table code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageTableUsage {
    /// Bytes in use.
    pub in_use: u64,
    /// Bytes allowed.
    pub max: u64,
    /// Bytes reclaimed so far.
    pub reclaimed: u64,
}

/// One L2 guest: its guest-wide state and its vCPUs by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct L2Guest {
    /// Guest-wide state.
    pub state: GuestState,
    /// vCPUs by vCPU id.
    pub vcpus: BTreeMap<u32, Box<VcpuState>>,
}

/// Heap bytes accounted per guest.
pub const GUEST_HEAP_BYTES: u64 = size_of::<L2Guest>() as u64;
/// Heap bytes accounted per vCPU.
pub const VCPU_HEAP_BYTES: u64 = size_of::<VcpuState>() as u64;

/// The nested state of one L1.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registry {
    limits: Limits,
    negotiated: Option<u64>,
    guests: BTreeMap<u64, L2Guest>,
    heap_in_use: u64,
}

impl Registry {
    /// An L1 with no guests and nothing negotiated.
    pub fn new(limits: Limits) -> Self {
        let limits = Limits {
            max_guests: limits.max_guests.min(MAX_GUEST_ID as u32),
            max_vcpus_per_guest: limits.max_vcpus_per_guest.min(MAX_VCPUS_PER_GUEST),
            heap_budget_bytes: limits.heap_budget_bytes,
        };
        Self { limits, negotiated: None, guests: BTreeMap::new(), heap_in_use: 0 }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Records a successful SET_CAPABILITIES; `H_STATE` if one already succeeded.
    pub fn set_capabilities(&mut self, bitmap: u64) -> Result<(), Rejection> {
        if self.negotiated.is_some() {
            return Err(Rejection::new(H_STATE));
        }
        self.negotiated = Some(bitmap);
        Ok(())
    }

    /// Creates a guest with the lowest free id; returns the id.
    pub fn create_guest(&mut self) -> Result<u64, Rejection> {
        if !self.can_create_guest() {
            return Err(Rejection::new(H_NOT_ENOUGH_RESOURCES));
        }
        let id = (1..=MAX_GUEST_ID)
            .find(|id| !self.guests.contains_key(id))
            .ok_or(Rejection::new(H_NOT_ENOUGH_RESOURCES))?;
        self.guests.insert(id, L2Guest::default());
        self.heap_in_use += GUEST_HEAP_BYTES;
        Ok(id)
    }

    /// Creates vCPU `vcpu_id` in guest `guest_id`.
    pub fn create_vcpu(&mut self, guest_id: u64, vcpu_id: u64) -> Result<(), Rejection> {
        if vcpu_id > MAX_VCPU_ID {
            return Err(Rejection::new(H_P3));
        }
        let can_create = self.can_create_vcpu(guest_id);
        let guest = self.guests.get_mut(&guest_id).ok_or(Rejection::new(H_P2))?;
        let key = vcpu_id as u32;
        if guest.vcpus.contains_key(&key) {
            return Err(Rejection::new(H_IN_USE));
        }
        if !can_create {
            return Err(Rejection::new(H_NOT_ENOUGH_RESOURCES));
        }
        guest.vcpus.insert(key, Box::default());
        self.heap_in_use += VCPU_HEAP_BYTES;
        Ok(())
    }

    /// Removes a guest and its vCPUs and returns it (the caller frees its shadow tables and
    /// shadow LPID); `None` if there is no such guest.
    pub fn delete_guest(&mut self, guest_id: u64) -> Option<L2Guest> {
        let guest = self.guests.remove(&guest_id)?;
        let freed = GUEST_HEAP_BYTES + VCPU_HEAP_BYTES * guest.vcpus.len() as u64;
        self.heap_in_use = self.heap_in_use.saturating_sub(freed);
        Some(guest)
    }

    /// H_GUEST_DELETE with the delete-all flag, used by kexec/kdump to reset the L0: removes
    /// every guest and forgets the negotiated capabilities, so that the next kernel can
    /// negotiate again. Returns the removed guest ids.
    pub fn delete_all(&mut self) -> alloc::vec::Vec<u64> {
        let ids = self.guests.keys().copied().collect();
        self.guests.clear();
        self.heap_in_use = 0;
        self.negotiated = None;
        ids
    }

    /// The guest with this id.
    pub fn guest_mut(&mut self, guest_id: u64) -> Option<&mut L2Guest> {
        self.guests.get_mut(&guest_id)
    }

    /// The guest with this id.
    pub fn l2_guest(&self, guest_id: u64) -> Option<&L2Guest> {
        self.guests.get(&guest_id)
    }

    /// A vCPU's state.
    pub fn vcpu_mut(&mut self, guest_id: u64, vcpu_id: u64) -> Option<&mut VcpuState> {
        let key = u32::try_from(vcpu_id).ok()?;
        self.guests.get_mut(&guest_id)?.vcpus.get_mut(&key).map(|vcpu| &mut **vcpu)
    }

    /// Number of guests.
    pub fn guest_count(&self) -> usize {
        self.guests.len()
    }

    /// Number of vCPUs over all guests.
    pub fn vcpu_count(&self) -> usize {
        self.guests.values().map(|guest| guest.vcpus.len()).sum()
    }

    /// Heap bytes in use for guests and vCPUs.
    pub fn heap_in_use(&self) -> u64 {
        self.heap_in_use
    }

    /// The host-wide statistics for a GET_STATE, from this account and the page-table code's.
    pub fn host_wide_statistics(&self, page_tables: PageTableUsage) -> HostWideStatistics {
        HostWideStatistics {
            guest_heap_in_use: self.heap_in_use,
            guest_heap_max: self.limits.heap_budget_bytes,
            page_table_in_use: page_tables.in_use,
            page_table_max: page_tables.max,
            page_table_reclaimed: page_tables.reclaimed,
        }
    }

    fn heap_allows(&self, bytes: u64) -> bool {
        self.heap_in_use.checked_add(bytes).is_some_and(|total| total <= self.limits.heap_budget_bytes)
    }
}

impl NestedView for Registry {
    fn negotiated_capabilities(&self) -> Option<u64> {
        self.negotiated
    }

    fn guest(&self, guest_id: u64) -> Option<&GuestState> {
        self.guests.get(&guest_id).map(|guest| &guest.state)
    }

    fn vcpu(&self, guest_id: u64, vcpu_id: u64) -> Option<&VcpuState> {
        let key = u32::try_from(vcpu_id).ok()?;
        self.guests.get(&guest_id)?.vcpus.get(&key).map(|vcpu| &**vcpu)
    }

    fn can_create_guest(&self) -> bool {
        self.guests.len() < self.limits.max_guests as usize && self.heap_allows(GUEST_HEAP_BYTES)
    }

    fn can_create_vcpu(&self, guest_id: u64) -> bool {
        self.guests
            .get(&guest_id)
            .is_some_and(|guest| guest.vcpus.len() < self.limits.max_vcpus_per_guest as usize)
            && self.heap_allows(VCPU_HEAP_BYTES)
    }
}
