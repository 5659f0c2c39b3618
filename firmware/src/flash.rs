//! The host flash (PNOR): its partition table, loading the boot payload from `BOOTKERNEL`,
//! and the `NVRAM` partition behind the OPAL NVRAM calls.
//!
//! Everything read from flash is checked by the `oxiboot-pnor` crate (table checksums,
//! overlaps, ECC, the BOOTKERNEL container's CRCs); a problem is reported naming the
//! partition, and nothing corrupt is ever booted.

use alloc::vec;
use core::fmt;
use oxiboot_pnor::{ecc, BootKernel, Error as PnorError, Partition, Table, TableHeader};

/// Byte access to the flash (through the LPC firmware window on OpenPOWER machines).
pub trait FlashDevice {
    /// Flash size in bytes.
    fn size(&self) -> u64;
    /// Reads `buf.len()` bytes at `offset`; `false` on an access error.
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> bool;
    /// Writes `data` at `offset` and makes it durable; `false` on an error.
    fn write(&mut self, offset: u64, data: &[u8]) -> bool;
}

/// What went wrong with the flash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlashError {
    /// The device failed to read or write at this offset.
    Access(u64),
    /// The partition table is unusable.
    Table(PnorError),
    /// No partition of this name.
    Missing(&'static str),
    /// A partition's content is corrupt (ECC, container checks).
    Corrupt(&'static str, PnorError),
    /// A partition's content does not fit where it must go.
    TooLarge(&'static str, u64),
    /// Writes to ECC-protected partitions are not supported.
    EccWrite(&'static str),
}

impl fmt::Display for FlashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Access(o) => write!(f, "flash access failed at offset {o:#x}"),
            Self::Table(e) => write!(f, "partition table: {e}"),
            Self::Missing(n) => write!(f, "no {n} partition"),
            Self::Corrupt(n, e) => write!(f, "partition {n}: {e}"),
            Self::TooLarge(n, size) => write!(f, "partition {n}: {size} bytes do not fit"),
            Self::EccWrite(n) => write!(f, "partition {n}: writing ECC partitions is not supported"),
        }
    }
}

/// An opened flash: the device and its checked partition table.
pub struct Pnor<D: FlashDevice> {
    dev: D,
    table: Table,
}

/// Where a loaded BOOTKERNEL's parts ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadedPayload {
    /// Kernel length at the start of the kernel area.
    pub kernel_len: usize,
    /// Initramfs length at the start of the initramfs area (0: none).
    pub initramfs_len: usize,
    /// Single-bit ECC errors corrected while reading.
    pub corrected: usize,
}

/// Largest partition table read: 8 k entries, far more than any real PNOR has (the table
/// length comes from the flash, and the table is read into the heap).
const MAX_TABLE_LEN: u64 = 1 << 20;

/// Corrected bits named one by one in the log per partition read; a summary gives the count.
const REPORTED_CORRECTIONS: usize = 8;

/// `len` zero bytes, or `None` if the heap cannot give them.
fn zeroed(len: usize) -> Option<alloc::vec::Vec<u8>> {
    let mut v = alloc::vec::Vec::new();
    v.try_reserve_exact(len).ok()?;
    v.resize(len, 0);
    Some(v)
}

impl<D: FlashDevice> Pnor<D> {
    /// Reads and checks the partition table.
    pub fn open(mut dev: D) -> Result<Self, FlashError> {
        let mut head = [0u8; 48];
        if !dev.read(0, &mut head) {
            return Err(FlashError::Access(0));
        }
        let header = TableHeader::parse(&head).map_err(FlashError::Table)?;
        let toc_len = usize::try_from(header.table_len()).map_err(|_| FlashError::Access(0))?;
        if header.table_len() > dev.size().min(MAX_TABLE_LEN) {
            return Err(FlashError::TooLarge("part", header.table_len()));
        }
        let mut toc = vec![0u8; toc_len];
        if !dev.read(0, &mut toc) {
            return Err(FlashError::Access(0));
        }
        let table = Table::parse(&toc, dev.size()).map_err(FlashError::Table)?;
        Ok(Self { dev, table })
    }

    /// The partition table.
    pub fn table(&self) -> &Table {
        &self.table
    }

    fn find(&self, name: &'static str) -> Result<Partition, FlashError> {
        self.table.find(name).map(|(_, p)| *p).ok_or(FlashError::Missing(name))
    }

    /// Reads a partition's content (ECC removed) into `out`, using `scratch` for the raw
    /// bytes of an ECC partition; returns the content length and corrected bit count.
    pub fn read_content(
        &mut self,
        name: &'static str,
        scratch: &mut [u8],
        out: &mut [u8],
    ) -> Result<(usize, usize), FlashError> {
        let p = self.find(name)?;
        self.read_partition_into(name, p, scratch, out)
    }

    /// Reads the content of the partition called `name` (ECC removed) into a new buffer;
    /// `None` if there is no such partition. Errors name it as `label`.
    pub fn read_named(
        &mut self,
        name: &str,
        label: &'static str,
    ) -> Option<Result<alloc::vec::Vec<u8>, FlashError>> {
        let p = self.table.find(name).map(|(_, p)| *p)?;
        let Ok(len) = usize::try_from(p.content_len()) else {
            return Some(Err(FlashError::TooLarge(label, p.content_len())));
        };
        let words = len.div_ceil(ecc::DATA_BYTES_PER_WORD);
        // The sizes come from the flash: a partition larger than the heap can hold is an
        // error, not a failed allocation.
        let too_large = || FlashError::TooLarge(label, p.content_len());
        let Some(mut out) = zeroed(words * ecc::DATA_BYTES_PER_WORD) else { return Some(Err(too_large())) };
        let raw = if p.has_ecc() { words * ecc::RAW_BYTES_PER_WORD } else { 0 };
        let Some(mut scratch) = zeroed(raw) else { return Some(Err(too_large())) };
        Some(self.read_partition_into(label, p, &mut scratch, &mut out).map(|(n, _)| {
            out.truncate(n);
            out
        }))
    }

    fn read_partition_into(
        &mut self,
        name: &'static str,
        p: Partition,
        scratch: &mut [u8],
        out: &mut [u8],
    ) -> Result<(usize, usize), FlashError> {
        let len =
            usize::try_from(p.content_len()).map_err(|_| FlashError::TooLarge(name, p.content_len()))?;
        if len > out.len() {
            return Err(FlashError::TooLarge(name, len as u64));
        }
        if !p.has_ecc() {
            if !self.dev.read(p.base, &mut out[..len]) {
                return Err(FlashError::Access(p.base));
            }
            return Ok((len, 0));
        }
        let words = len.div_ceil(ecc::DATA_BYTES_PER_WORD);
        let raw_len = words * ecc::RAW_BYTES_PER_WORD;
        if raw_len > scratch.len() || words * ecc::DATA_BYTES_PER_WORD > out.len() {
            return Err(FlashError::TooLarge(name, raw_len as u64));
        }
        if !self.dev.read(p.base, &mut scratch[..raw_len]) {
            return Err(FlashError::Access(p.base));
        }
        let mut corrected = 0;
        ecc::decode_into(&scratch[..raw_len], &mut out[..words * ecc::DATA_BYTES_PER_WORD], &mut |c| {
            // Named one by one (the first few; the count says how many in all): a flash
            // that starts to wear shows where.
            if corrected < REPORTED_CORRECTIONS {
                log::warn!(
                    "flash: {name}: corrected a flipped bit (bit {} of the {} byte at flash offset {:#x})",
                    c.bit,
                    if c.in_ecc_byte { "ECC" } else { "data" },
                    p.base + c.offset as u64
                );
            }
            corrected += 1
        })
        .map_err(|e| {
            let offset = match e {
                ecc::EccError::Uncorrectable { offset } => offset as u64,
                _ => 0,
            };
            FlashError::Corrupt(
                name,
                PnorError::UncorrectableEcc {
                    partition: p.name,
                    flash_offset: p.base + offset,
                    partition_offset: offset,
                },
            )
        })?;
        if corrected > 0 {
            log::warn!("flash: {name}: {corrected} single-bit ECC error(s) corrected");
        }
        Ok((len, corrected))
    }

    /// Loads `BOOTKERNEL`: the container goes through `staging` (and `scratch` for ECC), its
    /// CRCs are checked, then the kernel is copied to `kernel_area` and the initramfs to
    /// `initramfs_area`.
    pub fn load_bootkernel(
        &mut self,
        scratch: &mut [u8],
        staging: &mut [u8],
        kernel_area: &mut [u8],
        initramfs_area: &mut [u8],
    ) -> Result<LoadedPayload, FlashError> {
        const NAME: &str = oxiboot_pnor::BOOTKERNEL;
        let (len, corrected) = self.read_content(NAME, scratch, staging)?;
        let bk = BootKernel::parse(&staging[..len]).map_err(|e| FlashError::Corrupt(NAME, e))?;
        if bk.kernel.len() > kernel_area.len() {
            return Err(FlashError::TooLarge(NAME, bk.kernel.len() as u64));
        }
        if bk.initramfs.len() > initramfs_area.len() {
            return Err(FlashError::TooLarge(NAME, bk.initramfs.len() as u64));
        }
        kernel_area[..bk.kernel.len()].copy_from_slice(bk.kernel);
        initramfs_area[..bk.initramfs.len()].copy_from_slice(bk.initramfs);
        Ok(LoadedPayload { kernel_len: bk.kernel.len(), initramfs_len: bk.initramfs.len(), corrected })
    }

    /// Capacity of the `NVRAM` partition, if there is one (writes need it without ECC).
    pub fn nvram_capacity(&self) -> Option<u64> {
        self.table.find(oxiboot_pnor::NVRAM).map(|(_, p)| p.capacity())
    }

    /// Writes `data` at `offset` in the `NVRAM` partition.
    pub fn write_nvram(&mut self, offset: u64, data: &[u8]) -> Result<(), FlashError> {
        const NAME: &str = oxiboot_pnor::NVRAM;
        let p = self.find(NAME)?;
        if p.has_ecc() {
            return Err(FlashError::EccWrite(NAME));
        }
        let end = offset.checked_add(data.len() as u64).ok_or(FlashError::TooLarge(NAME, u64::MAX))?;
        if end > p.size {
            return Err(FlashError::TooLarge(NAME, end));
        }
        if !self.dev.write(p.base + offset, data) {
            return Err(FlashError::Access(p.base + offset));
        }
        Ok(())
    }

    /// Reads the whole `NVRAM` partition (raw, no ECC) into `out`; returns the bytes read.
    pub fn read_nvram(&mut self, out: &mut [u8]) -> Result<usize, FlashError> {
        const NAME: &str = oxiboot_pnor::NVRAM;
        let p = self.find(NAME)?;
        if p.has_ecc() {
            return Err(FlashError::EccWrite(NAME));
        }
        let n = out.len().min(p.size as usize);
        if !self.dev.read(p.base, &mut out[..n]) {
            return Err(FlashError::Access(p.base));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
