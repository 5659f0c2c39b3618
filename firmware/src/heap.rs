//! The firmware heap: a first-fit free-list allocator over one fixed region, with
//! neighbouring free blocks merged on release, behind a spin lock as the global allocator.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{self, NonNull};

/// Allocation granule: every block is a multiple of this and aligned to it.
const UNIT: usize = 16;

/// Header kept in each free block.
#[repr(C)]
struct FreeBlock {
    size: usize,
    next: Option<NonNull<FreeBlock>>,
}

const _: () = assert!(core::mem::size_of::<FreeBlock>() <= UNIT);

/// Free-list allocator state (not locked; see [`LockedHeap`]).
pub struct FreeListHeap {
    /// Free blocks in address order.
    head: Option<NonNull<FreeBlock>>,
    total: usize,
    free: usize,
}

// SAFETY: the heap exclusively owns the memory its blocks point into; moving the state to
// another thread moves that ownership with it.
unsafe impl Send for FreeListHeap {}

fn round_up(n: usize, to: usize) -> Option<usize> {
    n.checked_add(to - 1).map(|v| v & !(to - 1))
}

/// Usage figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes managed.
    pub total: usize,
    /// Bytes free.
    pub free: usize,
    /// Largest single free block.
    pub largest_free: usize,
    /// Number of free blocks (fragmentation).
    pub free_blocks: usize,
}

impl FreeListHeap {
    /// An empty heap; add memory with [`FreeListHeap::add_region`].
    pub const fn empty() -> Self {
        Self { head: None, total: 0, free: 0 }
    }

    /// Hands `[base, base + size)` to the heap (trimmed to the granule). Regions may be added
    /// at any time; they must not overlap each other.
    ///
    /// # Safety
    /// The range must be valid, writable memory used by nothing else for as long as the
    /// heap exists, and must not overlap memory the heap already manages.
    pub unsafe fn add_region(&mut self, base: *mut u8, size: usize) {
        let start = round_up(base as usize, UNIT).unwrap_or(usize::MAX);
        let end = (base as usize).saturating_add(size) & !(UNIT - 1);
        if end <= start {
            return;
        }
        self.total += end - start;
        // SAFETY: the caller gives us this memory; inserting it as a released block links it
        // into the address-ordered free list (merging with neighbours).
        unsafe { self.release(start as *mut u8, Layout::from_size_align_unchecked(end - start, UNIT)) };
    }

    /// Allocates a block for `layout`, or returns null.
    pub fn allocate(&mut self, layout: Layout) -> *mut u8 {
        let Some(size) = round_up(layout.size().max(1), UNIT) else { return ptr::null_mut() };
        let align = layout.align().max(UNIT);
        let mut prev: Option<NonNull<FreeBlock>> = None;
        let mut cur = self.head;
        while let Some(block) = cur {
            // SAFETY: every block on the list is a valid FreeBlock inside our region.
            let (bsize, next) = unsafe { ((*block.as_ptr()).size, (*block.as_ptr()).next) };
            let start = block.as_ptr() as usize;
            if let Some(aligned) = round_up(start, align) {
                let front = aligned - start;
                if front.checked_add(size).is_some_and(|need| need <= bsize) {
                    let back = bsize - front - size;
                    self.take(prev, block, next, front, aligned + size, back);
                    self.free -= size;
                    return aligned as *mut u8;
                }
            }
            prev = cur;
            cur = next;
        }
        ptr::null_mut()
    }

    /// Replaces `block` on the list by its unused front and back parts.
    fn take(
        &mut self,
        prev: Option<NonNull<FreeBlock>>,
        block: NonNull<FreeBlock>,
        next: Option<NonNull<FreeBlock>>,
        front: usize,
        back_start: usize,
        back: usize,
    ) {
        let mut link = next;
        if back > 0 {
            let b = back_start as *mut FreeBlock;
            // SAFETY: the back part lies inside the free block being split and is aligned.
            unsafe { b.write(FreeBlock { size: back, next: link }) };
            link = NonNull::new(b);
        }
        let replacement = if front > 0 {
            // SAFETY: the front part is the start of the same free block, still a valid header.
            unsafe {
                (*block.as_ptr()).size = front;
                (*block.as_ptr()).next = link;
            }
            Some(block)
        } else {
            link
        };
        match prev {
            // SAFETY: `prev` is a valid list block.
            Some(p) => unsafe { (*p.as_ptr()).next = replacement },
            None => self.head = replacement,
        }
    }

    /// Returns a block obtained from [`FreeListHeap::allocate`] with the same layout.
    ///
    /// # Safety
    /// `ptr` must come from `allocate(layout)` on this heap and not be freed already.
    pub unsafe fn release(&mut self, ptr: *mut u8, layout: Layout) {
        let Some(size) = round_up(layout.size().max(1), UNIT) else { return };
        let addr = ptr as usize;
        self.free += size;
        // Find the neighbours in address order.
        let mut prev: Option<NonNull<FreeBlock>> = None;
        let mut cur = self.head;
        while let Some(block) = cur {
            if block.as_ptr() as usize > addr {
                break;
            }
            prev = cur;
            // SAFETY: list blocks are valid.
            cur = unsafe { (*block.as_ptr()).next };
        }
        let new = addr as *mut FreeBlock;
        // SAFETY: the caller returns a block of `size` bytes we handed out, aligned to UNIT.
        unsafe { new.write(FreeBlock { size, next: cur }) };
        // Merge with the following block.
        if let Some(next) = cur {
            if addr + size == next.as_ptr() as usize {
                // SAFETY: both are valid blocks; `next` is absorbed into `new`.
                unsafe {
                    (*new).size += (*next.as_ptr()).size;
                    (*new).next = (*next.as_ptr()).next;
                }
            }
        }
        // Link in, merging with the preceding block if adjacent.
        match prev {
            Some(p) => {
                let p = p.as_ptr();
                // SAFETY: `p` is a valid block preceding `new`.
                unsafe {
                    if p as usize + (*p).size == addr {
                        (*p).size += (*new).size;
                        (*p).next = (*new).next;
                    } else {
                        (*p).next = NonNull::new(new);
                    }
                }
            }
            None => self.head = NonNull::new(new),
        }
    }

    /// Current usage.
    pub fn stats(&self) -> HeapStats {
        let mut s = HeapStats { total: self.total, free: self.free, largest_free: 0, free_blocks: 0 };
        let mut cur = self.head;
        while let Some(b) = cur {
            // SAFETY: list blocks are valid.
            let (size, next) = unsafe { ((*b.as_ptr()).size, (*b.as_ptr()).next) };
            s.largest_free = s.largest_free.max(size);
            s.free_blocks += 1;
            cur = next;
        }
        s
    }
}

/// The heap behind a spin lock, usable as `#[global_allocator]`.
pub struct LockedHeap(spin::Mutex<FreeListHeap>);

impl LockedHeap {
    /// An empty heap.
    pub const fn empty() -> Self {
        Self(spin::Mutex::new(FreeListHeap::empty()))
    }

    /// Hands memory to the heap; see [`FreeListHeap::add_region`].
    ///
    /// # Safety
    /// As for [`FreeListHeap::add_region`].
    pub unsafe fn add_region(&self, base: *mut u8, size: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.0.lock().add_region(base, size) }
    }

    /// Current usage.
    pub fn stats(&self) -> HeapStats {
        self.0.lock().stats()
    }
}

// SAFETY: allocation and release go through the locked free list, which hands out disjoint,
// correctly aligned blocks and takes back only what it handed out (per GlobalAlloc's contract).
unsafe impl GlobalAlloc for LockedHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0.lock().allocate(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: GlobalAlloc's contract gives us a pointer from `alloc` with this layout.
        unsafe { self.0.lock().release(ptr, layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    struct Arena {
        mem: Vec<u128>,
    }

    fn heap(bytes: usize) -> (Arena, FreeListHeap) {
        let mut arena = Arena { mem: std::vec![0u128; bytes / 16] };
        let mut h = FreeListHeap::empty();
        // SAFETY: the arena outlives the heap in each test and is used for nothing else.
        unsafe { h.add_region(arena.mem.as_mut_ptr() as *mut u8, bytes) };
        (arena, h)
    }

    #[test]
    fn allocations_are_aligned_disjoint_and_in_range() {
        let (arena, mut h) = heap(64 * 1024);
        let lo = arena.mem.as_ptr() as usize;
        let hi = lo + 64 * 1024;
        let mut live: Vec<(usize, usize)> = Vec::new();
        for (i, align) in [1usize, 8, 16, 64, 256, 4096].iter().cycle().take(60).enumerate() {
            let size = 1 + (i * 37) % 700;
            let p = h.allocate(Layout::from_size_align(size, *align).unwrap()) as usize;
            assert_ne!(p, 0);
            assert_eq!(p % align.max(&16), 0);
            assert!(p >= lo && p + size <= hi);
            for &(q, qs) in &live {
                assert!(p + size <= q || q + qs <= p, "overlap");
            }
            live.push((p, size));
        }
    }

    #[test]
    fn freeing_everything_coalesces_back_to_one_block() {
        let (_arena, mut h) = heap(32 * 1024);
        let total = h.stats().total;
        let mut blocks = Vec::new();
        for i in 0..100 {
            let l = Layout::from_size_align(16 + (i * 13) % 200, 16).unwrap();
            blocks.push((h.allocate(l), l));
        }
        // Free in an interleaved order to exercise both merge directions.
        let (even, odd): (Vec<_>, Vec<_>) = blocks.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
        for (_, (p, l)) in odd.into_iter().rev().chain(even) {
            // SAFETY: each block was allocated above with this layout and is freed once.
            unsafe { h.release(p, l) };
        }
        let s = h.stats();
        assert_eq!(s.free, total);
        assert_eq!(s.free_blocks, 1);
        assert_eq!(s.largest_free, total);
    }

    #[test]
    fn exhaustion_returns_null_and_recovers() {
        let (_arena, mut h) = heap(4096);
        let l = Layout::from_size_align(1024, 16).unwrap();
        let ps: Vec<_> = (0..4).map(|_| h.allocate(l)).collect();
        assert!(ps.iter().all(|p| !p.is_null()));
        assert!(h.allocate(l).is_null());
        // SAFETY: allocated above with layout `l`.
        unsafe { h.release(ps[2], l) };
        assert_eq!(h.allocate(l), ps[2]);
        let huge = Layout::from_size_align(isize::MAX as usize & !15, 16).unwrap();
        assert!(h.allocate(huge).is_null());
    }

    #[test]
    fn a_second_region_extends_the_heap() {
        let mut a = std::vec![0u128; 64];
        let mut b = std::vec![0u128; 256];
        let mut h = FreeListHeap::empty();
        // SAFETY: both arenas outlive the heap and are disjoint.
        unsafe { h.add_region(a.as_mut_ptr() as *mut u8, 1024) };
        let big = Layout::from_size_align(2048, 16).unwrap();
        assert!(h.allocate(big).is_null());
        // SAFETY: as above.
        unsafe { h.add_region(b.as_mut_ptr() as *mut u8, 4096) };
        let p = h.allocate(big) as usize;
        assert!(p >= b.as_ptr() as usize && p + 2048 <= b.as_ptr() as usize + 4096);
        assert_eq!(h.stats().total, 5120);
        assert_eq!(h.stats().free, 5120 - 2048);
    }

    #[test]
    fn locked_heap_as_global_allocator() {
        let mut arena = std::vec![0u128; 1024];
        let heap = LockedHeap::empty();
        // SAFETY: the arena outlives `heap`.
        unsafe { heap.add_region(arena.as_mut_ptr() as *mut u8, 16 * 1024) };
        let l = Layout::from_size_align(100, 8).unwrap();
        // SAFETY: standard GlobalAlloc use: allocate then free with the same layout.
        unsafe {
            let p = heap.alloc(l);
            assert!(!p.is_null());
            heap.dealloc(p, l);
        }
        assert_eq!(heap.stats().free, 16 * 1024);
    }
}
