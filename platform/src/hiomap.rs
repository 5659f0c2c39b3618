//! HIOMAP (host I/O mapping): how the host asks an OpenPOWER BMC to map a window of the
//! flash into the LPC firmware space, over IPMI (OEM network function 0x3a, command 0x5a).
//!
//! Request data: `[command, sequence, arguments…]`; response data: `[command, sequence,
//! results…]`. Sizes and offsets are 16-bit little-endian counts of flash blocks (the block
//! size comes from GET_INFO).

use crate::bt::{BtError, BtInterface};
use crate::clock::Clock;
use crate::ipmi::Request;
use crate::mmio::ByteIo;
use core::fmt;

/// IPMI network function of HIOMAP (OEM).
pub const NETFN: u8 = 0x3a;
/// IPMI command of HIOMAP.
pub const CMD: u8 = 0x5a;

/// HIOMAP commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Command {
    /// Protocol version and block size.
    GetInfo = 2,
    /// Flash size and erase granule.
    GetFlashInfo = 3,
    /// Map a read-only window.
    CreateReadWindow = 4,
    /// Unmap the window.
    CloseWindow = 5,
    /// Map a writable window.
    CreateWriteWindow = 6,
    /// Tell the BMC which part of the write window changed.
    MarkDirty = 7,
    /// Have the BMC write dirty data to the flash.
    Flush = 8,
}

/// Protocol version oxiboot speaks.
pub const VERSION: u8 = 2;

/// A HIOMAP exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiomapError {
    /// The IPMI transfer failed (includes "command not supported").
    Transport(BtError),
    /// The response is shorter than the command's results or answers another command.
    BadResponse(Command),
    /// The BMC speaks a protocol version oxiboot does not.
    UnsupportedVersion(u8),
    /// The offset or size does not fit the protocol's 16-bit block counts.
    OutOfRange,
}

impl fmt::Display for HiomapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(e) => write!(f, "{e}"),
            Self::BadResponse(c) => write!(f, "malformed HIOMAP response to {c:?}"),
            Self::UnsupportedVersion(v) => write!(f, "BMC speaks HIOMAP version {v}, oxiboot {VERSION}"),
            Self::OutOfRange => write!(f, "flash range too large for HIOMAP"),
        }
    }
}

/// A window of the flash mapped into LPC firmware space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// LPC firmware-space address of the window.
    pub lpc_address: u64,
    /// Window size in bytes.
    pub size: u64,
    /// Flash offset the window starts at.
    pub flash_offset: u64,
}

/// What GET_INFO and GET_FLASH_INFO say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlashInfo {
    /// log2 of the block size.
    pub block_shift: u8,
    /// Flash size in bytes.
    pub flash_size: u64,
    /// Erase granule in bytes.
    pub erase_size: u64,
}

fn le16(b: &[u8], at: usize) -> Option<u64> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]) as u64)
}

/// Builds the request data of a command with its arguments.
pub fn request_data(cmd: Command, seq: u8, args: &[u8]) -> ([u8; 8], usize) {
    let mut d = [0u8; 8];
    d[0] = cmd as u8;
    d[1] = seq;
    let n = args.len().min(6);
    d[2..2 + n].copy_from_slice(&args[..n]);
    (d, 2 + n)
}

/// Checks a response's echo of command and sequence and returns its results.
pub fn results(cmd: Command, seq: u8, data: &[u8], need: usize) -> Result<&[u8], HiomapError> {
    if data.len() < 2 + need || data[0] != cmd as u8 || data[1] != seq {
        return Err(HiomapError::BadResponse(cmd));
    }
    Ok(&data[2..])
}

/// Parses GET_INFO results: version, block shift (timeout ignored).
pub fn parse_info(r: &[u8]) -> Result<u8, HiomapError> {
    match r {
        [VERSION, shift, ..] if (9..=24).contains(shift) => Ok(*shift),
        [VERSION, ..] => Err(HiomapError::BadResponse(Command::GetInfo)),
        [v, ..] => Err(HiomapError::UnsupportedVersion(*v)),
        [] => Err(HiomapError::BadResponse(Command::GetInfo)),
    }
}

/// Parses a window-creation result (LPC address, size, offset in blocks).
pub fn parse_window(r: &[u8], block_shift: u8, cmd: Command) -> Result<Window, HiomapError> {
    let bad = HiomapError::BadResponse(cmd);
    Ok(Window {
        lpc_address: le16(r, 0).ok_or(bad)? << block_shift,
        size: le16(r, 2).ok_or(bad)? << block_shift,
        flash_offset: le16(r, 4).ok_or(bad)? << block_shift,
    })
}

/// Encodes `(offset, size)` in bytes as HIOMAP block arguments.
pub fn range_args(offset: u64, size: u64, block_shift: u8) -> Result<[u8; 4], HiomapError> {
    let to_blocks = |v: u64| u16::try_from(v >> block_shift).map_err(|_| HiomapError::OutOfRange);
    let (o, s) = (to_blocks(offset)?, to_blocks(size.div_ceil(1 << block_shift) << block_shift)?);
    let (o, s) = (o.to_le_bytes(), s.to_le_bytes());
    Ok([o[0], o[1], s[0], s[1]])
}

/// A HIOMAP session with the BMC.
pub struct Hiomap {
    seq: u8,
    /// Flash geometry, after [`Hiomap::open`].
    pub info: FlashInfo,
}

impl Hiomap {
    fn exchange<B: ByteIo, C: Clock>(
        &mut self,
        bt: &mut BtInterface<B>,
        clock: &C,
        cmd: Command,
        args: &[u8],
        need: usize,
        out: &mut [u8; 8],
    ) -> Result<(), HiomapError> {
        self.seq = self.seq.wrapping_add(1);
        let (data, len) = request_data(cmd, self.seq, args);
        let rsp = bt.transact(clock, &Request { netfn: NETFN, cmd: CMD, data: &data[..len] });
        let rsp = rsp.map_err(HiomapError::Transport)?;
        let r = results(cmd, self.seq, rsp.data(), need)?;
        let n = r.len().min(out.len());
        out[..n].copy_from_slice(&r[..n]);
        Ok(())
    }

    /// Starts a session: protocol version, block size, flash geometry.
    pub fn open<B: ByteIo, C: Clock>(bt: &mut BtInterface<B>, clock: &C) -> Result<Self, HiomapError> {
        let mut h = Hiomap { seq: 0, info: FlashInfo { block_shift: 12, flash_size: 0, erase_size: 0 } };
        let mut r = [0u8; 8];
        h.exchange(bt, clock, Command::GetInfo, &[VERSION], 2, &mut r)?;
        let shift = parse_info(&r)?;
        h.exchange(bt, clock, Command::GetFlashInfo, &[], 4, &mut r)?;
        let blocks = le16(&r, 0).ok_or(HiomapError::BadResponse(Command::GetFlashInfo))?;
        let erase = le16(&r, 2).ok_or(HiomapError::BadResponse(Command::GetFlashInfo))?;
        h.info = FlashInfo { block_shift: shift, flash_size: blocks << shift, erase_size: erase << shift };
        Ok(h)
    }

    /// Maps `[offset, offset + size)` of the flash, read-only or writable.
    pub fn create_window<B: ByteIo, C: Clock>(
        &mut self,
        bt: &mut BtInterface<B>,
        clock: &C,
        offset: u64,
        size: u64,
        writable: bool,
    ) -> Result<Window, HiomapError> {
        let cmd = if writable { Command::CreateWriteWindow } else { Command::CreateReadWindow };
        let args = range_args(offset, size, self.info.block_shift)?;
        let mut r = [0u8; 8];
        self.exchange(bt, clock, cmd, &args, 6, &mut r)?;
        parse_window(&r, self.info.block_shift, cmd)
    }

    /// Marks `[offset, offset + size)` (relative to the write window) dirty and flushes it.
    pub fn commit<B: ByteIo, C: Clock>(
        &mut self,
        bt: &mut BtInterface<B>,
        clock: &C,
        offset: u64,
        size: u64,
    ) -> Result<(), HiomapError> {
        let args = range_args(offset, size, self.info.block_shift)?;
        let mut r = [0u8; 8];
        self.exchange(bt, clock, Command::MarkDirty, &args, 0, &mut r)?;
        self.exchange(bt, clock, Command::Flush, &[], 0, &mut r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_framing() {
        let (d, n) = request_data(Command::GetInfo, 7, &[VERSION]);
        assert_eq!(&d[..n], &[2, 7, 2]);
        let (d, n) = request_data(Command::CreateReadWindow, 9, &range_args(0, 64 << 20, 12).unwrap());
        assert_eq!(&d[..n], &[4, 9, 0, 0, 0x00, 0x40]);
    }

    #[test]
    fn qemu_answers_parse() {
        // QEMU's BMC simulator: version 2, 4 KiB blocks; window at LPC 0, 64 MiB, offset 0.
        assert_eq!(parse_info(&[2, 12, 0, 0]), Ok(12));
        let w = parse_window(&[0x00, 0x00, 0x00, 0x40, 0, 0], 12, Command::CreateReadWindow).unwrap();
        assert_eq!(w, Window { lpc_address: 0, size: 64 << 20, flash_offset: 0 });
        // Older QEMU maps the flash at LPC 0x0c00_0000.
        let w = parse_window(&[0x00, 0xc0, 0x00, 0x40, 0, 0], 12, Command::CreateReadWindow).unwrap();
        assert_eq!(w.lpc_address, 0x0c00_0000);
    }

    #[test]
    fn errors() {
        assert_eq!(parse_info(&[1, 12]), Err(HiomapError::UnsupportedVersion(1)));
        assert_eq!(parse_info(&[2, 40]), Err(HiomapError::BadResponse(Command::GetInfo)));
        assert_eq!(results(Command::Flush, 3, &[8, 4], 0), Err(HiomapError::BadResponse(Command::Flush)));
        assert_eq!(results(Command::Flush, 3, &[8, 3], 0), Ok(&[][..]));
        assert_eq!(range_args(0, 1 << 30, 12), Err(HiomapError::OutOfRange));
        assert!(parse_window(&[0, 0, 1], 12, Command::CreateWriteWindow).is_err());
    }
}
