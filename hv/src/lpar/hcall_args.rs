//! Argument checks of the LPAR hcalls: pure functions from the register values a guest passed
//! to either what to do or the PAPR status to return. Nothing here touches hardware; every
//! guest address is checked against the LPAR's memory ([`Carve`]).

use super::memory::{Carve, GuestMemory};
use crate::papr::*;
use crate::radix::{encode_process_table_dw1, ProcessTable};
use oxiboot_platform::spr::ppc_bit;

/// Most bytes one `H_PUT_TERM_CHAR` / `H_GET_TERM_CHAR` carries.
pub const TERM_CHUNK: usize = 16;

/// `H_PUT_TERM_CHAR(termno, length, r6, r7)`: the bytes to print.
pub fn put_term_char(
    vty: u64,
    termno: u64,
    len: u64,
    r6: u64,
    r7: u64,
) -> Result<([u8; TERM_CHUNK], usize), HcallStatus> {
    if termno != vty {
        return Err(H_PARAMETER);
    }
    if len > TERM_CHUNK as u64 {
        return Err(H_PARAMETER);
    }
    let mut bytes = [0u8; TERM_CHUNK];
    bytes[..8].copy_from_slice(&r6.to_be_bytes());
    bytes[8..].copy_from_slice(&r7.to_be_bytes());
    Ok((bytes, len as usize))
}

/// `H_GET_TERM_CHAR` results: r4 = length, r5/r6 = the bytes packed big-endian.
pub fn pack_term_chars(bytes: &[u8]) -> (u64, u64, u64) {
    let mut buf = [0u8; TERM_CHUNK];
    let n = bytes.len().min(TERM_CHUNK);
    buf[..n].copy_from_slice(&bytes[..n]);
    let word = |i: usize| u64::from_be_bytes(buf[i..i + 8].try_into().unwrap_or([0; 8]));
    (n as u64, word(0), word(8))
}

/// An `H_REGISTER_VPA` operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VpaOp {
    /// Register the virtual processor area at this guest real address.
    RegisterVpa(u64),
    /// Register the dispatch trace log.
    RegisterDtl(u64),
    /// Register the SLB (segment lookaside buffer) shadow buffer.
    RegisterSlbShadow(u64),
    /// Deregister the virtual processor area.
    DeregisterVpa,
    /// Deregister the dispatch trace log.
    DeregisterDtl,
    /// Deregister the SLB shadow buffer.
    DeregisterSlbShadow,
}

/// Smallest virtual processor area PAPR allows.
pub const VPA_MIN_LEN: u64 = 640;
/// Smallest dispatch trace log (one entry).
pub const DTL_MIN_LEN: u64 = 48;

/// `H_REGISTER_VPA(flags, cpu, address)`: decodes and checks the operation. `registered_vpa`
/// says whether the target already has a VPA (DTL and SLB shadow need one).
pub fn register_vpa(
    flags: u64,
    address: u64,
    carve: &Carve,
    mem: &dyn GuestMemory,
    registered_vpa: bool,
) -> Result<VpaOp, HcallStatus> {
    let function = (flags >> VPA_FUNCTION_SHIFT) & 7;
    let area = |min: u64, len_is_u16: bool| -> Result<u64, HcallStatus> {
        if address == 0 || !address.is_multiple_of(8) {
            return Err(H_PARAMETER);
        }
        let len = if len_is_u16 {
            let mut b = [0u8; 2];
            mem.read(address + 4, &mut b).map_err(|_| H_PARAMETER)?;
            u64::from(u16::from_be_bytes(b))
        } else {
            u64::from(mem.read_be32(address + 4).map_err(|_| H_PARAMETER)?)
        };
        if len < min || !carve.contains(address, len) {
            return Err(H_PARAMETER);
        }
        // The area must not cross a 4 KiB page boundary.
        if (address & 0xfff) + len > 0x1000 {
            return Err(H_PARAMETER);
        }
        Ok(address)
    };
    match function {
        1 => area(VPA_MIN_LEN, true).map(VpaOp::RegisterVpa),
        2 if !registered_vpa => Err(H_RESOURCE),
        2 => area(DTL_MIN_LEN, false).map(VpaOp::RegisterDtl),
        3 if !registered_vpa => Err(H_RESOURCE),
        3 => area(8, false).map(VpaOp::RegisterSlbShadow),
        5 => Ok(VpaOp::DeregisterVpa),
        6 => Ok(VpaOp::DeregisterDtl),
        7 => Ok(VpaOp::DeregisterSlbShadow),
        _ => Err(H_PARAMETER),
    }
}

/// Not enough of a resource (PAPR `H_RESOURCE`).
pub const H_RESOURCE: HcallStatus = -16;

/// An `H_SET_MODE` request we act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetMode {
    /// Interrupts little-endian (true) or big-endian.
    InterruptsLittleEndian(bool),
}

/// `H_SET_MODE(mflags, resource, value1, value2)`.
///
/// Only the interrupt endianness is offered. Relocated interrupts (LPCR[AIL] = 3) are not:
/// on POWER9, for a radix partition, LPCR[AIL] also relocates the interrupts that take the
/// processor from the partition into the hypervisor, which runs untranslated (real mode), so
/// the LPAR gets `H_P2` ("resource not supported") and Linux keeps real-mode vectors (and
/// does without `scv`). Breakpoint and watchpoint resources are not offered either (`H_P2`);
/// Linux then runs without hardware watchpoints.
pub fn set_mode(mflags: u64, resource: u64, value1: u64, value2: u64) -> Result<SetMode, HcallStatus> {
    if resource != SET_MODE_RESOURCE_LE {
        return Err(H_P2);
    }
    if value1 != 0 {
        return Err(H_P3);
    }
    if value2 != 0 {
        return Err(H_P4);
    }
    match mflags {
        0 | 1 => Ok(SetMode::InterruptsLittleEndian(mflags == 1)),
        _ => Err(H_UNSUPPORTED_FLAG_START),
    }
}

/// `H_REGISTER_PROC_TBL(flags, base, page size, table size)`: the new partition table
/// entry doubleword 1 (0 to deregister). Only radix process tables exist here.
pub fn register_process_table(
    flags: u64,
    base: u64,
    page_size: u64,
    size_code: u64,
    carve: &Carve,
) -> Result<u64, HcallStatus> {
    if flags & !(PROC_TABLE_OP_MASK | PROC_TABLE_RADIX | PROC_TABLE_GTSE) != 0 {
        return Err(H_PARAMETER);
    }
    match flags & PROC_TABLE_OP_MASK {
        PROC_TABLE_DEREGISTER => return Ok(0),
        PROC_TABLE_NEW => {}
        _ => return Err(H_PARAMETER),
    }
    if flags & PROC_TABLE_RADIX == 0 {
        // Hash page tables with segment tables: the hypervisor only runs radix guests.
        return Err(H_PARAMETER);
    }
    if page_size != 0 {
        return Err(H_PARAMETER);
    }
    // Size code at most 24 (64 GiB), base aligned to the size, and the whole table in the
    // LPAR's memory.
    let size_code = u8::try_from(size_code).map_err(|_| H_PARAMETER)?;
    let dw1 = encode_process_table_dw1(base, size_code).map_err(|_| H_PARAMETER)?;
    let table = ProcessTable { base, size_code };
    if !carve.contains(base, table.bytes()) {
        return Err(H_PARAMETER);
    }
    Ok(dw1)
}

/// `H_GET_CPU_CHARACTERISTICS` results (r4 characteristics, r5 behaviours): branch hints are
/// honoured; security is favoured but no cache-flush workaround is offered, as QEMU's
/// `pseries` reports on processors without the fixes (its default under TCG).
pub const CPU_CHARACTERISTICS: (u64, u64) = (ppc_bit(5), ppc_bit(0));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lpar::memory::VecMemory;
    use alloc::vec;

    const CARVE: Carve = Carve { host_base: 0x4000_0000, size: 0x10000 };

    #[test]
    fn put_term_char_unpacks_big_endian_registers() {
        let (bytes, n) =
            put_term_char(0x3000_0000, 0x3000_0000, 10, 0x4865_6c6c_6f2c_2077, 0x6f72_0000_0000_0000)
                .unwrap();
        assert_eq!(&bytes[..n], b"Hello, wor");
        assert_eq!(put_term_char(0x3000_0000, 0, 1, 0, 0), Err(H_PARAMETER), "unknown terminal");
        assert_eq!(put_term_char(0x3000_0000, 0x3000_0000, 17, 0, 0), Err(H_PARAMETER));
    }

    #[test]
    fn get_term_char_packs_big_endian() {
        assert_eq!(pack_term_chars(b"ls\r"), (3, 0x6c73_0d00_0000_0000, 0));
        let (n, _, r6) = pack_term_chars(&[b'a'; 20]);
        assert_eq!((n, r6), (16, 0x6161_6161_6161_6161));
    }

    fn vpa_memory(len: u16) -> VecMemory {
        let mut m = VecMemory(vec![0; 0x10000]);
        m.write(0x2004, &len.to_be_bytes()).unwrap();
        m
    }

    #[test]
    fn vpa_registration_as_linux_does_it() {
        let m = vpa_memory(1024);
        let flags = 1 << VPA_FUNCTION_SHIFT;
        assert_eq!(register_vpa(flags, 0x2000, &CARVE, &m, false), Ok(VpaOp::RegisterVpa(0x2000)));
        assert_eq!(register_vpa(5 << VPA_FUNCTION_SHIFT, 0, &CARVE, &m, true), Ok(VpaOp::DeregisterVpa));
    }

    #[test]
    fn bad_vpas_are_refused() {
        let flags = 1 << VPA_FUNCTION_SHIFT;
        assert_eq!(
            register_vpa(flags, 0x2000, &CARVE, &vpa_memory(100), false),
            Err(H_PARAMETER),
            "too short"
        );
        let m = vpa_memory(1024);
        assert_eq!(register_vpa(flags, 0x2004, &CARVE, &m, false), Err(H_PARAMETER), "misaligned");
        assert_eq!(register_vpa(flags, 0x10_0000, &CARVE, &m, false), Err(H_PARAMETER), "unreadable");
        // Readable (this memory is larger than the carve) but outside the carve.
        let mut beyond = VecMemory(vec![0; 0x20000]);
        beyond.write(0x10004, &1024u16.to_be_bytes()).unwrap();
        assert_eq!(register_vpa(flags, 0x10000, &CARVE, &beyond, false), Err(H_PARAMETER), "outside");
        let mut m = VecMemory(vec![0; 0x10000]);
        m.write(0x2e04, &1024u16.to_be_bytes()).unwrap();
        assert_eq!(register_vpa(flags, 0x2e00, &CARVE, &m, false), Err(H_PARAMETER), "crosses a page");
        assert_eq!(register_vpa(2 << VPA_FUNCTION_SHIFT, 0x2000, &CARVE, &m, false), Err(H_RESOURCE));
        assert_eq!(register_vpa(4 << VPA_FUNCTION_SHIFT, 0x2000, &CARVE, &m, true), Err(H_PARAMETER));
    }

    #[test]
    fn set_mode_little_endian_and_ail() {
        assert_eq!(set_mode(1, 4, 0, 0), Ok(SetMode::InterruptsLittleEndian(true)));
        assert_eq!(set_mode(0, 4, 0, 0), Ok(SetMode::InterruptsLittleEndian(false)));
        assert_eq!(set_mode(2, 4, 0, 0), Err(H_UNSUPPORTED_FLAG_START));
        assert_eq!(set_mode(3, 3, 0, 0), Err(H_P2), "relocated interrupts not offered");
        assert_eq!(set_mode(1, 4, 1, 0), Err(H_P3));
        assert_eq!(set_mode(1, 4, 0, 1), Err(H_P4));
        assert_eq!(set_mode(0, 2, 0x1000, 0), Err(H_P2), "DAWR not offered");
    }

    #[test]
    fn process_table_registration() {
        let carve = Carve { host_base: 0, size: 1 << 30 };
        let flags = PROC_TABLE_NEW | PROC_TABLE_RADIX | PROC_TABLE_GTSE;
        assert_eq!(register_process_table(flags, 0x0200_0000, 0, 4, &carve), Ok((1 << 63) | 0x0200_0000 | 4));
        assert_eq!(register_process_table(PROC_TABLE_DEREGISTER, 0, 0, 0, &carve), Ok(0));
        assert_eq!(register_process_table(flags, 0x0200_1000, 0, 4, &carve), Err(H_PARAMETER), "misaligned");
        assert_eq!(
            register_process_table(flags, 0, 0, 19, &carve),
            Err(H_PARAMETER),
            "2 GiB table, 1 GiB carve"
        );
        assert_eq!(
            register_process_table(PROC_TABLE_NEW, 0x0200_0000, 0, 4, &carve),
            Err(H_PARAMETER),
            "hash"
        );
        assert_eq!(register_process_table(flags | 0x100, 0x0200_0000, 0, 4, &carve), Err(H_PARAMETER));
        assert_eq!(register_process_table(flags, 0x0200_0000, 1, 4, &carve), Err(H_PARAMETER));
        assert_eq!(register_process_table(flags, 0, 0, 25, &carve), Err(H_PARAMETER));
    }
}
