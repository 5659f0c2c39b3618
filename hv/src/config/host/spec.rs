//! The config file as written, read field by field from the TOML tree into a [`Spec`]: types,
//! keywords, ranges, names, sizes and required fields are checked here; everything that needs
//! the machine or several partitions at once is left to the resolver.

use super::error::ConfigErrorKind;
use super::fields::{integer_value, Diagnostics, Located, TableReader};
use crate::config::model::{
    name_problem, CpuCompat, NestedLimits, RestartPolicy, BLOCK_SIZE, DEFAULT_HYPERVISOR_MEMORY,
    MAX_CMDLINE_LEN, MAX_L2_GUESTS, MAX_L2_VCPUS, MAX_LPID, MAX_PREFIX_LEN,
};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The `[system]` table.
#[derive(Debug, Clone)]
pub struct SystemSpec {
    /// Hypervisor reservation size.
    pub hypervisor_memory: Located<u64>,
    /// Its fixed base, if given.
    pub hypervisor_memory_base: Option<Located<u64>>,
    /// The firmware console: `None` = auto, else an LPC I/O port.
    pub console: Located<Option<u32>>,
}

/// How an LPAR's processors are given.
#[derive(Debug, Clone)]
pub enum CpuSpec {
    /// Explicit cores: (chip, first core, last core) per entry.
    Cores(Vec<Located<(u32, u32, u32)>>),
    /// A number of whole cores, picked by the resolver.
    CoreCount(Located<u32>),
    /// Explicit threads by PIR.
    Threads(Vec<Located<u32>>),
}

/// Where an image comes from, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSpec {
    /// A file, relative to the config file.
    File(String),
    /// A flash partition.
    Partition(String),
}

/// An LPAR's console, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleSpec {
    /// Multiplexed, with this prefix (`None`: the default `[name] `).
    Vty(Option<String>),
    /// A dedicated UART at this LPC I/O port.
    Uart(u32),
}

/// One `[[lpar]]` table.
#[derive(Debug, Clone)]
pub struct LparSpec {
    /// How it is named in messages: its name, or `#N`.
    pub label: String,
    /// Its `[[lpar]]` header.
    pub span: Range<usize>,
    /// `name`.
    pub name: Located<String>,
    /// `id`.
    pub id: Located<u32>,
    /// `cores` or `threads`.
    pub cpus: CpuSpec,
    /// `memory`.
    pub memory: Located<u64>,
    /// `memory_base`.
    pub memory_base: Option<Located<u64>>,
    /// `console`.
    pub console: Located<ConsoleSpec>,
    /// `boot.kernel`.
    pub kernel: Located<ImageSpec>,
    /// `boot.initramfs`.
    pub initramfs: Option<Located<ImageSpec>>,
    /// `boot.cmdline`.
    pub cmdline: String,
    /// `autostart`.
    pub autostart: bool,
    /// `restart`.
    pub restart: RestartPolicy,
    /// `cpu_compat`.
    pub cpu_compat: CpuCompat,
    /// `nested_virt` with its limits.
    pub nested: Option<NestedLimits>,
}

/// The whole file.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `[system]`.
    pub system: SystemSpec,
    /// The `[[lpar]]` tables, in file order.
    pub lpars: Vec<LparSpec>,
}

const TOP_KEYS: &[&str] = &["system", "lpar"];
const SYSTEM_KEYS: &[&str] = &["version", "hypervisor_memory", "hypervisor_memory_base", "console"];
const LPAR_KEYS: &[&str] = &[
    "name",
    "id",
    "cores",
    "threads",
    "memory",
    "memory_base",
    "console",
    "boot",
    "autostart",
    "restart",
    "nested_virt",
    "max_l2_guests",
    "max_l2_vcpus",
    "cpu_compat",
];
const BOOT_KEYS: &[&str] = &["kernel", "initramfs", "cmdline"];
const IMAGE_KEYS: &[&str] = &["file", "partition"];
const CONSOLE_KEYS: &[&str] = &["type", "prefix", "port"];
const FIRMWARE_CONSOLE_KEYS: &[&str] = &["type", "port"];
const RESTART_CHOICES: &[&str] = &["never", "on-crash", "always"];
const CPU_COMPAT_CHOICES: &[&str] = &["power9", "power8"];
const CONSOLE_CHOICES: &[&str] = &["vty", "uart"];
const FIRMWARE_CONSOLE_CHOICES: &[&str] = &["auto", "uart"];

/// Reads the document (errors go to `diag`): the system table and the LPARs that were read
/// without mistakes, or `None` if the system table is wrong or no LPAR could be read.
pub fn read_spec(source: &str, diag: &mut Diagnostics<'_>) -> Option<Spec> {
    let root = match DeTable::parse(source) {
        Ok(root) => root,
        Err(error) => {
            let span = error.span().unwrap_or(0..0);
            diag.report(&span, "", None, ConfigErrorKind::Syntax(error.message().trim().to_string()));
            return None;
        }
    };
    let top = TableReader::new(root.get_ref(), 0..0, "", None, TOP_KEYS);
    top.finish(diag);
    let system = match top.raw("system") {
        Some(raw) => match raw.get_ref().as_table() {
            Some(table) => {
                read_system(&TableReader::new(table, raw.span(), "system.", None, SYSTEM_KEYS), diag)
            }
            None => {
                top.wrong_type("system", raw, "a table ([system])", diag);
                None
            }
        },
        None => {
            top.missing("system", diag);
            None
        }
    };
    let lpars = read_lpars(&top, diag);
    if lpars.is_empty() {
        return None;
    }
    // LPARs with mistakes are left out; the others still go through the machine checks, so
    // one run reports as much as it can without guessing.
    Some(Spec { system: system?, lpars })
}

fn read_system(table: &TableReader<'_, '_>, diag: &mut Diagnostics<'_>) -> Option<SystemSpec> {
    table.finish(diag);
    match table.raw("version") {
        None => table.missing("version", diag),
        Some(raw) => match integer_value(raw.get_ref()) {
            Some(1) => {}
            Some(found) => diag.report(
                &raw.span(),
                "system.version",
                None,
                ConfigErrorKind::UnsupportedVersion { found },
            ),
            None => table.wrong_type("version", raw, "an integer", diag),
        },
    }
    let default = Located {
        value: DEFAULT_HYPERVISOR_MEMORY,
        span: table.span.clone(),
        field: "system.hypervisor_memory".into(),
    };
    let hypervisor_memory =
        table.size("hypervisor_memory", diag).map_or(Some(default), |size| block_size(size, None, diag));
    let hypervisor_memory_base = table.size("hypervisor_memory_base", diag);
    let console = read_firmware_console(table, diag);
    Some(SystemSpec { hypervisor_memory: hypervisor_memory?, hypervisor_memory_base, console: console? })
}

/// Checks a size is a non-zero whole number of blocks.
fn block_size(size: Located<u64>, lpar: Option<&str>, diag: &mut Diagnostics<'_>) -> Option<Located<u64>> {
    if size.value == 0 {
        diag.at(&size, lpar, ConfigErrorKind::ZeroSize);
        None
    } else if !size.value.is_multiple_of(BLOCK_SIZE) {
        diag.at(&size, lpar, ConfigErrorKind::SizeNotBlockMultiple { size: size.value });
        None
    } else {
        Some(size)
    }
}

fn read_firmware_console(
    table: &TableReader<'_, '_>,
    diag: &mut Diagnostics<'_>,
) -> Option<Located<Option<u32>>> {
    let Some(raw) = table.raw("console") else {
        return Some(table.locate("console", None, table.span.clone()));
    };
    let (kind, inner) =
        console_kind(table, "console", raw, FIRMWARE_CONSOLE_CHOICES, FIRMWARE_CONSOLE_KEYS, diag)?;
    match kind.as_str() {
        "auto" => {
            if let Some(inner) = inner {
                if inner.raw("port").is_some() {
                    let span = inner.raw("port").map(Spanned::span).unwrap_or_default();
                    diag.report(
                        &span,
                        &inner.field("port"),
                        None,
                        ConfigErrorKind::ConflictingFields { other: "type = \"auto\"" },
                    );
                    return None;
                }
            }
            Some(table.locate("console", None, raw.span()))
        }
        _ => uart_port(inner.as_ref(), table, raw, diag).map(|port| port.with(Some(port.value))),
    }
}

/// Reads `console = "kind"` or `console = { type = "kind", ... }`: the kind, and the inline
/// table's reader when there is one.
fn console_kind<'t, 'i>(
    table: &TableReader<'t, 'i>,
    key: &str,
    raw: &'t Spanned<DeValue<'i>>,
    choices: &'static [&'static str],
    keys: &'static [&'static str],
    diag: &mut Diagnostics<'_>,
) -> Option<(String, Option<TableReader<'t, 'i>>)> {
    let keyword = |text: &str, span: Range<usize>, field: String, diag: &mut Diagnostics<'_>| {
        if choices.contains(&text) {
            Some(text.to_string())
        } else {
            let kind = ConfigErrorKind::UnknownChoice { value: text.to_string(), allowed: choices };
            diag.report(&span, &field, table.lpar.as_deref(), kind);
            None
        }
    };
    match raw.get_ref() {
        DeValue::String(text) => Some((keyword(text, raw.span(), table.field(key), diag)?, None)),
        DeValue::Table(inner) => {
            let prefix = format!("{}.", table.field(key));
            let inner = TableReader::new(inner, raw.span(), &prefix, table.lpar.clone(), keys);
            inner.finish(diag);
            let kind = match inner.raw("type") {
                Some(_) => {
                    let text = inner.string("type", diag)?;
                    keyword(&text.value, text.span.clone(), text.field.clone(), diag)?
                }
                None => {
                    inner.missing("type", diag);
                    return None;
                }
            };
            Some((kind, Some(inner)))
        }
        _ => {
            table.wrong_type(key, raw, "a string or an inline table", diag);
            None
        }
    }
}

fn uart_port(
    inner: Option<&TableReader<'_, '_>>,
    table: &TableReader<'_, '_>,
    raw: &Spanned<DeValue<'_>>,
    diag: &mut Diagnostics<'_>,
) -> Option<Located<u32>> {
    let Some(inner) = inner else {
        // `console = "uart"` without a port.
        diag.report(
            &raw.span(),
            &format!("{}.port", table.field("console")),
            table.lpar.as_deref(),
            ConfigErrorKind::MissingField,
        );
        return None;
    };
    match inner.integer("port", 1, 0xffff, diag) {
        Some(port) => Some(port.with(port.value as u32)),
        None if inner.raw("port").is_none() => {
            inner.missing("port", diag);
            None
        }
        None => None,
    }
}

fn read_lpars(top: &TableReader<'_, '_>, diag: &mut Diagnostics<'_>) -> Vec<LparSpec> {
    let Some(raw) = top.raw("lpar") else {
        diag.report(&(0..0), "lpar", None, ConfigErrorKind::NoLpars);
        return Vec::new();
    };
    let tables = match raw.get_ref() {
        DeValue::Array(items) if items.iter().all(|item| item.get_ref().is_table()) => items,
        _ => {
            top.wrong_type("lpar", raw, "an array of tables ([[lpar]])", diag);
            return Vec::new();
        }
    };
    if tables.is_empty() {
        diag.report(&raw.span(), "lpar", None, ConfigErrorKind::NoLpars);
    }
    let mut lpars = Vec::new();
    for (index, item) in tables.iter().enumerate() {
        let Some(table) = item.get_ref().as_table() else { continue };
        if let Some(lpar) = read_lpar(index, table, item.span(), diag) {
            lpars.push(lpar);
        }
    }
    lpars
}

fn read_lpar(
    index: usize,
    table: &DeTable<'_>,
    span: Range<usize>,
    diag: &mut Diagnostics<'_>,
) -> Option<LparSpec> {
    let errors_before = diag.errors.len();
    // The name first: every other message about this LPAR carries it.
    let provisional = TableReader::new(table, span.clone(), "", Some(format!("#{}", index + 1)), LPAR_KEYS);
    let name = provisional.string("name", diag);
    let name = match name {
        Some(name) => match name_problem(&name.value) {
            Some(why) => {
                diag.at(&name, provisional.lpar.as_deref(), ConfigErrorKind::BadName { why });
                None
            }
            None => Some(name),
        },
        None => {
            if provisional.raw("name").is_none() {
                provisional.missing("name", diag);
            }
            None
        }
    };
    let label = name.as_ref().map_or_else(|| format!("#{}", index + 1), |n| n.value.clone());
    let lpar = TableReader::new(table, span.clone(), "", Some(label.clone()), LPAR_KEYS);
    let l = Some(label.as_str());
    lpar.finish(diag);

    let id = required(&lpar, "id", diag, |t, d| t.integer("id", 1, MAX_LPID.into(), d))
        .map(|id| id.with(id.value as u32));
    let cpus = read_cpus(&lpar, diag);
    let memory =
        required(&lpar, "memory", diag, |t, d| t.size("memory", d)).and_then(|m| block_size(m, l, diag));
    let memory_base = lpar.size("memory_base", diag);
    let console = read_console(&lpar, diag);
    let boot = read_boot(&lpar, diag);
    let autostart = lpar.boolean("autostart", diag).is_none_or(|a| a.value);
    let restart = lpar
        .choice(
            "restart",
            RESTART_CHOICES,
            |text| {
                [RestartPolicy::Never, RestartPolicy::OnCrash, RestartPolicy::Always]
                    .into_iter()
                    .find(|p| p.keyword() == text)
            },
            diag,
        )
        .map_or(RestartPolicy::Never, |r| r.value);
    let cpu_compat = lpar
        .choice(
            "cpu_compat",
            CPU_COMPAT_CHOICES,
            |text| [CpuCompat::Power9, CpuCompat::Power8].into_iter().find(|c| c.keyword() == text),
            diag,
        )
        .map_or(CpuCompat::Power9, |c| c.value);
    let nested = read_nested(&lpar, diag);

    if diag.errors.len() > errors_before {
        return None;
    }
    let (kernel, initramfs, cmdline) = boot?;
    Some(LparSpec {
        label,
        span,
        name: name?,
        id: id?,
        cpus: cpus?,
        memory: memory?,
        memory_base,
        console: console?,
        kernel,
        initramfs,
        cmdline,
        autostart,
        restart,
        cpu_compat,
        nested,
    })
}

/// A required field: read with `read`, or reported missing.
fn required<'t, 'i, T>(
    table: &TableReader<'t, 'i>,
    key: &str,
    diag: &mut Diagnostics<'_>,
    read: impl FnOnce(&TableReader<'t, 'i>, &mut Diagnostics<'_>) -> Option<T>,
) -> Option<T> {
    if table.raw(key).is_none() {
        table.missing(key, diag);
        return None;
    }
    read(table, diag)
}

fn read_cpus(lpar: &TableReader<'_, '_>, diag: &mut Diagnostics<'_>) -> Option<CpuSpec> {
    let l = lpar.lpar.as_deref();
    match (lpar.raw("cores"), lpar.raw("threads")) {
        (Some(_), Some(threads)) => {
            diag.report(&threads.span(), "threads", l, ConfigErrorKind::ConflictingFields { other: "cores" });
            None
        }
        (None, None) => {
            lpar.missing("cores", diag);
            None
        }
        (Some(raw), None) => match raw.get_ref() {
            DeValue::Integer(_) => {
                let count = lpar.integer("cores", 0, u32::MAX.into(), diag)?;
                if count.value == 0 {
                    diag.at(&count, l, ConfigErrorKind::NoCpus);
                    return None;
                }
                Some(CpuSpec::CoreCount(count.with(count.value as u32)))
            }
            DeValue::Array(items) => {
                let mut cores = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    let at = Located { value: (), span: item.span(), field: format!("cores[{index}]") };
                    match item.get_ref().as_str() {
                        Some(text) => match parse_core_spec(text) {
                            Some(core) => cores.push(at.with(core)),
                            None => diag.at(&at, l, ConfigErrorKind::BadCoreSpec { text: text.to_string() }),
                        },
                        None => {
                            let found = item.get_ref().type_str();
                            diag.at(
                                &at,
                                l,
                                ConfigErrorKind::WrongType { expected: "a string \"chip:core\"", found },
                            );
                        }
                    }
                }
                if items.is_empty() {
                    diag.report(&raw.span(), "cores", l, ConfigErrorKind::NoCpus);
                }
                (cores.len() == items.len() && !items.is_empty()).then_some(CpuSpec::Cores(cores))
            }
            _ => {
                lpar.wrong_type("cores", raw, "a list of \"chip:core\" or a number of cores", diag);
                None
            }
        },
        (None, Some(raw)) => {
            let Some(items) = raw.get_ref().as_array() else {
                lpar.wrong_type("threads", raw, "a list of PIRs", diag);
                return None;
            };
            let mut threads = Vec::new();
            for (index, item) in items.iter().enumerate() {
                let at = Located { value: (), span: item.span(), field: format!("threads[{index}]") };
                match integer_value(item.get_ref()) {
                    Some(pir) => match u32::try_from(pir) {
                        Ok(pir) => threads.push(at.with(pir)),
                        Err(_) => diag.at(
                            &at,
                            l,
                            ConfigErrorKind::OutOfRange { value: pir, min: 0, max: u32::MAX.into() },
                        ),
                    },
                    None => {
                        let found = item.get_ref().type_str();
                        diag.at(&at, l, ConfigErrorKind::WrongType { expected: "an integer PIR", found });
                    }
                }
            }
            if items.is_empty() {
                diag.report(&raw.span(), "threads", l, ConfigErrorKind::NoCpus);
            }
            (threads.len() == items.len() && !items.is_empty()).then_some(CpuSpec::Threads(threads))
        }
    }
}

/// Reads `"chip:core"` or `"chip:first-last"`.
pub fn parse_core_spec(text: &str) -> Option<(u32, u32, u32)> {
    let (chip, cores) = text.trim().split_once(':')?;
    let number = |s: &str| s.trim().parse::<u32>().ok();
    let (first, last) = match cores.split_once('-') {
        Some((first, last)) => (number(first)?, number(last)?),
        None => (number(cores)?, number(cores)?),
    };
    (first <= last).then_some((number(chip)?, first, last))
}

fn read_console(lpar: &TableReader<'_, '_>, diag: &mut Diagnostics<'_>) -> Option<Located<ConsoleSpec>> {
    let Some(raw) = lpar.raw("console") else {
        return Some(lpar.locate("console", ConsoleSpec::Vty(None), lpar.span.clone()));
    };
    let (kind, inner) = console_kind(lpar, "console", raw, CONSOLE_CHOICES, CONSOLE_KEYS, diag)?;
    let l = lpar.lpar.as_deref();
    if kind == "uart" {
        if let Some(prefix) = inner.as_ref().and_then(|inner| inner.raw("prefix")) {
            diag.report(
                &prefix.span(),
                "console.prefix",
                l,
                ConfigErrorKind::ConflictingFields { other: "type = \"uart\"" },
            );
            return None;
        }
        return uart_port(inner.as_ref(), lpar, raw, diag)
            .map(|port| port.with(ConsoleSpec::Uart(port.value)));
    }
    let Some(inner) = inner else { return Some(lpar.locate("console", ConsoleSpec::Vty(None), raw.span())) };
    if let Some(port) = inner.raw("port") {
        diag.report(
            &port.span(),
            "console.port",
            l,
            ConfigErrorKind::ConflictingFields { other: "type = \"vty\"" },
        );
        return None;
    }
    let prefix = match inner.string("prefix", diag) {
        Some(prefix) if prefix.value.len() > MAX_PREFIX_LEN => {
            diag.at(&prefix, l, ConfigErrorKind::TooLong { len: prefix.value.len(), max: MAX_PREFIX_LEN });
            return None;
        }
        Some(prefix) => Some(prefix.value),
        None if inner.raw("prefix").is_some() => return None,
        None => None,
    };
    Some(lpar.locate("console", ConsoleSpec::Vty(prefix), raw.span()))
}

type Boot = (Located<ImageSpec>, Option<Located<ImageSpec>>, String);

fn read_boot(lpar: &TableReader<'_, '_>, diag: &mut Diagnostics<'_>) -> Option<Boot> {
    let raw = lpar.raw("boot");
    let Some(table) = raw.and_then(|raw| raw.get_ref().as_table()) else {
        match raw {
            Some(raw) => lpar.wrong_type("boot", raw, "a table ([lpar.boot])", diag),
            None => lpar.missing("boot", diag),
        }
        return None;
    };
    let boot = TableReader::new(
        table,
        raw.map(Spanned::span).unwrap_or_default(),
        "boot.",
        lpar.lpar.clone(),
        BOOT_KEYS,
    );
    boot.finish(diag);
    let kernel = match boot.raw("kernel") {
        Some(_) => read_image(&boot, "kernel", diag),
        None => {
            boot.missing("kernel", diag);
            None
        }
    };
    let initramfs = boot.raw("initramfs").and_then(|_| read_image(&boot, "initramfs", diag));
    let cmdline = boot.string("cmdline", diag);
    if let Some(cmdline) = &cmdline {
        if cmdline.value.len() > MAX_CMDLINE_LEN {
            let kind = ConfigErrorKind::TooLong { len: cmdline.value.len(), max: MAX_CMDLINE_LEN };
            diag.at(cmdline, lpar.lpar.as_deref(), kind);
        }
    }
    Some((kernel?, initramfs, cmdline.map(|c| c.value).unwrap_or_default()))
}

/// Reads `key = "file"`, `key = { file = "..." }` or `key = { partition = "NAME" }`.
fn read_image(
    boot: &TableReader<'_, '_>,
    key: &str,
    diag: &mut Diagnostics<'_>,
) -> Option<Located<ImageSpec>> {
    let raw = boot.raw(key)?;
    match raw.get_ref() {
        DeValue::String(path) => Some(boot.locate(key, ImageSpec::File(path.to_string()), raw.span())),
        DeValue::Table(table) => {
            let prefix = format!("{}.", boot.field(key));
            let inner = TableReader::new(table, raw.span(), &prefix, boot.lpar.clone(), IMAGE_KEYS);
            inner.finish(diag);
            match (inner.raw("file"), inner.raw("partition")) {
                (Some(_), Some(partition)) => {
                    let kind = ConfigErrorKind::ConflictingFields { other: "file" };
                    diag.report(&partition.span(), &inner.field("partition"), boot.lpar.as_deref(), kind);
                    None
                }
                (Some(_), None) => {
                    inner.string("file", diag).map(|f| f.with(ImageSpec::File(f.value.clone())))
                }
                (None, Some(_)) => {
                    inner.string("partition", diag).map(|p| p.with(ImageSpec::Partition(p.value.clone())))
                }
                (None, None) => {
                    inner.missing("file", diag);
                    None
                }
            }
        }
        _ => {
            boot.wrong_type(key, raw, "a file name or { file = ... } / { partition = ... }", diag);
            None
        }
    }
}

fn read_nested(lpar: &TableReader<'_, '_>, diag: &mut Diagnostics<'_>) -> Option<NestedLimits> {
    let enabled = lpar.boolean("nested_virt", diag).is_some_and(|n| n.value);
    let guests = lpar.integer("max_l2_guests", 1, MAX_L2_GUESTS.into(), diag);
    let vcpus = lpar.integer("max_l2_vcpus", 1, MAX_L2_VCPUS.into(), diag);
    if !enabled {
        for key in ["max_l2_guests", "max_l2_vcpus"] {
            if let Some(raw) = lpar.raw(key) {
                diag.report(&raw.span(), key, lpar.lpar.as_deref(), ConfigErrorKind::RequiresNestedVirt);
            }
        }
        return None;
    }
    Some(NestedLimits {
        max_l2_guests: guests.map_or(MAX_L2_GUESTS, |g| g.value as u32),
        max_l2_vcpus: vcpus.map_or(MAX_L2_VCPUS, |v| v.value as u32),
    })
}
