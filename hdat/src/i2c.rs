//! Chip-attached I2C devices (SPPCRD internal data 5): `i2cm@` master and `i2c-bus@` port
//! nodes under the chip's `xscom@` node, and one node per device the host may see (EEPROMs,
//! GPIO (General Purpose I/O) expanders, the TPM (Trusted Platform Module), ...), labelled
//! with its purpose.

use crate::error::Result;
use crate::hdif::{Hdif, ARRAY_HDR_LEN};
use crate::tree::{join, unit};
use alloc::string::String;
use oxiboot_devtree::Node;

/// Fields of one device entry used here (the entry may be larger in newer versions).
const DEV_LEN: usize = 18;
/// Only engines 0-3 are reachable by the host through XSCOM.
const HOST_ENGINES: u8 = 4;
/// Default I2C master clock when the PIB (Processor Interconnect Bus) frequency is unknown.
const DEFAULT_I2CM_CLOCK: u32 = 150_000_000;
const TYPE_TPM: u8 = 0x3;
const TYPE_UNKNOWN: u8 = 0xff;

/// Device type: node name and compatible string.
const TYPES: &[(u8, &str, Option<&str>)] = &[
    (0x1, "gpio", Some("nxp,pca9551")),
    (0x2, "eeprom", Some("atmel,24c128")),
    (0x3, "tpm", Some("nuvoton,npct650")),
    (0x4, "i2c", None),
    (0x5, "i2c", None),
    (0x6, "gpio", Some("nxp,pca9552")),
    (0x7, "gpio", Some("nxp,pca9553")),
    (0x8, "gpio", Some("nxp,pca9554")),
    (0x9, "gpio", Some("nxp,pca9555")),
    (0xa, "i2c", None),
    (0xb, "eeprom", Some("atmel,24c256")),
    (0xc, "i2c", None),
    (0xd, "eeprom", Some("atmel,24c04")),
    (0xe, "eeprom", Some("atmel,24c512")),
    (0xf, "eeprom", Some("atmel,24c32")),
    (0x10, "eeprom", Some("atmel,24c64")),
    (0x11, "eeprom", Some("atmel,24c16")),
    (0x12, "i2c", None),
    (0x13, "i2c", Some("nxp,lpc11u35")),
];

/// Device purpose: whether the host may use it, and its label.
const PURPOSES: &[(u32, bool, &str)] = &[
    (0x1, false, "led-controller"),
    (0x2, false, "pci-hotplug-pgood"),
    (0x3, false, "pci-hotplug-control"),
    (0x4, true, "tpm"),
    (0x5, true, "module-vpd"),
    (0x6, true, "dimm-spd"),
    (0x7, true, "proc-vpd"),
    (0x8, false, "sbe-eeprom"),
    (0x9, true, "planar-vpd"),
    (0xa, false, "opencapi-topology"),
    (0xb, false, "opencapi-micro-reset"),
    (0xc, false, "nvlink-cable"),
    (0xd, false, "secure-window-open"),
    (0xe, false, "physical-presence"),
    (0xf, false, "mex-fpga"),
    (0x10, false, "thermal-sensor"),
    (0x11, false, "host-i2c-enable"),
    (0x12, false, "gpu-config"),
];

/// The `i2cm@` node of engine `engine` under chip node `x` (created if needed); its name.
fn master(x: &mut Node, engine: u8) -> String {
    let existing = find_master(x, engine);
    if let Some(name) = existing {
        return name;
    }
    let base = 0xa0000 + 0x1000 * u32::from(engine);
    let clock = match x.prop_u64("bus-frequency") {
        Some(f) if f != 0 => (f / 4) as u32,
        _ => DEFAULT_I2CM_CLOCK,
    };
    let name = unit("i2cm", base.into());
    let m = x.add_child(Node::new(&name));
    m.set_strs("compatible", &["ibm,power8-i2cm", "ibm,power9-i2cm"]);
    m.set_cells("reg", &[base, 0x1000]);
    m.set_u32("#size-cells", 0).set_u32("#address-cells", 1);
    m.set_u32("chip-engine#", engine.into());
    m.set_u32("clock-frequency", clock);
    name
}

/// Relative path of the I2C master of `engine` below `x`, searched depth first.
fn find_master(x: &Node, engine: u8) -> Option<String> {
    let mut found = None;
    x.walk("", &mut |p, n| {
        if found.is_none()
            && !p.is_empty()
            && n.is_compatible("ibm,power8-i2cm")
            && n.prop_u32("chip-engine#") == Some(engine.into())
        {
            found = Some(String::from(p.trim_start_matches('/')));
        }
    });
    found
}

/// The `i2c-bus@` node of `port` under master `m` (created if needed), its bus frequency
/// lowered to `speed` if that is slower; its name.
fn port(m: &mut Node, port: u8, speed: u32) -> String {
    let name = match m.children().iter().find(|c| c.prop_u32("reg") == Some(port.into())) {
        Some(c) => String::from(c.name()),
        None => {
            let name = unit("i2c-bus", port.into());
            let p = m.add_child(Node::new(&name));
            p.set_u32("reg", port.into());
            p.set_u32("#size-cells", 0).set_u32("#address-cells", 1);
            p.set_strs("compatible", &["ibm,opal-i2c", "ibm,power8-i2c-port", "ibm,power9-i2c-port"]);
            name
        }
    };
    if let Some(p) = m.child_mut(&name) {
        if speed < p.prop_u32("bus-frequency").unwrap_or(u32::MAX) {
            p.remove("bus-frequency");
            p.set_u32("bus-frequency", speed);
        }
    }
    name
}

/// skiboot's `parse_i2c_devs` for chip node `x`.
pub fn parse_devices(x: &mut Node, h: &Hdif<'_>, index: usize) -> Result<()> {
    let Some(block) = h.idata(index)? else { return Ok(()) };
    if block.is_empty() {
        return Ok(());
    }
    let block = block.named("SPPCRD I2C devices");
    // Some hostboots leave the version out; their array then starts right after its header.
    let version = if block.be32(0)? as usize == ARRAY_HDR_LEN { 1 } else { block.be32(16)? };
    if version > 2 {
        return Ok(());
    }
    let Some(arr) = h.iarray(index, "SPPCRD I2C devices")? else { return Ok(()) };
    for dev in arr.items() {
        let dev = dev?;
        if dev.data().iter().all(|&b| b == 0) || dev.len() < DEV_LEN {
            continue;
        }
        let (engine, port_id, freq) = (dev.u8(0)?, dev.u8(1)?, dev.be16(2)?);
        if engine >= HOST_ENGINES {
            continue;
        }
        let (kind, addr, dev_port) = (dev.u8(4)?, dev.u8(5)? >> 1, dev.u8(6)?);
        let (purpose, link) = (dev.be32(8)?, dev.be32(12)?);
        let m = master(x, engine);
        let Some(mnode) = x.find_mut(&m) else { continue };
        let bus = port(mnode, port_id, u32::from(freq) * 1000);
        let ty = TYPES.iter().find(|(t, _, _)| *t == kind);
        let (allowed, label) =
            PURPOSES.iter().find(|(p, _, _)| *p == purpose).map_or((false, ""), |p| (p.1, p.2));
        let Some(&(_, tname, tcompat)) = ty else { continue };
        let (name, compat) = if engine == 3 && (0x50..0x58).contains(&addr) {
            ("eeprom", Some("spd"))
        } else {
            (tname, tcompat)
        };
        if kind == TYPE_UNKNOWN || dev_port != 0xff {
            continue;
        }
        let Some(b) = x.find_mut(&join(&m, &bus)) else { continue };
        let dname = unit(name, addr.into());
        if b.child(&dname).is_some() {
            continue;
        }
        let n = b.add_child(Node::new(&dname));
        n.set_u32("reg", addr.into());
        n.set_u32("link-id", link);
        if let Some(c) = compat {
            n.set_str("compatible", c);
        }
        n.set_str("label", label);
        if !allowed {
            n.set_str("status", "reserved");
        }
        if kind == TYPE_TPM {
            b.set_u32("timeout-ms", 2000);
        }
    }
    Ok(())
}
