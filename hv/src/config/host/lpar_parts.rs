//! The parts of an `[[lpar]]` table that take more than a line to read: processors (`cores` or
//! `threads`), the console, the boot images and the nested-virtualisation limits.

use super::error::ConfigErrorKind;
use super::fields::{integer_value, Diagnostics, Located, TableReader};
use super::spec::{console_kind, uart_port, ConsoleSpec, CpuSpec, ImageSpec};
use crate::config::model::{NestedLimits, MAX_CMDLINE_LEN, MAX_L2_GUESTS, MAX_L2_VCPUS, MAX_PREFIX_LEN};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use toml::de::DeValue;
use toml::Spanned;

const BOOT_KEYS: &[&str] = &["kernel", "initramfs", "cmdline"];
const IMAGE_KEYS: &[&str] = &["file", "partition"];
const CONSOLE_KEYS: &[&str] = &["type", "prefix", "port"];
const CONSOLE_CHOICES: &[&str] = &["vty", "uart"];

pub(super) fn read_cpus(lpar: &TableReader<'_, '_>, diag: &mut Diagnostics<'_>) -> Option<CpuSpec> {
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

pub(super) fn read_console(
    lpar: &TableReader<'_, '_>,
    diag: &mut Diagnostics<'_>,
) -> Option<Located<ConsoleSpec>> {
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

pub(super) type Boot = (Located<ImageSpec>, Option<Located<ImageSpec>>, String);

pub(super) fn read_boot(lpar: &TableReader<'_, '_>, diag: &mut Diagnostics<'_>) -> Option<Boot> {
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

pub(super) fn read_nested(lpar: &TableReader<'_, '_>, diag: &mut Diagnostics<'_>) -> Option<NestedLimits> {
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
