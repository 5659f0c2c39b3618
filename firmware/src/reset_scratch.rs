//! The reset-surviving page: RAM keeps its contents across a warm reset (a reboot through
//! the BMC on QEMU, a fast reboot on hardware), so a checked record there tells the firmware
//! how many times it has booted since the last cold start.

/// Marks a valid record ("OXIBOOT!").
const MAGIC: u64 = 0x4f58_4942_4f4f_5421;

/// The record, as stored (three native-endian words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct BootRecord {
    magic: u64,
    boots: u64,
    check: u64,
}

impl BootRecord {
    /// The record for the `boots`-th boot.
    pub const fn new(boots: u64) -> Self {
        Self { magic: MAGIC, boots, check: MAGIC ^ boots.rotate_left(17) }
    }

    /// Boot count of a valid record; `None` for whatever a cold start leaves in RAM.
    pub fn boots(&self) -> Option<u64> {
        (self.magic == MAGIC && self.check == MAGIC ^ self.boots.rotate_left(17)).then_some(self.boots)
    }

    /// The record to store for this boot, given what was found.
    pub fn next(found: &BootRecord) -> Self {
        Self::new(found.boots().map_or(1, |b| b.saturating_add(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_boots_and_rejects_garbage() {
        let garbage = BootRecord { magic: 0, boots: 77, check: 0 };
        assert_eq!(garbage.boots(), None);
        let first = BootRecord::next(&garbage);
        assert_eq!(first.boots(), Some(1));
        let second = BootRecord::next(&first);
        assert_eq!(second.boots(), Some(2));
        let forged = BootRecord { boots: 5, ..second };
        assert_eq!(forged.boots(), None);
    }
}
