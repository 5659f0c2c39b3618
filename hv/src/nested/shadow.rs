//! The decisions behind an L2's shadow partition-scoped table, independent of the processor.
//!
//! POWER9 walks one partition-scoped radix tree per LPID (logical partition id), guest real →
//! host real. An L2's addresses go through two trees: the L1's tree for it (L2 real → L1 real,
//! in L1 memory, GSID 0x0005) and the L1's carve (L1 real → host real, one contiguous range).
//! The hypervisor gives each running L2 a shadow LPID whose tree maps L2 real straight to host
//! real, filled one 4 KiB page per fault:
//!
//! * [`fault_decision`] — what an L2 partition-scoped fault (HDSI, hypervisor data storage
//!   interrupt, or HISI, hypervisor instruction storage interrupt) leads to: a shadow page, a
//!   fault reflected to the L1 with the status bits the hardware would have set, or a refusal
//!   when the L1 maps its L2 onto memory the L1 does not have;
//! * [`parse_rpt_invalidate`] and [`parse_tlb_invalidate`] — the L1's invalidation hypercalls
//!   turned into what the shadow must drop;
//! * [`LpidPool`] — LPIDs shared between LPARs (their configured ids) and shadow LPIDs.

use super::hcall::{Rejection, H_P2, H_P3, H_P4, H_PARAMETER};
use crate::radix::format::Perms;
use crate::radix::walk::dsisr;
use crate::radix::{Access, Attribute, Translation, WalkFault, GUEST_ADDRESS_LIMIT};

/// Shadow pages are 4 KiB: always a subset of the L1's page, whatever its size.
pub const SHADOW_PAGE: u64 = 4096;

/// HSRR1 (hypervisor save/restore register 1) cause bits of an HISI, which a Linux L1 reads
/// from the exit's MSR: no translation (bit 33), guarded or no-execute (bit 35), protection
/// (bit 36).
pub mod hisi_cause {
    /// No translation.
    pub const NOPTE: u64 = 0x4000_0000;
    /// Fetch from guarded storage or a no-execute page.
    pub const GUARDED: u64 = 0x1000_0000;
    /// Protection.
    pub const PROTECTION: u64 = 0x0800_0000;
    /// Every cause bit.
    pub const ALL: u64 = 0x7800_0000 | 0x0004_0000 | 0x0002_0000;
}

/// What an L2 partition-scoped fault leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShadowFault {
    /// Map the 4 KiB page at `l2_page` (L2 real) to `l1_page` (L1 real) with `perms`, and
    /// resume the L2.
    Map {
        /// L2 real address of the page.
        l2_page: u64,
        /// L1 real address of the page.
        l1_page: u64,
        /// What the shadow entry allows: the L1's leaf, without write while its C (change)
        /// bit is clear, so that the first store faults again and is reflected for C.
        perms: Perms,
        /// The L1 leaf's storage attribute.
        attribute: Attribute,
    },
    /// Exit to the L1 with this fault: for an HDSI, HDSISR = `status` (HDAR and ASDR as the
    /// hardware set them); for an HISI, `status` replaces the cause bits of the exit's MSR.
    Reflect {
        /// HDSISR, or the HISI cause bits.
        status: u64,
    },
    /// The L1's tree maps the page onto L1 real `l1_address`, outside the L1's memory. The
    /// L2 must not get it; the hypervisor ends the run with a machine check for the L1.
    OutsideL1 {
        /// The L1 real address its tree named.
        l1_address: u64,
    },
}

/// The access of an HDSI from its HDSISR (bit 38: store), or a fetch for an HISI.
pub fn fault_access(instruction: bool, hdsisr: u64) -> Access {
    if instruction {
        Access::Fetch
    } else if hdsisr & dsisr::ISSTORE != 0 {
        Access::Store
    } else {
        Access::Load
    }
}

/// Decides what an L2 fault at L2 real address `l2_address` does, given the walk of the L1's
/// tree for it (`walk` already checked for `access`) and the size of the L1's memory
/// (`l1_memory_bytes`, L1 real addresses `0..l1_memory_bytes`).
pub fn fault_decision(
    l2_address: u64,
    access: Access,
    walk: Result<Translation, WalkFault>,
    l1_memory_bytes: u64,
) -> ShadowFault {
    let translation = match walk {
        Ok(translation) => translation,
        Err(fault) => return ShadowFault::Reflect { status: reflected_status(&fault, access) },
    };
    let l1_page = translation.hpa & !(SHADOW_PAGE - 1);
    if l1_page.checked_add(SHADOW_PAGE).is_none_or(|end| end > l1_memory_bytes) {
        return ShadowFault::OutsideL1 { l1_address: translation.hpa };
    }
    let perms = Perms { write: translation.perms.write && translation.changed, ..translation.perms };
    ShadowFault::Map {
        l2_page: l2_address & !(SHADOW_PAGE - 1),
        l1_page,
        perms,
        attribute: translation.attribute,
    }
}

/// The status an L1 sees for a fault of its own tree: HDSISR bits for loads and stores (the
/// store bit kept), HISI cause bits for fetches.
fn reflected_status(fault: &WalkFault, access: Access) -> u64 {
    let data = fault.dsisr(access);
    match access {
        Access::Load => data,
        Access::Store => data | dsisr::ISSTORE,
        Access::Fetch => match fault {
            WalkFault::Permission { .. } => hisi_cause::PROTECTION,
            WalkFault::GuardedFetch { .. } => hisi_cause::GUARDED,
            // Everything else (no translation, unreadable or malformed table, R not set) is
            // "no translation" for a fetch, as KVM reads it.
            _ => hisi_cause::NOPTE,
        },
    }
}

/// `H_RPT_INVALIDATE` type bits (r6).
pub mod rpt_type {
    /// The id (r4) is a nested guest id, the invalidation is partition scoped for it.
    pub const NESTED: u64 = 0x1;
    /// TLB entries.
    pub const TLB: u64 = 0x2;
    /// Page-walk cache.
    pub const PWC: u64 = 0x4;
    /// Process table entries (PRT), or with NESTED the partition table entry (PAT).
    pub const PRT_OR_PAT: u64 = 0x8;
    /// Every defined type bit.
    pub const ALL: u64 = NESTED | TLB | PWC | PRT_OR_PAT;
}

/// `H_RPT_INVALIDATE` target bits (r5): all vCPUs, the calling vCPU, the nest MMU.
pub const RPT_TARGET_ALL: u64 = 0x1 | 0x2 | 0x4;

/// What the shadow (or the L1's own translations) must drop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalidation {
    /// The L1's own process-scoped translations (its PID `pid`): the hardware caches them
    /// under the L1's LPID.
    L1ProcessScoped {
        /// The PID.
        pid: u64,
    },
    /// Shadow entries of guest `guest_id` for L2 real addresses `start..end` (TLB only).
    ShadowRange {
        /// Guest id.
        guest_id: u64,
        /// First L2 real address.
        start: u64,
        /// End (exclusive).
        end: u64,
    },
    /// Every shadow entry of guest `guest_id` (page-walk cache, partition table entry, or
    /// a range too large to walk).
    ShadowAll {
        /// Guest id.
        guest_id: u64,
    },
}

/// A range above this many bytes clears the whole shadow instead of walking it.
pub const RANGE_LIMIT: u64 = 1 << 30;

/// Checks `H_RPT_INVALIDATE(id, target, type, page sizes, start, end)`.
pub fn parse_rpt_invalidate(
    id: u64,
    target: u64,
    kind: u64,
    _page_sizes: u64,
    start: u64,
    end: u64,
) -> Result<Invalidation, Rejection> {
    if target == 0 || target & !RPT_TARGET_ALL != 0 {
        return Err(Rejection::new(H_P2));
    }
    if kind & !rpt_type::ALL != 0 || kind & !rpt_type::NESTED == 0 {
        return Err(Rejection::new(H_P3));
    }
    if kind & rpt_type::NESTED == 0 {
        return Ok(Invalidation::L1ProcessScoped { pid: id });
    }
    let whole = kind & (rpt_type::PWC | rpt_type::PRT_OR_PAT) != 0;
    if whole || start >= end || end - start > RANGE_LIMIT || end > GUEST_ADDRESS_LIMIT {
        return Ok(Invalidation::ShadowAll { guest_id: id });
    }
    Ok(Invalidation::ShadowRange {
        guest_id: id,
        start: start & !(SHADOW_PAGE - 1),
        end: end.saturating_add(SHADOW_PAGE - 1) & !(SHADOW_PAGE - 1),
    })
}

/// The nested API v1 `H_TLB_INVALIDATE(RIC/PRS/R encoding, guest id, RB)`: the encoding is
/// Linux's `H_TLBIE_P1_ENC(ric, prs, r)` = ric << 2 | prs << 1 | r. Radix only (R = 1).
/// A single-page invalidation (RIC = 0, partition scoped) drops that page's shadow entries;
/// everything else drops the whole shadow (always correct, never needed by a v2 L1 that
/// was offered `H_RPT_INVALIDATE`).
pub fn parse_tlb_invalidate(encoding: u64, guest_id: u64, rb: u64) -> Result<Invalidation, Rejection> {
    let (ric, prs, radix) = (encoding >> 2, (encoding >> 1) & 1, encoding & 1);
    if ric > 2 || radix != 1 {
        return Err(Rejection::new(H_P2));
    }
    if guest_id == 0 {
        return Err(Rejection::new(H_P3));
    }
    // RB: EPN in bits 0:51, IS in 52:53 (0 = this page), AP in 56:58.
    let is = (rb >> 10) & 3;
    if ric == 0 && prs == 0 && is == 0 {
        let size = match (rb >> 5) & 7 {
            0 => 4 << 10,
            5 => 64 << 10,
            1 => 2 << 20,
            2 => 1 << 30,
            _ => return Err(Rejection::new(H_P4)),
        };
        let start = rb & !0xfff & !(size - 1);
        return Ok(match start.checked_add(size).filter(|&end| end <= GUEST_ADDRESS_LIMIT) {
            Some(end) => Invalidation::ShadowRange { guest_id, start, end },
            // Beyond what a tree translates: dropping everything is never wrong.
            None => Invalidation::ShadowAll { guest_id },
        });
    }
    Ok(Invalidation::ShadowAll { guest_id })
}

/// LPIDs (logical partition ids, 12 bits on POWER9): 0 is the hypervisor's, configured
/// LPARs keep their ids, shadow LPIDs for L2s come from the rest, lowest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LpidPool {
    used: [u64; LPIDS / 64],
}

/// LPIDs LPIDR can hold.
pub const LPIDS: usize = 4096;

impl LpidPool {
    /// A pool with LPID 0 and `reserved` (the LPARs' ids) taken.
    pub fn new(reserved: impl IntoIterator<Item = u32>) -> Self {
        let mut pool = Self { used: [0; LPIDS / 64] };
        pool.used[0] = 1;
        for lpid in reserved {
            if let Some(word) = pool.used.get_mut(lpid as usize / 64) {
                *word |= 1 << (lpid % 64);
            }
        }
        pool
    }

    /// Takes the lowest free LPID.
    pub fn allocate(&mut self) -> Option<u32> {
        let (index, word) = self.used.iter_mut().enumerate().find(|(_, word)| **word != u64::MAX)?;
        let bit = word.trailing_ones();
        *word |= 1 << bit;
        Some(index as u32 * 64 + bit)
    }

    /// Returns a shadow LPID.
    pub fn free(&mut self, lpid: u32) {
        if lpid != 0 {
            if let Some(word) = self.used.get_mut(lpid as usize / 64) {
                *word &= !(1 << (lpid % 64));
            }
        }
    }

    /// LPIDs still free.
    pub fn free_count(&self) -> u32 {
        self.used.iter().map(|word| word.count_zeros()).sum()
    }
}

/// Rejects an `H_RPT_INVALIDATE` whose id is not a guest of the L1.
pub fn unknown_guest() -> Rejection {
    Rejection::new(H_PARAMETER)
}
