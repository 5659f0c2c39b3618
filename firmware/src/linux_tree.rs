//! The device tree handed to a Linux `powernv` kernel: the tree the boot firmware gave us,
//! plus what an OPAL firmware adds — the `/ibm,opal` node (entry point, consoles, RTC, NVRAM,
//! event controller, memory console), radix page-size encodings on every CPU, and the console
//! in `/chosen`. See docs/opal.md for how it compares with skiboot's.

use alloc::string::String;
use alloc::vec::Vec;
use oxiboot_devtree::Node;
use oxiboot_platform::xive::DtInfo;

/// What the OPAL part of the tree describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpalInfo<'a> {
    /// First byte of the firmware's memory (`opal-base-address`).
    pub base: u64,
    /// Where OPAL calls enter (`opal-entry-address`).
    pub entry: u64,
    /// Bytes from `base` the OS must leave alone (`opal-runtime-size`).
    pub runtime_size: u64,
    /// Firmware version string.
    pub version: &'a str,
    /// Address of the memory-console descriptor.
    pub memcons: u64,
    /// NVRAM size in bytes (0: no NVRAM node).
    pub nvram_size: u32,
    /// How often the OS should call OPAL_POLL_EVENTS (`ibm,heartbeat-ms`).
    pub heartbeat_ms: u32,
    /// Device-tree path of the UART OPAL drives as its console (marked reserved so the OS
    /// does not drive it as well).
    pub console_uart: Option<&'a str>,
    /// The interrupt controller, when it came up (exploitation mode node).
    pub xive: Option<DtInfo>,
}

/// Radix MMU page sizes of POWER9 (`ibm,processor-radix-AP-encodings`): the actual-page-size
/// field in the top 3 bits, log2 of the size below — 4 KiB, 64 KiB, 2 MiB, 1 GiB.
pub const P9_RADIX_AP_ENCODINGS: [u32; 4] = [0x0000_000c, 0xa000_0010, 0x2000_0015, 0x4000_001e];

/// Path of the OPAL console node, for `/chosen/stdout-path`.
pub const OPAL_CONSOLE_PATH: &str = "/ibm,opal/consoles/serial@0";

/// Size of an OPAL message (`opal-msg-size`).
const OPAL_MSG_SIZE: u32 = 72;

/// Why the tree could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeError {
    /// The tree has no `/cpus` node.
    NoCpus,
}

/// Adds the OPAL description to `tree` (the boot firmware's tree, unflattened).
pub fn build_linux_tree(tree: &mut Node, info: &OpalInfo<'_>) -> Result<(), TreeError> {
    add_opal_node(tree, info);
    let cpus = tree.find_mut("/cpus").ok_or(TreeError::NoCpus)?;
    for cpu in cpus.children_mut() {
        if cpu.prop_str("device_type") == Some("cpu") {
            cpu.set_cells("ibm,processor-radix-AP-encodings", &P9_RADIX_AP_ENCODINGS);
        }
    }
    let chosen = tree.ensure_child("chosen");
    chosen.set_str("linux,stdout-path", OPAL_CONSOLE_PATH);
    chosen.set_str("stdout-path", OPAL_CONSOLE_PATH);
    if let Some(uart) = info.console_uart.and_then(|p| tree.find_mut(p)) {
        uart.set_str("status", "reserved");
    }
    if let Some(x) = &info.xive {
        add_xive_node(tree, x);
    }
    Ok(())
}

/// The interrupt-controller node Linux's native XIVE driver binds to: the four TIMA views,
/// queue sizes and priorities (no single escalation, nothing to provision).
fn add_xive_node(tree: &mut Node, x: &DtInfo) {
    let node = tree.ensure_child(&alloc::format!("interrupt-controller@{:x}", x.tima[0].0));
    let reg: Vec<u64> = x.tima.iter().flat_map(|&(a, s)| [a, s]).collect();
    node.set_u64s("reg", &reg);
    node.set_strs("compatible", &["ibm,opal-xive-pe", "ibm,opal-intc"]);
    node.set_cells("ibm,xive-eq-sizes", &x.eq_sizes);
    node.set_u32("ibm,xive-#priorities", x.priorities);
}

/// A POWER9 idle state Linux may enter with `stop` on its own (no firmware help needed):
/// name, latency and target residency (ns), flags (`OPAL_PM_*`), PSSCR value and mask.
struct IdleState {
    name: &'static str,
    level: u32,
    latency_ns: u32,
    residency_ns: u32,
    flags: u32,
    psscr: u64,
    psscr_mask: u64,
}

/// `OPAL_PM_STOP_INST_FAST`: entered with `stop`, state kept.
const PM_STOP_INST_FAST: u32 = 0x0010_0000;
/// `OPAL_PM_LOSE_USER_CONTEXT`: user-visible SPRs must be restored by the OS.
const PM_LOSE_USER_CONTEXT: u32 = 0x0000_1000;
/// PSSCR fields: transition rate 3 and maximum transition level 3 (resume after `stop`).
const PSSCR_TR_MTL: u64 = 0x0000_0330;
/// The same with ESL|EC set (exit through the system reset vector); the requested level is
/// in the low nibble.
const PSSCR_ESL_EC_TR_MTL: u64 = 0x0030_0000 | PSSCR_TR_MTL;
/// PSSCR bits the OS takes from the state (ESL, EC, PSLL, MTL, TR, RL).
const PSSCR_STATE_MASK: u64 = 0x0030_03ff;

/// The shallow states of POWER9: stop0 in its lite form (resume after `stop`, no state
/// loss), stop0 and stop1 (wake-up through the system reset vector).
const P9_SHALLOW_STATES: [IdleState; 3] = [
    IdleState {
        name: "stop0_lite",
        level: 0,
        latency_ns: 1_000,
        residency_ns: 10_000,
        flags: PM_STOP_INST_FAST,
        psscr: PSSCR_TR_MTL,
        psscr_mask: PSSCR_STATE_MASK,
    },
    IdleState {
        name: "stop0",
        level: 0,
        latency_ns: 2_000,
        residency_ns: 20_000,
        flags: PM_STOP_INST_FAST | PM_LOSE_USER_CONTEXT,
        psscr: PSSCR_ESL_EC_TR_MTL,
        psscr_mask: PSSCR_STATE_MASK,
    },
    IdleState {
        name: "stop1",
        level: 1,
        latency_ns: 5_000,
        residency_ns: 50_000,
        flags: PM_STOP_INST_FAST | PM_LOSE_USER_CONTEXT,
        psscr: PSSCR_ESL_EC_TR_MTL | 1,
        psscr_mask: PSSCR_STATE_MASK,
    },
];

/// Describes the idle states whose stop levels the boot firmware enabled
/// (`ibm,enabled-stop-levels`, bit 0 = level 0), so idle threads sleep instead of polling.
fn add_idle_states(opal: &mut Node) {
    let Some(pm) = opal.child_mut("power-mgt") else { return };
    let Some(enabled) = pm.prop_u32("ibm,enabled-stop-levels") else { return };
    let states: alloc::vec::Vec<&IdleState> = P9_SHALLOW_STATES
        .iter()
        .filter(|s| s.level < 32 && enabled & (0x8000_0000 >> s.level) != 0)
        .collect();
    if states.is_empty() {
        return;
    }
    let names: alloc::vec::Vec<&str> = states.iter().map(|s| s.name).collect();
    pm.set_strs("ibm,cpu-idle-state-names", &names);
    let cells = |f: fn(&IdleState) -> u32| states.iter().map(|s| f(s)).collect::<alloc::vec::Vec<u32>>();
    pm.set_cells("ibm,cpu-idle-state-latencies-ns", &cells(|s| s.latency_ns));
    pm.set_cells("ibm,cpu-idle-state-residency-ns", &cells(|s| s.residency_ns));
    pm.set_cells("ibm,cpu-idle-state-flags", &cells(|s| s.flags));
    pm.set_u64s(
        "ibm,cpu-idle-state-psscr",
        &states.iter().map(|s| s.psscr).collect::<alloc::vec::Vec<u64>>(),
    );
    pm.set_u64s(
        "ibm,cpu-idle-state-psscr-mask",
        &states.iter().map(|s| s.psscr_mask).collect::<alloc::vec::Vec<u64>>(),
    );
}

fn add_opal_node(tree: &mut Node, info: &OpalInfo<'_>) {
    let opal = tree.ensure_child("ibm,opal");
    add_idle_states(opal);
    opal.set_strs("compatible", &["ibm,opal-v3"]);
    opal.set_u32("#address-cells", 0).set_u32("#size-cells", 0);
    opal.set_u64("opal-base-address", info.base);
    opal.set_u64("opal-entry-address", info.entry);
    opal.set_u64("opal-runtime-size", info.runtime_size);
    opal.set_u32("opal-msg-size", OPAL_MSG_SIZE);
    opal.set_u32("opal-msg-async-num", 0);
    opal.set_u32("ibm,heartbeat-ms", info.heartbeat_ms);
    opal.set_u64("ibm,opal-memcons", info.memcons);
    // Present even when empty: Linux's error handling expects it.
    opal.set("opal-interrupts", alloc::vec::Vec::new());

    let event = opal.ensure_child("event");
    event.set_strs("compatible", &["ibm,opal-event"]);
    event.set_u32("#interrupt-cells", 1);
    event.set_flag("interrupt-controller");

    let mut version = String::from("oxiboot-");
    version.push_str(info.version);
    let fw = opal.ensure_child("firmware");
    fw.set_strs("compatible", &["ibm,opal-firmware"]);
    fw.set_str("name", "firmware");
    fw.set_str("version", &version);

    let consoles = opal.ensure_child("consoles");
    consoles.set_u32("#address-cells", 1).set_u32("#size-cells", 0);
    let serial = consoles.ensure_child("serial@0");
    serial.set_strs("compatible", &["ibm,opal-console-raw"]);
    serial.set_u32("reg", 0);
    serial.set_u32("#write-buffer-size", 4096);
    serial.set_str("device_type", "serial");

    opal.ensure_child("rtc").set_strs("compatible", &["ibm,opal-rtc"]);

    if info.nvram_size > 0 {
        let nvram = opal.ensure_child("nvram");
        nvram.set_strs("compatible", &["ibm,opal-nvram"]);
        nvram.set_u32("#bytes", info.nvram_size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxiboot_devtree::from_fdt;

    fn qemu_tree() -> Node {
        let blob = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/platform/tests/data/qemu-powernv9-1chip.dtb"
        ))
        .expect("recorded QEMU tree");
        from_fdt(&blob).unwrap().root
    }

    fn info() -> OpalInfo<'static> {
        OpalInfo {
            base: 0x3000_0000,
            entry: 0x3000_4000,
            runtime_size: 0x400_0000,
            version: "0.1.0-test",
            memcons: 0x3001_0000,
            nvram_size: 0x1_0000,
            heartbeat_ms: 100,
            console_uart: Some("/lpcm-opb@6030000000000/lpc@0/isa-serial@i3f8"),
            xive: None,
        }
    }

    #[test]
    fn opal_node_as_linux_needs_it() {
        let mut t = qemu_tree();
        build_linux_tree(&mut t, &info()).unwrap();
        let opal = t.find("/ibm,opal").unwrap();
        assert!(opal.is_compatible("ibm,opal-v3"));
        assert_eq!(opal.prop_u64("opal-base-address"), Some(0x3000_0000));
        assert_eq!(opal.prop_u64("opal-entry-address"), Some(0x3000_4000));
        assert_eq!(opal.prop_u64("opal-runtime-size"), Some(0x400_0000));
        assert_eq!(opal.prop_u64("ibm,opal-memcons"), Some(0x3001_0000));
        assert_eq!(opal.prop("opal-interrupts"), Some(&[][..]));
        // QEMU's own power-mgt child survives.
        assert!(opal.child("power-mgt").is_some());
        let serial = t.find("/ibm,opal/consoles/serial@0").unwrap();
        assert!(serial.is_compatible("ibm,opal-console-raw"));
        assert_eq!(serial.prop_u32("reg"), Some(0));
        assert!(t.find("/ibm,opal/rtc").unwrap().is_compatible("ibm,opal-rtc"));
        assert_eq!(t.find("/ibm,opal/nvram").unwrap().prop_u32("#bytes"), Some(0x1_0000));
        assert!(t.find("/ibm,opal/event").unwrap().prop("interrupt-controller").is_some());
        assert_eq!(t.find("/ibm,opal/firmware").unwrap().prop_str("version"), Some("oxiboot-0.1.0-test"));
        // QEMU enables stop levels 0 and 1: the three shallow states are described.
        let pm = t.find("/ibm,opal/power-mgt").unwrap();
        assert_eq!(pm.prop_strs("ibm,cpu-idle-state-names").unwrap(), ["stop0_lite", "stop0", "stop1"]);
        assert_eq!(
            pm.prop_cells("ibm,cpu-idle-state-psscr").unwrap(),
            [0, 0x330, 0, 0x30_0330, 0, 0x30_0331]
        );
        assert_eq!(pm.prop_cells("ibm,cpu-idle-state-flags").unwrap(), [0x10_0000, 0x10_1000, 0x10_1000]);
    }

    #[test]
    fn idle_states_follow_the_enabled_levels() {
        let mut t = qemu_tree();
        t.find_mut("/ibm,opal/power-mgt").unwrap().set_u32("ibm,enabled-stop-levels", 0x8000_0000);
        build_linux_tree(&mut t, &info()).unwrap();
        let pm = t.find("/ibm,opal/power-mgt").unwrap();
        assert_eq!(pm.prop_strs("ibm,cpu-idle-state-names").unwrap(), ["stop0_lite", "stop0"]);
        let mut t = qemu_tree();
        t.find_mut("/ibm,opal/power-mgt").unwrap().set_u32("ibm,enabled-stop-levels", 0);
        build_linux_tree(&mut t, &info()).unwrap();
        assert!(t.find("/ibm,opal/power-mgt").unwrap().prop("ibm,cpu-idle-state-names").is_none());
    }

    #[test]
    fn cpus_chosen_and_console() {
        let mut t = qemu_tree();
        build_linux_tree(&mut t, &info()).unwrap();
        for cpu in t.find("/cpus").unwrap().children() {
            assert_eq!(cpu.prop_cells("ibm,processor-radix-AP-encodings").unwrap(), P9_RADIX_AP_ENCODINGS);
        }
        assert_eq!(t.find("/chosen").unwrap().prop_str("linux,stdout-path"), Some(OPAL_CONSOLE_PATH));
        let uart = t.find("/lpcm-opb@6030000000000/lpc@0/isa-serial@i3f8").unwrap();
        assert_eq!(uart.prop_str("status"), Some("reserved"));
    }

    #[test]
    fn tree_without_cpus_is_refused() {
        let mut t = Node::new("");
        assert_eq!(build_linux_tree(&mut t, &info()), Err(TreeError::NoCpus));
    }
}

#[cfg(test)]
mod skiboot_comparison {
    use super::*;
    use oxiboot_devtree::{diff, from_fdt, Difference};
    use std::string::{String, ToString};
    use std::vec::Vec;

    /// One difference, as a line: what, where; I2C buses and PHBs collapsed.
    fn describe(d: &Difference) -> Option<String> {
        let norm = |p: &str| -> String {
            if p.contains("/i2c-bus@") {
                "/xscom@603fc00000000/i2cm@*/i2c-bus@*".into()
            } else if p.starts_with("/pciex@") {
                "/pciex@*".into()
            } else {
                p.to_string()
            }
        };
        Some(match d {
            Difference::ValueDiffers { name, .. } | Difference::PropOnlyInSecond { name, .. }
                if name == "phandle" =>
            {
                return None
            }
            Difference::NodeOnlyInFirst(p) => std::format!("ours only: node {}", norm(p)),
            Difference::NodeOnlyInSecond(p) => std::format!("skiboot only: node {}", norm(p)),
            Difference::PropOnlyInFirst { path, name } => std::format!("ours only: {} {name}", norm(path)),
            Difference::PropOnlyInSecond { path, name } => {
                std::format!("skiboot only: {} {name}", norm(path))
            }
            Difference::ValueDiffers { path, name, .. } => std::format!("differs: {} {name}", norm(path)),
        })
    }

    /// Every difference from skiboot's tree is listed (and explained) in docs/opal.md.
    #[test]
    fn differences_from_skiboot_are_the_documented_ones() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/");
        let qemu = std::fs::read(std::format!("{dir}platform/tests/data/qemu-powernv9-1chip.dtb")).unwrap();
        let skiboot =
            std::fs::read(std::format!("{dir}firmware/tests/data/skiboot-7.1-qemu-powernv9.dtb")).unwrap();
        let mut ours = from_fdt(&qemu).unwrap().root;
        let info = OpalInfo {
            base: 0x3000_0000,
            entry: 0x3000_4000,
            runtime_size: 0x600_0000,
            version: "test",
            memcons: 0x3001_0000,
            nvram_size: 576 * 1024,
            heartbeat_ms: 100,
            console_uart: Some("/lpcm-opb@6030000000000/lpc@0/isa-serial@i3f8"),
            // What the XIVE driver reports for chip 0 on QEMU (platform/src/xive tests).
            xive: Some(DtInfo {
                tima: [
                    (0x0006_0302_0318_0000, 0x1_0000),
                    (0x0006_0302_0319_0000, 0x1_0000),
                    (0x0006_0302_031a_0000, 0x1_0000),
                    (0x0006_0302_031b_0000, 0x1_0000),
                ],
                eq_sizes: [12, 16, 21, 24],
                priorities: 8,
            }),
        };
        build_linux_tree(&mut ours, &info).unwrap();
        let skiboot = from_fdt(&skiboot).unwrap().root;
        let mut found: Vec<String> = diff(&ours, &skiboot).iter().filter_map(describe).collect();
        found.sort();
        found.dedup();
        let expected = include_str!("../tests/data/skiboot-differences.txt");
        let expected: Vec<&str> = expected.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
        assert_eq!(found, expected, "update docs/opal.md and tests/data/skiboot-differences.txt together");
    }
}
