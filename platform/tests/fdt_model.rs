//! Golden tests: the platform model built from device trees recorded from QEMU powernv9,
//! and the named error for each kind of broken tree.

use oxiboot_platform::lpc::LpcSpace;
use oxiboot_platform::model::{parse_fdt, ModelError, Platform};

fn load(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/qemu-powernv9-{name}.dtb", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn model(name: &str) -> Platform {
    parse_fdt(&load(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn one_chip_two_cores_four_threads() {
    let p = model("1chip");
    assert_eq!(p.model, "IBM PowerNV (emulated by qemu)");
    assert_eq!(p.compatible, ["qemu,powernv9", "ibm,powernv"]);
    assert_eq!(p.chips.len(), 1);
    let chip = &p.chips[0];
    assert_eq!(chip.id, 0);
    assert_eq!(chip.xscom.base, 0x0006_03fc_0000_0000);
    assert_eq!(chip.xscom.size, 0x4_0000_0000);
    assert_eq!(chip.cores.iter().map(|c| c.pir).collect::<Vec<_>>(), [0, 4]);
    assert_eq!(chip.cores[1].threads, [4, 5, 6, 7]);
    assert_eq!(chip.cores[0].pvr, Some(0x004e_1202));
    assert_eq!(chip.cores[0].path, "/cpus/PowerPC,POWER9@0");
    assert_eq!(p.thread_count(), 8);
    assert_eq!(p.threads().collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(p.timebase_hz, 512_000_000);
    assert_eq!(p.memory.len(), 1);
    assert_eq!((p.memory[0].base, p.memory[0].size, p.memory[0].chip_id), (0, 0x8000_0000, Some(0)));
    assert_eq!(p.ram_total(), 2 << 30);
    assert!(p.ram_contains(0x3000_0000, 0x400_0000));
    assert!(!p.ram_contains(0x7fff_ffff, 2));
}

#[test]
fn lpc_devices_are_translated_through_ranges() {
    let p = model("1chip");
    let lpc = p.lpc.as_ref().expect("LPC bus");
    assert_eq!(lpc.path, "/lpcm-opb@6030000000000/lpc@0");
    assert_eq!(lpc.mmio_address(LpcSpace::Io, 0, 1), Some(0x0006_0300_d001_0000));
    let uart = p.console_uart().expect("UART");
    assert_eq!(uart.path, "/lpcm-opb@6030000000000/lpc@0/isa-serial@i3f8");
    assert_eq!(uart.io_port, 0x3f8);
    assert_eq!(uart.mmio, 0x0006_0300_d001_03f8);
    assert_eq!((uart.clock_hz, uart.baud, uart.irq), (1_843_200, 115_200, Some(4)));
    let bmc = p.bmc.as_ref().expect("BMC");
    assert_eq!((bmc.io_port, bmc.mmio, bmc.irq), (0xe4, 0x0006_0300_d001_00e4, Some(10)));
    let rtc = p.rtc.as_ref().expect("RTC");
    assert_eq!((rtc.io_port, rtc.mmio), (0x70, 0x0006_0300_d001_0070));
    let flash = p.flash.expect("flash window");
    assert_eq!((flash.mmio, flash.size), (0x0006_0300_f000_0000, 0x1000_0000));
    assert_eq!(p.chosen.bootargs, "");
    assert_eq!(p.chosen.initrd, None);
}

#[test]
fn two_chips() {
    let p = model("2chip");
    assert_eq!(p.chips.iter().map(|c| c.id).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(p.chips[1].xscom.base, 0x0006_07fc_0000_0000);
    assert_eq!(p.chips[1].cores.iter().map(|c| c.pir).collect::<Vec<_>>(), [0x100, 0x104]);
    assert_eq!(p.thread_count(), 16);
    assert_eq!(p.memory.len(), 2);
    assert_eq!(
        (p.memory[1].base, p.memory[1].size, p.memory[1].chip_id),
        (0x4000_0000, 0x4000_0000, Some(1))
    );
    // The primary LPC bus is chip 0's.
    assert_eq!(p.lpc.as_ref().unwrap().path, "/lpcm-opb@6030000000000/lpc@0");
    assert_eq!(p.console_uart().unwrap().mmio, 0x0006_0300_d001_03f8);
}

#[test]
fn no_serial_port_is_not_a_model_error() {
    let p = model("noserial");
    assert!(p.uarts.is_empty());
    assert!(p.console_uart().is_none());
    assert!(p.bmc.is_some());
}

#[test]
fn broken_trees_give_named_errors() {
    let cases: [(&str, ModelError); 7] = [
        ("nomemory", ModelError::NoMemory),
        ("nocpus", ModelError::NoCpus),
        ("noxscom", ModelError::ChipWithoutXscom(0)),
        ("dupthread", ModelError::DuplicateThread(3)),
        (
            "notimebase",
            ModelError::MissingProperty {
                node: "/cpus/PowerPC,POWER9@4".into(),
                property: "timebase-frequency",
            },
        ),
        ("tbmismatch", ModelError::TimebaseMismatch { node: "/cpus/PowerPC,POWER9@0".into() }),
        (
            "badlpcrange",
            ModelError::BadProperty { node: "/lpcm-opb@6030000000000/lpc@0".into(), property: "ranges" },
        ),
    ];
    for (name, want) in cases {
        assert_eq!(parse_fdt(&load(name)), Err(want.clone()), "{name}");
        // Every error has a message naming what is wrong.
        assert!(!want.to_string().is_empty());
    }
}

#[test]
fn damaged_blobs_never_panic() {
    let good = load("1chip");
    for len in (0..good.len()).step_by(7) {
        assert!(parse_fdt(&good[..len]).is_err(), "truncated to {len}");
    }
    // Flip bytes all over the structure block; every outcome must be Ok or Err, not a panic.
    for i in (0..good.len()).step_by(3) {
        let mut b = good.clone();
        b[i] ^= 0xa5;
        let _ = parse_fdt(&b);
    }
}

#[test]
fn console_is_found_even_when_the_model_fails() {
    use oxiboot_platform::model::parse_fdt_with_console;
    let o = parse_fdt_with_console(&load("nomemory"));
    assert_eq!(o.platform, Err(ModelError::NoMemory));
    assert_eq!(o.console.expect("console").mmio, 0x0006_0300_d001_03f8);
    let o = parse_fdt_with_console(&load("noserial"));
    assert!(o.platform.is_ok());
    assert!(o.console.is_none());
}
