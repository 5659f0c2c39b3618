//! The config file as written, read field by field from the TOML tree into a [`Spec`]: types,
//! keywords, ranges, names, sizes and required fields are checked here; everything that needs
//! the machine or several partitions at once is left to the resolver. The longer parts of an
//! `[[lpar]]` table are read in [`super::lpar_parts`].

use super::error::ConfigErrorKind;
use super::fields::{integer_value, Diagnostics, Located, TableReader};
use super::lpar_parts::{read_boot, read_console, read_cpus, read_nested};
use crate::config::model::{
    name_problem, CpuCompat, NestedLimits, RestartPolicy, BLOCK_SIZE, DEFAULT_HYPERVISOR_MEMORY, MAX_LPID,
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
const FIRMWARE_CONSOLE_KEYS: &[&str] = &["type", "port"];
const RESTART_CHOICES: &[&str] = &["never", "on-crash", "always"];
const CPU_COMPAT_CHOICES: &[&str] = &["power9", "power8"];
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
pub(super) fn console_kind<'t, 'i>(
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

pub(super) fn uart_port(
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
