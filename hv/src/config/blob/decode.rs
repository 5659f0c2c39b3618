//! Reads a blob into a [`MachineConfig`], checking everything that does not need the machine:
//! magic, version, length, CRC, the layout of the areas, and each record's sanity (valid names,
//! unique LPIDs and names, whole-block memory that collides with nobody, threads owned once).
//! Every read is bounds-checked: any input gives a value or an error, never a panic.

use super::{code, flags, header, record, BlobError, MemoryOwner, RecordProblem, CONSOLE_AUTO, CRC32};
use super::{HEADER_LEN, MAGIC, RECORD_LEN, VERSION};
use crate::config::model::{
    name_problem, BootConfig, Console, CpuCompat, FirmwareConsole, ImageSource, LparConfig, MachineConfig,
    NestedLimits, Region, RestartPolicy, BLOCK_SIZE, FIRMWARE_RESERVED, MAX_CMDLINE_LEN, MAX_IMAGE_NAME_LEN,
    MAX_L2_GUESTS, MAX_L2_VCPUS, MAX_LPARS, MAX_LPID, MAX_PREFIX_LEN, MAX_THREADS,
};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Parses and checks a blob (bytes after its `total_len` are ignored).
pub fn parse_blob(bytes: &[u8]) -> Result<MachineConfig, BlobError> {
    let layout = Layout::read(bytes)?;
    let blob = Reader { bytes: layout.blob };
    let hypervisor = Region {
        base: blob.u64(header::HYPERVISOR_BASE).unwrap_or(0),
        size: blob.u64(header::HYPERVISOR_SIZE).unwrap_or(0),
    };
    if !hypervisor.is_whole_blocks() || hypervisor.base.checked_add(hypervisor.size).is_none() {
        return Err(BlobError::BadHypervisorMemory(hypervisor));
    }
    if FIRMWARE_RESERVED.iter().any(|reserved| reserved.overlaps(&hypervisor)) {
        return Err(BlobError::HypervisorOverlapsFirmware(hypervisor));
    }
    let firmware_console = match blob.u32(header::FIRMWARE_CONSOLE).unwrap_or(CONSOLE_AUTO) {
        CONSOLE_AUTO => FirmwareConsole::Auto,
        port => FirmwareConsole::Uart { port },
    };

    let mut lpars: Vec<LparConfig> = Vec::with_capacity(layout.lpar_count);
    for index in 0..layout.lpar_count {
        let start = HEADER_LEN + index * RECORD_LEN;
        let bytes = layout.blob.get(start..start + RECORD_LEN).unwrap_or_default();
        let rec = Reader { bytes };
        let lpid = rec.u32(record::LPID).unwrap_or(0);
        let raw_name = rec.bytes.get(record::NAME..record::NAME + record::NAME_LEN).unwrap_or_default();
        let fail = |problem| BlobError::Record { index, lpid, name: printable(raw_name), problem };
        let lpar = read_record(&rec, &layout).map_err(fail)?;
        check_against_earlier(&lpar, &lpars, &hypervisor).map_err(fail)?;
        if let Console::Uart { port } = lpar.console {
            if firmware_console == (FirmwareConsole::Uart { port }) {
                return Err(fail(RecordProblem::UartShared { port }));
            }
        }
        lpars.push(lpar);
    }
    Ok(MachineConfig { hypervisor, firmware_console, lpars })
}

/// The areas of the blob, checked against each other and the input length.
struct Layout<'a> {
    /// The blob up to `total_len`.
    blob: &'a [u8],
    lpar_count: usize,
    pir_table: &'a [u8],
    strings: &'a [u8],
}

impl<'a> Layout<'a> {
    fn read(bytes: &'a [u8]) -> Result<Self, BlobError> {
        let whole = Reader { bytes };
        let truncated = |needed: u64| BlobError::Truncated { needed, got: bytes.len() };
        let (Some(magic), Some(version), Some(header_len), Some(total_len)) = (
            whole.u32(header::MAGIC),
            whole.u16(header::VERSION),
            whole.u16(header::HEADER_LEN),
            whole.u32(header::TOTAL_LEN),
        ) else {
            return Err(truncated(HEADER_LEN as u64));
        };
        if magic != MAGIC {
            return Err(BlobError::BadMagic(magic));
        }
        if version != VERSION {
            return Err(BlobError::UnsupportedVersion(version));
        }
        let bad = |field, value: u64| BlobError::BadHeader { field, value };
        if usize::from(header_len) != HEADER_LEN {
            return Err(bad("header_len", header_len.into()));
        }
        if bytes.len() < HEADER_LEN {
            return Err(truncated(HEADER_LEN as u64));
        }
        let total = usize::try_from(total_len).unwrap_or(usize::MAX);
        if total < HEADER_LEN {
            return Err(bad("total_len", total_len.into()));
        }
        let Some(blob) = bytes.get(..total) else { return Err(truncated(total_len.into())) };
        let stored = whole.u32(header::CRC).unwrap_or(0);
        let computed = CRC32.checksum(blob.get(header::CRC_START..).unwrap_or_default());
        if stored != computed {
            return Err(BlobError::BadCrc { stored, computed });
        }

        let blob_reader = Reader { bytes: blob };
        let field =
            |at: usize| blob_reader.u32(at).map_or(usize::MAX, |v| usize::try_from(v).unwrap_or(usize::MAX));
        let lpar_count = usize::from(blob_reader.u16(header::LPAR_COUNT).unwrap_or(0));
        let record_len = usize::from(blob_reader.u16(header::RECORD_LEN).unwrap_or(0));
        let (pir_offset, pir_count) = (field(header::PIR_TABLE_OFFSET), field(header::PIR_COUNT));
        let (strings_offset, strings_len) = (field(header::STRINGS_OFFSET), field(header::STRINGS_LEN));
        let block_size = blob_reader.u64(header::BLOCK_SIZE).unwrap_or(0);
        let as_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);

        if lpar_count == 0 {
            return Err(BlobError::NoLpars);
        }
        if lpar_count > MAX_LPARS {
            return Err(bad("lpar_count", as_u64(lpar_count)));
        }
        if record_len != RECORD_LEN {
            return Err(bad("record_len", as_u64(record_len)));
        }
        if block_size != BLOCK_SIZE {
            return Err(bad("block_size", block_size));
        }
        if pir_count > MAX_THREADS {
            return Err(bad("pir_count", as_u64(pir_count)));
        }
        let records_end = HEADER_LEN + lpar_count * RECORD_LEN;
        if pir_offset != records_end {
            return Err(bad("pir_table_offset", as_u64(pir_offset)));
        }
        let pir_end = pir_count.checked_mul(4).and_then(|len| len.checked_add(pir_offset));
        if pir_end != Some(strings_offset) {
            return Err(bad("strings_offset", as_u64(strings_offset)));
        }
        if strings_offset.checked_add(strings_len) != Some(total) {
            return Err(bad("strings_len", as_u64(strings_len)));
        }
        Ok(Layout {
            blob,
            lpar_count,
            pir_table: blob.get(pir_offset..strings_offset).unwrap_or_default(),
            strings: blob.get(strings_offset..).unwrap_or_default(),
        })
    }

    /// The string a reference at `at` in `rec` points to.
    fn string(
        &self,
        rec: &Reader<'_>,
        at: usize,
        field: &'static str,
        max: usize,
    ) -> Result<String, RecordProblem> {
        let (offset, len) = (rec.u32(at).unwrap_or(u32::MAX), rec.u32(at + 4).unwrap_or(u32::MAX));
        let (offset, len) =
            (usize::try_from(offset).unwrap_or(usize::MAX), usize::try_from(len).unwrap_or(usize::MAX));
        if len == 0 {
            return if offset == 0 {
                Ok(String::new())
            } else {
                Err(RecordProblem::StringOutOfBounds(field))
            };
        }
        if len > max {
            return Err(RecordProblem::TooLong(field));
        }
        let bytes = offset
            .checked_add(len)
            .and_then(|end| self.strings.get(offset..end))
            .ok_or(RecordProblem::StringOutOfBounds(field))?;
        core::str::from_utf8(bytes).map(ToString::to_string).map_err(|_| RecordProblem::NotUtf8(field))
    }
}

fn read_record(rec: &Reader<'_>, layout: &Layout<'_>) -> Result<LparConfig, RecordProblem> {
    let id = rec.u32(record::LPID).unwrap_or(0);
    if id == 0 || id > MAX_LPID {
        return Err(RecordProblem::BadLpid);
    }
    let bits = rec.u32(record::FLAGS).unwrap_or(0);
    if bits & !flags::KNOWN != 0 {
        return Err(RecordProblem::UnknownFlags(bits & !flags::KNOWN));
    }
    let name = read_name(rec.bytes.get(record::NAME..record::NAME + record::NAME_LEN).unwrap_or_default())?;
    let reserved = [
        (record::RESERVED_46, 2, "reserved 0x46"),
        (record::RESERVED_4C, 4, "reserved 0x4c"),
        (record::RESERVED_98, 8, "reserved 0x98"),
    ];
    for (at, len, field) in reserved {
        if rec.bytes.get(at..at + len).is_none_or(|b| b.iter().any(|&x| x != 0)) {
            return Err(RecordProblem::ReservedNotZero(field));
        }
    }
    let memory = Region {
        base: rec.u64(record::MEMORY_BASE).unwrap_or(0),
        size: rec.u64(record::MEMORY_SIZE).unwrap_or(0),
    };
    if !memory.is_whole_blocks() || memory.base.checked_add(memory.size).is_none() {
        return Err(RecordProblem::BadMemory(memory));
    }
    let threads = read_threads(rec, layout)?;
    let pvr = rec.u32(record::CPU_COMPAT_PVR).unwrap_or(0);
    let cpu_compat = CpuCompat::from_logical_pvr(pvr).ok_or(RecordProblem::UnknownCpuCompat(pvr))?;
    let restart = match rec.byte(record::RESTART) {
        code::RESTART_NEVER => RestartPolicy::Never,
        code::RESTART_ON_CRASH => RestartPolicy::OnCrash,
        code::RESTART_ALWAYS => RestartPolicy::Always,
        other => return Err(RecordProblem::UnknownRestart(other)),
    };
    let port = rec.u32(record::CONSOLE_PORT).unwrap_or(0);
    let console = match rec.byte(record::CONSOLE_KIND) {
        code::CONSOLE_VTY if port == 0 => Console::Vty {
            prefix: layout.string(rec, record::CONSOLE_PREFIX, "console prefix", MAX_PREFIX_LEN)?,
        },
        code::CONSOLE_VTY => return Err(RecordProblem::ReservedNotZero("console port (vty)")),
        code::CONSOLE_UART if rec.u64(record::CONSOLE_PREFIX) == Some(0) => Console::Uart { port },
        code::CONSOLE_UART => return Err(RecordProblem::ReservedNotZero("console prefix (uart)")),
        other => return Err(RecordProblem::UnknownConsole(other)),
    };
    let (guests, vcpus) =
        (rec.u32(record::MAX_L2_GUESTS).unwrap_or(0), rec.u32(record::MAX_L2_VCPUS).unwrap_or(0));
    let nested = match (bits & flags::NESTED_VIRT != 0, guests, vcpus) {
        (true, guests, vcpus)
            if (1..=MAX_L2_GUESTS).contains(&guests) && (1..=MAX_L2_VCPUS).contains(&vcpus) =>
        {
            Some(NestedLimits { max_l2_guests: guests, max_l2_vcpus: vcpus })
        }
        (false, 0, 0) => None,
        _ => return Err(RecordProblem::BadNestedLimits),
    };
    let kernel = read_image(rec, layout, record::KERNEL, "kernel")?.ok_or(RecordProblem::MissingKernel)?;
    let initramfs = read_image(rec, layout, record::INITRAMFS, "initramfs")?;
    let cmdline = layout.string(rec, record::CMDLINE, "cmdline", MAX_CMDLINE_LEN)?;
    Ok(LparConfig {
        id,
        name,
        threads,
        whole_cores: bits & flags::WHOLE_CORES != 0,
        memory,
        console,
        boot: BootConfig { kernel, initramfs, cmdline },
        autostart: bits & flags::AUTOSTART != 0,
        restart,
        cpu_compat,
        nested,
    })
}

/// The name field: the name, then NUL bytes to the end of the field.
fn read_name(field: &[u8]) -> Result<String, RecordProblem> {
    let len = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let (name, padding) = field.split_at(len);
    if padding.is_empty() || padding.iter().any(|&b| b != 0) {
        return Err(RecordProblem::BadName { why: "is not NUL-terminated and NUL-padded" });
    }
    let name = core::str::from_utf8(name).map_err(|_| RecordProblem::BadName { why: "is not UTF-8" })?;
    match name_problem(name) {
        Some(why) => Err(RecordProblem::BadName { why }),
        None => Ok(name.to_string()),
    }
}

fn read_threads(rec: &Reader<'_>, layout: &Layout<'_>) -> Result<Vec<u32>, RecordProblem> {
    let index = usize::try_from(rec.u32(record::PIR_INDEX).unwrap_or(u32::MAX)).unwrap_or(usize::MAX);
    let count = usize::try_from(rec.u32(record::PIR_COUNT).unwrap_or(0)).unwrap_or(usize::MAX);
    if count == 0 {
        return Err(RecordProblem::NoThreads);
    }
    let table = Reader { bytes: layout.pir_table };
    let run = index
        .checked_add(count)
        .filter(|&end| end.checked_mul(4).is_some_and(|e| e <= layout.pir_table.len()));
    if run.is_none() {
        return Err(RecordProblem::ThreadsOutOfTable);
    }
    let threads: Vec<u32> = (index..index + count).filter_map(|i| table.u32(4 * i)).collect();
    if threads.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Err(RecordProblem::ThreadsNotAscending);
    }
    Ok(threads)
}

fn read_image(
    rec: &Reader<'_>,
    layout: &Layout<'_>,
    at: usize,
    field: &'static str,
) -> Result<Option<ImageSource>, RecordProblem> {
    let kind = rec.byte(at + record::IMAGE_KIND);
    let reserved_ok = rec.bytes.get(at + 1..at + 4).is_some_and(|b| b.iter().all(|&x| x == 0));
    let digest = rec.u32(at + record::IMAGE_DIGEST).unwrap_or(0);
    let size = rec.u64(at + record::IMAGE_SIZE).unwrap_or(0);
    if !reserved_ok {
        return Err(RecordProblem::ReservedNotZero(field));
    }
    if kind == code::IMAGE_NONE {
        let empty = digest == 0 && size == 0 && rec.u64(at + record::IMAGE_NAME) == Some(0);
        return if empty { Ok(None) } else { Err(RecordProblem::ReservedNotZero(field)) };
    }
    let name = layout.string(rec, at + record::IMAGE_NAME, field, MAX_IMAGE_NAME_LEN)?;
    if name.is_empty() {
        return Err(RecordProblem::EmptyImageName(field));
    }
    match kind {
        code::IMAGE_PARTITION if digest == 0 && size == 0 => Ok(Some(ImageSource::Partition { name })),
        code::IMAGE_PARTITION => Err(RecordProblem::ReservedNotZero(field)),
        code::IMAGE_FILE => Ok(Some(ImageSource::File { name, size, digest })),
        other => Err(RecordProblem::UnknownImageKind { field, kind: other }),
    }
}

/// Checks `lpar` against the LPARs read before it, the hypervisor and the firmware.
fn check_against_earlier(
    lpar: &LparConfig,
    earlier: &[LparConfig],
    hypervisor: &Region,
) -> Result<(), RecordProblem> {
    let overlap =
        |other, other_range| RecordProblem::MemoryOverlap { memory: lpar.memory, other, other_range };
    if let Some(reserved) = FIRMWARE_RESERVED.iter().find(|r| r.overlaps(&lpar.memory)) {
        return Err(overlap(MemoryOwner::Firmware, *reserved));
    }
    if hypervisor.overlaps(&lpar.memory) {
        return Err(overlap(MemoryOwner::Hypervisor, *hypervisor));
    }
    for (other_index, other) in earlier.iter().enumerate() {
        if other.id == lpar.id {
            return Err(RecordProblem::DuplicateLpid { other_index });
        }
        if other.name == lpar.name {
            return Err(RecordProblem::DuplicateName { other_index });
        }
        if other.memory.overlaps(&lpar.memory) {
            return Err(overlap(MemoryOwner::Lpar { id: other.id, name: other.name.clone() }, other.memory));
        }
        if let Some(&pir) = lpar.threads.iter().find(|pir| other.threads.binary_search(pir).is_ok()) {
            return Err(RecordProblem::ThreadShared { pir, other_id: other.id });
        }
        if let (Console::Uart { port }, Console::Uart { port: other_port }) = (&lpar.console, &other.console)
        {
            if port == other_port {
                return Err(RecordProblem::UartShared { port: *port });
            }
        }
    }
    Ok(())
}

/// The name field as far as it is printable, for error messages.
fn printable(field: &[u8]) -> String {
    field
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect()
}

/// Bounds-checked big-endian reads.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn array<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.bytes.get(at..at.checked_add(N)?)?.try_into().ok()
    }

    fn byte(&self, at: usize) -> u8 {
        self.bytes.get(at).copied().unwrap_or(0xff)
    }

    fn u16(&self, at: usize) -> Option<u16> {
        self.array(at).map(u16::from_be_bytes)
    }

    fn u32(&self, at: usize) -> Option<u32> {
        self.array(at).map(u32::from_be_bytes)
    }

    fn u64(&self, at: usize) -> Option<u64> {
        self.array(at).map(u64::from_be_bytes)
    }
}
