//! Writes a [`MachineConfig`] as a blob, then reads it back: only a blob that parses into the
//! same configuration is returned.

use super::{code, flags, header, parse_blob, record, BlobError, CONSOLE_AUTO, CRC32, HEADER_LEN, MAGIC};
use super::{RECORD_LEN, VERSION};
use crate::config::model::{
    Console, FirmwareConsole, ImageSource, LparConfig, MachineConfig, RestartPolicy, BLOCK_SIZE,
};
use alloc::vec;
use alloc::vec::Vec;

/// Encodes `config`. Fails if the result would not parse back into `config` (a name too long
/// for its field, overlapping memory, ... — whatever [`parse_blob`] refuses).
pub fn encode_blob(config: &MachineConfig) -> Result<Vec<u8>, BlobError> {
    let count = config.lpars.len();
    let records_end = HEADER_LEN + count * RECORD_LEN;
    let pir_count: usize = config.lpars.iter().map(|lpar| lpar.threads.len()).sum();
    let strings_offset = records_end + 4 * pir_count;

    let mut out = vec![0u8; strings_offset];
    let mut strings = Strings::default();
    let mut pir_index = 0usize;
    for (index, lpar) in config.lpars.iter().enumerate() {
        let start = HEADER_LEN + index * RECORD_LEN;
        write_record(&mut out[start..start + RECORD_LEN], lpar, pir_index, &mut strings);
        for &pir in &lpar.threads {
            put_u32(&mut out, records_end + 4 * pir_index, pir);
            pir_index += 1;
        }
    }
    out.extend_from_slice(&strings.bytes);

    let lossy = |value: usize| u32::try_from(value).unwrap_or(u32::MAX);
    put_u32(&mut out, header::MAGIC, MAGIC);
    put_u16(&mut out, header::VERSION, VERSION);
    put_u16(&mut out, header::HEADER_LEN, HEADER_LEN as u16);
    let total_len = lossy(out.len());
    put_u32(&mut out, header::TOTAL_LEN, total_len);
    put_u16(&mut out, header::LPAR_COUNT, u16::try_from(count).unwrap_or(u16::MAX));
    put_u16(&mut out, header::RECORD_LEN, RECORD_LEN as u16);
    put_u32(&mut out, header::PIR_TABLE_OFFSET, lossy(records_end));
    put_u32(&mut out, header::PIR_COUNT, lossy(pir_count));
    put_u32(&mut out, header::STRINGS_OFFSET, lossy(strings_offset));
    put_u32(&mut out, header::STRINGS_LEN, lossy(strings.bytes.len()));
    let console = match config.firmware_console {
        FirmwareConsole::Auto => CONSOLE_AUTO,
        FirmwareConsole::Uart { port } => port,
    };
    put_u32(&mut out, header::FIRMWARE_CONSOLE, console);
    put_u64(&mut out, header::BLOCK_SIZE, BLOCK_SIZE);
    put_u64(&mut out, header::HYPERVISOR_BASE, config.hypervisor.base);
    put_u64(&mut out, header::HYPERVISOR_SIZE, config.hypervisor.size);
    let crc = CRC32.checksum(&out[header::CRC_START..]);
    put_u32(&mut out, header::CRC, crc);

    match parse_blob(&out) {
        Ok(parsed) if parsed == *config => Ok(out),
        Ok(_) => Err(BlobError::NotRepresentable),
        Err(error) => Err(error),
    }
}

fn write_record(out: &mut [u8], lpar: &LparConfig, pir_index: usize, strings: &mut Strings) {
    put_u32(out, record::LPID, lpar.id);
    let mut bits = 0;
    if lpar.autostart {
        bits |= flags::AUTOSTART;
    }
    if lpar.nested.is_some() {
        bits |= flags::NESTED_VIRT;
    }
    if lpar.whole_cores {
        bits |= flags::WHOLE_CORES;
    }
    put_u32(out, record::FLAGS, bits);
    // A name longer than the field is cut; the read-back then differs and encoding fails.
    let name = lpar.name.as_bytes();
    let kept = name.len().min(record::NAME_LEN - 1);
    out[record::NAME..record::NAME + kept].copy_from_slice(&name[..kept]);
    put_u64(out, record::MEMORY_BASE, lpar.memory.base);
    put_u64(out, record::MEMORY_SIZE, lpar.memory.size);
    put_u32(out, record::PIR_INDEX, u32::try_from(pir_index).unwrap_or(u32::MAX));
    put_u32(out, record::PIR_COUNT, u32::try_from(lpar.threads.len()).unwrap_or(u32::MAX));
    put_u32(out, record::CPU_COMPAT_PVR, lpar.cpu_compat.logical_pvr());
    out[record::RESTART] = match lpar.restart {
        RestartPolicy::Never => code::RESTART_NEVER,
        RestartPolicy::OnCrash => code::RESTART_ON_CRASH,
        RestartPolicy::Always => code::RESTART_ALWAYS,
    };
    match &lpar.console {
        Console::Vty { prefix } => {
            out[record::CONSOLE_KIND] = code::CONSOLE_VTY;
            strings.put(out, record::CONSOLE_PREFIX, prefix);
        }
        Console::Uart { port } => {
            out[record::CONSOLE_KIND] = code::CONSOLE_UART;
            put_u32(out, record::CONSOLE_PORT, *port);
        }
    }
    strings.put(out, record::CMDLINE, &lpar.boot.cmdline);
    if let Some(limits) = lpar.nested {
        put_u32(out, record::MAX_L2_GUESTS, limits.max_l2_guests);
        put_u32(out, record::MAX_L2_VCPUS, limits.max_l2_vcpus);
    }
    write_image(out, record::KERNEL, Some(&lpar.boot.kernel), strings);
    write_image(out, record::INITRAMFS, lpar.boot.initramfs.as_ref(), strings);
}

fn write_image(out: &mut [u8], at: usize, image: Option<&ImageSource>, strings: &mut Strings) {
    let (kind, crc, size) = match image {
        None => return,
        Some(ImageSource::Partition { .. }) => (code::IMAGE_PARTITION, 0, 0),
        Some(ImageSource::File { digest, size, .. }) => (code::IMAGE_FILE, *digest, *size),
    };
    out[at + record::IMAGE_KIND] = kind;
    put_u32(out, at + record::IMAGE_DIGEST, crc);
    put_u64(out, at + record::IMAGE_SIZE, size);
    if let Some(image) = image {
        strings.put(out, at + record::IMAGE_NAME, image.name());
    }
}

/// The string area being built.
#[derive(Default)]
struct Strings {
    bytes: Vec<u8>,
}

impl Strings {
    /// Appends `text` and writes its reference (offset, length) at `at` in `out`.
    fn put(&mut self, out: &mut [u8], at: usize, text: &str) {
        if text.is_empty() {
            return;
        }
        put_u32(out, at, u32::try_from(self.bytes.len()).unwrap_or(u32::MAX));
        put_u32(out, at + 4, u32::try_from(text.len()).unwrap_or(u32::MAX));
        self.bytes.extend_from_slice(text.as_bytes());
    }
}

fn put_u16(out: &mut [u8], at: usize, value: u16) {
    out[at..at + 2].copy_from_slice(&value.to_be_bytes());
}

fn put_u32(out: &mut [u8], at: usize, value: u32) {
    out[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

fn put_u64(out: &mut [u8], at: usize, value: u64) {
    out[at..at + 8].copy_from_slice(&value.to_be_bytes());
}
