//! Builds the [`Platform`] model from a flattened device tree.
//!
//! The tree is checked structurally first (`oxiboot_devtree::validate_fdt`), then walked depth-first
//! with a stack of ancestors so that every `reg` is translated through the `ranges` of its
//! parents to a physical address: nothing the tree provides is hard-coded.

use super::cells::{parse_ranges, parse_reg, read_cells, Ranges};
use super::{
    BmcInterface, Chip, Chosen, Core, FlashWindow, LpcIoDevice, MemoryRange, ModelError, Platform, Uart,
};
use crate::lpc::{LpcBus, LpcSpace, LpcWindow};
use crate::xscom::XscomWindow;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use fdt::node::FdtNode;
use fdt::Fdt;
use oxiboot_devtree::{validate_fdt, FdtError};

/// What the walk knows about one ancestor.
struct Level {
    /// This node's `#address-cells` / `#size-cells` (for its children).
    address_cells: u32,
    size_cells: u32,
    /// How this node maps its children's addresses into its parent's space.
    ranges: Ranges,
}

/// Everything collected during the walk, assembled at the end.
#[derive(Default)]
struct Found {
    memory: Vec<MemoryRange>,
    cores: Vec<(Option<u32>, Core, Option<u64>)>,
    xscoms: Vec<XscomWindow>,
    lpcs: Vec<(LpcBus, bool)>,
    uarts: Vec<(String, Uart)>,
    bmcs: Vec<(String, BmcInterface)>,
    rtcs: Vec<(String, LpcIoDevice)>,
    /// The first node-level error; the walk goes on past it so that the console can still
    /// be found and the error reported on it.
    first_error: Option<ModelError>,
}

fn prop<'a>(node: &FdtNode<'_, 'a>, name: &str) -> Option<&'a [u8]> {
    node.property(name).map(|p| p.value)
}

fn u32_prop(node: &FdtNode<'_, '_>, path: &str, name: &'static str) -> Result<Option<u32>, ModelError> {
    match prop(node, name) {
        None => Ok(None),
        Some(v) if v.len() == 4 => Ok(Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]]))),
        Some(_) => Err(ModelError::BadProperty { node: path.to_string(), property: name }),
    }
}

fn strings(value: &[u8]) -> impl Iterator<Item = &str> {
    value.split(|&b| b == 0).filter(|s| !s.is_empty()).filter_map(|s| core::str::from_utf8(s).ok())
}

fn str_prop<'a>(node: &FdtNode<'_, 'a>, name: &str) -> Option<&'a str> {
    prop(node, name).and_then(|v| strings(v).next())
}

fn string_prop(node: &FdtNode<'_, '_>, name: &str) -> Option<String> {
    str_prop(node, name).map(|s| s.to_string())
}

fn is_compatible(node: &FdtNode<'_, '_>, any_of: &[&str]) -> bool {
    prop(node, "compatible").is_some_and(|v| strings(v).any(|c| any_of.contains(&c)))
}

fn bad(path: &str, property: &'static str) -> ModelError {
    ModelError::BadProperty { node: path.to_string(), property }
}

/// Translates an address in the children's space of `stack.last()` to a physical address.
fn translate(stack: &[Level], address: u128, len: u128) -> Option<u64> {
    let mut addr = address;
    // The root's children's space is the physical space; every other ancestor maps.
    for level in stack.iter().skip(1).rev() {
        addr = level.ranges.map(addr, len)?;
    }
    u64::try_from(addr).ok()
}

/// The outcome of reading a device tree: the model, or the first thing wrong with it; and
/// in both cases the console UART, if the nodes leading to it were sound.
pub struct ParseOutcome {
    /// The platform model, or why there is none.
    pub platform: Result<Platform, ModelError>,
    /// The UART the firmware console should use.
    pub console: Option<Uart>,
}

/// Parses `blob` (a flattened device tree) into the platform model.
pub fn parse_fdt(blob: &[u8]) -> Result<Platform, ModelError> {
    parse_fdt_with_console(blob).platform
}

/// Like [`parse_fdt`], but also returns the console UART when the model cannot be built.
pub fn parse_fdt_with_console(blob: &[u8]) -> ParseOutcome {
    let fail = |e| ParseOutcome { platform: Err(e), console: None };
    if let Err(why) = validate_fdt(blob) {
        return fail(ModelError::InvalidFdt(why));
    }
    let Ok(fdt) = Fdt::new(blob) else {
        return fail(ModelError::InvalidFdt(FdtError::BadStructure("rejected by the FDT reader", 0)));
    };
    let Some(root) = fdt.find_node("/") else {
        return fail(ModelError::InvalidFdt(FdtError::BadStructure("no root node", 0)));
    };

    let mut found = Found::default();
    let mut stack = Vec::new();
    walk(&root, String::from("/"), &mut stack, &mut found, None);

    let chosen = match fdt.find_node("/chosen").map(|n| parse_chosen(&n)) {
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            found.first_error.get_or_insert(e);
            Chosen::default()
        }
        None => Chosen::default(),
    };
    let console = console_of(&found, &chosen);
    ParseOutcome { platform: assemble(&root, found, chosen), console }
}

/// The console UART among those found, by the rule of [`Platform::console_uart`]:
/// `/chosen/stdout-path`, else COM1 (0x3f8), else the lowest I/O port on the primary LPC bus.
fn console_of(found: &Found, chosen: &Chosen) -> Option<Uart> {
    let primary = found.lpcs.iter().find(|(_, p)| *p).or(found.lpcs.first()).map(|(l, _)| &l.path)?;
    let on_bus = || found.uarts.iter().filter(|(bus, _)| bus == primary).map(|(_, u)| u);
    chosen
        .stdout_path
        .as_deref()
        .and_then(|p| on_bus().find(|u| u.path == p))
        .or_else(|| on_bus().find(|u| u.io_port == super::COM1_PORT))
        .or_else(|| on_bus().min_by_key(|u| u.io_port))
        .cloned()
}

fn child_path(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

fn walk(node: &FdtNode<'_, '_>, path: String, stack: &mut Vec<Level>, found: &mut Found, lpc: Option<usize>) {
    match visit(node, &path, stack, found, lpc) {
        Ok((level, lpc_here)) => {
            stack.push(level);
            for child in node.children() {
                let cpath = child_path(&path, child.name);
                walk(&child, cpath, stack, found, lpc_here);
            }
            stack.pop();
        }
        Err(e) => {
            // The node (and what lies below it) is unusable; remember why and go on.
            found.first_error.get_or_insert(e);
        }
    }
}

/// Records what one node contributes; returns its level for the walk of its children and
/// the LPC bus those children sit on.
fn visit(
    node: &FdtNode<'_, '_>,
    path: &str,
    stack: &[Level],
    found: &mut Found,
    lpc: Option<usize>,
) -> Result<(Level, Option<usize>), ModelError> {
    let path = path.to_string();
    let parent_cells = stack.last().map(|l| (l.address_cells, l.size_cells)).unwrap_or((2, 1));
    let address_cells = u32_prop(node, &path, "#address-cells")?.unwrap_or(2);
    let size_cells = u32_prop(node, &path, "#size-cells")?.unwrap_or(1);
    let reg = match prop(node, "reg") {
        Some(v) => parse_reg(v, parent_cells.0, parent_cells.1).map_err(|_| bad(&path, "reg"))?,
        None => Vec::new(),
    };
    let ranges = parse_ranges(prop(node, "ranges"), address_cells, parent_cells.0, size_cells)
        .map_err(|_| bad(&path, "ranges"))?;
    let chip_id = u32_prop(node, &path, "ibm,chip-id")?;
    let device_type = string_prop(node, "device_type");

    let mut lpc_here = lpc;
    if device_type.as_deref() == Some("memory") {
        for r in &reg {
            let base = translate(stack, r.address, r.size).ok_or_else(|| bad(&path, "reg"))?;
            let size = u64::try_from(r.size).map_err(|_| bad(&path, "reg"))?;
            if size > 0 {
                found.memory.push(MemoryRange { base, size, chip_id });
            }
        }
    } else if device_type.as_deref() == Some("cpu") {
        found.cores.push(parse_cpu(node, &path, chip_id, &reg)?);
    } else if is_compatible(node, &["ibm,xscom", "ibm,power9-xscom"]) {
        let r =
            reg.first().ok_or_else(|| ModelError::MissingProperty { node: path.clone(), property: "reg" })?;
        let base = translate(stack, r.address, r.size).ok_or_else(|| bad(&path, "reg"))?;
        let chip_id = chip_id
            .ok_or_else(|| ModelError::MissingProperty { node: path.clone(), property: "ibm,chip-id" })?;
        let size = u64::try_from(r.size).map_err(|_| bad(&path, "reg"))?;
        found.xscoms.push(XscomWindow { chip_id, base, size });
    } else if is_compatible(node, &["ibm,lpc", "ibm,power9-lpc"]) {
        let bus = parse_lpc(stack, &path, address_cells, size_cells, &ranges, chip_id)?;
        found.lpcs.push((bus, prop(node, "primary").is_some()));
        lpc_here = Some(found.lpcs.len() - 1);
    } else if let Some(index) = lpc {
        let bus = found.lpcs[index].0.clone();
        parse_lpc_device(node, &path, &reg, &bus, found)?;
    }

    Ok((Level { address_cells, size_cells, ranges }, lpc_here))
}

fn parse_cpu(
    node: &FdtNode<'_, '_>,
    path: &str,
    chip_id: Option<u32>,
    reg: &[super::cells::RegEntry],
) -> Result<(Option<u32>, Core, Option<u64>), ModelError> {
    let pir = reg
        .first()
        .map(|r| r.address)
        .ok_or_else(|| ModelError::MissingProperty { node: path.to_string(), property: "reg" })?;
    let pir = u32::try_from(pir).map_err(|_| bad(path, "reg"))?;
    let threads = match prop(node, "ibm,ppc-interrupt-server#s") {
        Some(v) if !v.is_empty() && v.len() % 4 == 0 => {
            v.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect()
        }
        Some(_) => return Err(bad(path, "ibm,ppc-interrupt-server#s")),
        None => alloc::vec![pir],
    };
    let timebase = match prop(node, "timebase-frequency") {
        Some(v) if v.len() == 4 || v.len() == 8 => {
            Some(read_cells(v, v.len() as u32 / 4).map_err(|_| bad(path, "timebase-frequency"))? as u64)
        }
        Some(_) => return Err(bad(path, "timebase-frequency")),
        None => None,
    };
    let pvr = u32_prop(node, path, "cpu-version")?;
    Ok((chip_id, Core { path: path.to_string(), pir, threads, pvr }, timebase))
}

fn parse_lpc(
    stack: &[Level],
    path: &str,
    address_cells: u32,
    size_cells: u32,
    ranges: &Ranges,
    chip_id: Option<u32>,
) -> Result<LpcBus, ModelError> {
    let Ranges::Windows(list) = ranges else {
        return Err(ModelError::MissingProperty { node: path.to_string(), property: "ranges" });
    };
    if address_cells != 2 || size_cells != 1 {
        return Err(bad(path, "#address-cells"));
    }
    let mut windows = Vec::new();
    for r in list {
        let Some(space) = LpcSpace::from_cell((r.child >> 32) as u32) else { continue };
        // r.parent is in the LPC node's parent space; translate from there.
        let mmio = translate(stack, r.parent, r.size).ok_or_else(|| bad(path, "ranges"))?;
        let size = u64::try_from(r.size).map_err(|_| bad(path, "ranges"))?;
        windows.push(LpcWindow { space, lpc_base: (r.child & 0xffff_ffff) as u64, mmio_base: mmio, size });
    }
    // A chip id on the LPC node itself, else on its parent (the OPB bridge).
    let chip_id = chip_id.unwrap_or(0);
    Ok(LpcBus { chip_id, path: path.to_string(), windows })
}

fn parse_lpc_device(
    node: &FdtNode<'_, '_>,
    path: &str,
    reg: &[super::cells::RegEntry],
    bus: &LpcBus,
    found: &mut Found,
) -> Result<(), ModelError> {
    let Some(r) = reg.first() else { return Ok(()) };
    let space = LpcSpace::from_cell((r.address >> 32) as u32);
    if space != Some(LpcSpace::Io) {
        return Ok(());
    }
    let port = (r.address & 0xffff_ffff) as u32;
    let len = u64::try_from(r.size).map_err(|_| bad(path, "reg"))?;
    let mmio = bus.mmio_address(LpcSpace::Io, port as u64, len).ok_or_else(|| bad(path, "reg"))?;
    let irq = prop(node, "interrupts").and_then(|v| read_cells(v, 1).ok()).map(|v| v as u32);
    if is_compatible(node, &["ns16550", "ns16550a"]) {
        let uart = Uart {
            path: path.to_string(),
            io_port: port,
            mmio,
            clock_hz: u32_prop(node, path, "clock-frequency")?.unwrap_or(1_843_200),
            baud: u32_prop(node, path, "current-speed")?.unwrap_or(115_200),
            irq,
        };
        found.uarts.push((bus.path.clone(), uart));
    } else if is_compatible(node, &["ipmi-bt", "bt"]) {
        found
            .bmcs
            .push((bus.path.clone(), BmcInterface { path: path.to_string(), io_port: port, mmio, irq }));
    } else if is_compatible(node, &["pnpPNP,b00", "motorola,mc146818"]) {
        found.rtcs.push((bus.path.clone(), LpcIoDevice { path: path.to_string(), io_port: port, mmio }));
    }
    Ok(())
}

fn parse_chosen(node: &FdtNode<'_, '_>) -> Result<Chosen, ModelError> {
    let path = "/chosen";
    let bootargs = string_prop(node, "bootargs").unwrap_or_default();
    let cell = |name: &'static str| -> Result<Option<u64>, ModelError> {
        match prop(node, name) {
            None => Ok(None),
            Some(v) if v.len() == 4 || v.len() == 8 => {
                Ok(Some(read_cells(v, v.len() as u32 / 4).map_err(|_| bad(path, name))? as u64))
            }
            Some(_) => Err(bad(path, name)),
        }
    };
    let initrd = match (cell("linux,initrd-start")?, cell("linux,initrd-end")?) {
        (Some(s), Some(e)) if e > s => Some((s, e)),
        (Some(_), Some(_)) => return Err(bad(path, "linux,initrd-end")),
        _ => None,
    };
    let stdout_path = string_prop(node, "stdout-path").or_else(|| string_prop(node, "linux,stdout-path"));
    Ok(Chosen { bootargs, initrd, stdout_path })
}

fn assemble(root: &FdtNode<'_, '_>, found: Found, chosen: Chosen) -> Result<Platform, ModelError> {
    let Found { mut memory, cores, xscoms, lpcs, uarts, bmcs, rtcs, first_error } = found;
    if let Some(e) = first_error {
        return Err(e);
    }
    if memory.is_empty() {
        return Err(ModelError::NoMemory);
    }
    memory.sort_by_key(|m| m.base);
    if cores.is_empty() {
        return Err(ModelError::NoCpus);
    }

    // Timebase: every CPU that states it must agree.
    let mut timebase_hz = None;
    for (_, core, tb) in &cores {
        match (timebase_hz, tb) {
            (None, Some(t)) => timebase_hz = Some(*t),
            (Some(a), Some(b)) if a != *b => {
                return Err(ModelError::TimebaseMismatch { node: core.path.clone() })
            }
            _ => {}
        }
    }
    let timebase_hz = timebase_hz.ok_or_else(|| ModelError::MissingProperty {
        node: cores[0].1.path.clone(),
        property: "timebase-frequency",
    })?;

    let mut chips: Vec<Chip> = Vec::new();
    for x in xscoms {
        if chips.iter().any(|c| c.id == x.chip_id) {
            return Err(ModelError::DuplicateChip(x.chip_id));
        }
        chips.push(Chip { id: x.chip_id, xscom: x, cores: Vec::new() });
    }
    let mut seen_threads: Vec<u32> = Vec::new();
    for (chip_id, core, _) in cores {
        for &t in &core.threads {
            if seen_threads.contains(&t) {
                return Err(ModelError::DuplicateThread(t));
            }
            seen_threads.push(t);
        }
        let chip_id = chip_id.unwrap_or(0);
        let chip = chips.iter_mut().find(|c| c.id == chip_id).ok_or(ModelError::ChipWithoutXscom(chip_id))?;
        chip.cores.push(core);
    }
    chips.retain(|c| !c.cores.is_empty());
    chips.sort_by_key(|c| c.id);
    for chip in &mut chips {
        chip.cores.sort_by_key(|c| c.pir);
    }

    // The primary LPC bus: the one marked `primary`, else the first.
    let primary = lpcs.iter().position(|(_, p)| *p).or(if lpcs.is_empty() { None } else { Some(0) });
    let lpc = primary.map(|i| lpcs[i].0.clone());
    let lpc_path = lpc.as_ref().map(|l| l.path.clone());
    let mut uarts: Vec<Uart> =
        uarts.into_iter().filter(|(bus, _)| Some(bus) == lpc_path.as_ref()).map(|(_, u)| u).collect();
    uarts.sort_by_key(|u| u.io_port);
    let bmc = bmcs.into_iter().find(|(bus, _)| Some(bus) == lpc_path.as_ref()).map(|(_, b)| b);
    let rtc = rtcs.into_iter().find(|(bus, _)| Some(bus) == lpc_path.as_ref()).map(|(_, r)| r);
    let flash = lpc
        .as_ref()
        .and_then(|l| l.window(LpcSpace::Firmware))
        .map(|w| FlashWindow { mmio: w.mmio_base, size: w.size });

    let compatible =
        prop(root, "compatible").map(|v| strings(v).map(|s| s.to_string()).collect()).unwrap_or_default();
    Ok(Platform {
        model: string_prop(root, "model").unwrap_or_default(),
        compatible,
        chips,
        memory,
        timebase_hz,
        lpc,
        uarts,
        bmc,
        rtc,
        flash,
        chosen,
    })
}
