//! In-memory log ring: the last N bytes the firmware printed.
//!
//! Linux later reads it as `/sys/firmware/opal/msglog`, through a memory-console descriptor
//! that points at [`LogRing::storage`] and gives the write position and whether the ring
//! has wrapped (exactly what [`LogRing::out_pos`] and [`LogRing::wrapped`] return).

/// A byte ring of `N` bytes.
pub struct LogRing<const N: usize> {
    buf: [u8; N],
    /// Total bytes ever written.
    written: u64,
}

impl<const N: usize> LogRing<N> {
    /// An empty ring.
    pub const fn new() -> Self {
        Self { buf: [0; N], written: 0 }
    }

    /// Appends bytes, overwriting the oldest once full.
    pub fn write(&mut self, bytes: &[u8]) {
        if N == 0 {
            return;
        }
        // Only the last N bytes can survive.
        let skip = bytes.len().saturating_sub(N);
        self.written += skip as u64;
        for &b in &bytes[skip..] {
            self.buf[self.out_pos()] = b;
            self.written += 1;
        }
    }

    /// Where the next byte goes.
    pub fn out_pos(&self) -> usize {
        if N == 0 {
            0
        } else {
            (self.written % N as u64) as usize
        }
    }

    /// Whether older bytes have been overwritten.
    pub fn wrapped(&self) -> bool {
        self.written > N as u64
    }

    /// Total bytes ever written (including overwritten ones).
    pub fn total_written(&self) -> u64 {
        self.written
    }

    /// Bytes currently held.
    pub fn len(&self) -> usize {
        self.written.min(N as u64) as usize
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.written == 0
    }

    /// The held bytes, oldest first, as two slices.
    pub fn as_slices(&self) -> (&[u8], &[u8]) {
        if self.wrapped() || self.out_pos() == 0 && self.written > 0 {
            let (newer, older) = self.buf.split_at(self.out_pos());
            (older, newer)
        } else {
            (&self.buf[..self.out_pos()], &[])
        }
    }

    /// The raw storage (for exporting the ring as a memory console).
    pub fn storage(&self) -> &[u8; N] {
        &self.buf
    }
}

impl<const N: usize> Default for LogRing<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn contents<const N: usize>(r: &LogRing<N>) -> Vec<u8> {
        let (a, b) = r.as_slices();
        [a, b].concat()
    }

    #[test]
    fn fills_then_wraps_keeping_the_newest() {
        let mut r = LogRing::<8>::new();
        assert!(r.is_empty());
        r.write(b"abc");
        assert_eq!(contents(&r), b"abc");
        assert!(!r.wrapped());
        r.write(b"defgh");
        assert_eq!(contents(&r), b"abcdefgh");
        assert_eq!(r.out_pos(), 0);
        r.write(b"XY");
        assert!(r.wrapped());
        assert_eq!(contents(&r), b"cdefghXY");
        assert_eq!(r.out_pos(), 2);
        assert_eq!(r.len(), 8);
        assert_eq!(r.total_written(), 10);
    }

    #[test]
    fn oversized_write_keeps_its_tail() {
        let mut r = LogRing::<4>::new();
        r.write(b"0123456789");
        assert_eq!(contents(&r), b"6789");
        assert_eq!(r.total_written(), 10);
    }

    #[test]
    fn storage_matches_position() {
        let mut r = LogRing::<4>::new();
        r.write(b"abcde");
        assert_eq!(r.storage(), b"ebcd");
        assert_eq!(r.out_pos(), 1);
    }
}
