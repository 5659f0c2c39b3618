//! Integration tests: boot the real firmware image (`target/oxiboot.lid`, or the file named by
//! `OXIBOOT_IMAGE`) on QEMU `powernv9` and check what it prints and how QEMU ends.
//!
//! `cargo xtask test` builds the image first. Every run has a time limit; on failure the
//! whole console log is printed.

use std::path::PathBuf;
use std::time::Duration;
use xtask::qemu::{run_bounded, Machine, Run};

/// Generous bound for one boot (a boot takes well under a second of TCG time).
const LIMIT: Duration = Duration::from_secs(90);

fn image() -> PathBuf {
    xtask::image_for_tests()
}

fn boot(machine: Machine) -> Run {
    let run = run_bounded(machine.command(&image()), LIMIT).expect("qemu-system-ppc64 starts");
    eprintln!("--- QEMU ({:.2} s, status {:?}) ---\n{}", run.elapsed.as_secs_f64(), run.status, run.output);
    run
}

fn test_tree(name: &str) -> String {
    format!("{}/platform/tests/data/qemu-powernv9-{name}.dtb", env!("CARGO_MANIFEST_DIR"))
}

#[track_caller]
fn expect(run: &Run, needle: &str) {
    assert!(run.output.contains(needle), "console lacks {needle:?}\n{}", run.output);
}

#[track_caller]
fn expect_clean_power_off(run: &Run) {
    assert!(run.status.is_some(), "QEMU did not stop within {LIMIT:?}\n{}", run.output);
    expect(run, "Powering off through the BMC");
    assert!(run.exited_cleanly(), "QEMU exited with {:?}\n{}", run.status, run.output);
}

#[track_caller]
fn expect_machine_stopped(run: &Run) {
    assert!(run.status.is_some(), "QEMU did not stop within {LIMIT:?}\n{}", run.output);
    assert_eq!(run.status.and_then(|s| s.code()), Some(1), "expected the checkstop exit\n{}", run.output);
    expect(run, "!!! oxiboot stopped the machine");
}

#[test]
fn one_chip_boots_all_threads_and_powers_off() {
    let run = boot(Machine::default());
    expect(&run, &format!("oxiboot {}-", env!("CARGO_PKG_VERSION")));
    expect(&run, "starting, POWER9 firmware");
    expect(&run, "chip 0: 2 cores, 8 threads, XSCOM at 0x603fc00000000");
    expect(&run, "CPU: 8 threads online");
    expect(&run, "CPU: all 8 threads ran a job");
    expect(&run, "XSCOM: chip 0 ID register 0xf000f = 0x220d104900008000");
    expect(&run, "BMC: IPMI 2.0 device 0x20");
    expect_clean_power_off(&run);
    assert!(!run.output.contains("ERROR"), "errors on a clean boot\n{}", run.output);
}

#[test]
fn two_chips_boot_sixteen_threads() {
    let run = boot(Machine { sockets: 2, ..Machine::default() });
    expect(&run, "CPU: 16 threads online");
    expect(&run, "CPU: all 16 threads ran a job");
    expect(&run, "XSCOM: chip 0 ID register 0xf000f = 0x220d104900008000");
    expect(&run, "XSCOM: chip 1 ID register 0xf000f = 0x220d104900008000");
    expect(&run, "chip 1: 2 cores, 8 threads, XSCOM at 0x607fc00000000");
    expect_clean_power_off(&run);
}

#[test]
fn reboot_boots_twice_then_powers_off() {
    let run = boot(Machine { append: Some("oxiboot.selftest=reboot".into()), ..Machine::default() });
    assert_eq!(run.count("starting, POWER9 firmware"), 2, "banner count\n{}", run.output);
    expect(&run, "boot #1 since power-on");
    expect(&run, "Rebooting through the BMC");
    expect(&run, "boot #2 since power-on");
    assert_eq!(run.count("CPU: 8 threads online"), 2);
    expect_clean_power_off(&run);
}

/// Interrupts really travel through the controllers the firmware programmed: for every
/// thread, an IPI of chip 0 routed (EAS) to that thread's event queue (END, NVT) and
/// triggered through its ESB page lands in the queue, on 1 and 2 chips (chip 1's threads
/// through the forwarding between the controllers). What Linux then uses is the same path.
#[test]
fn an_interrupt_reaches_every_threads_xive_queue() {
    for (sockets, threads) in [(1, 8), (2, 16)] {
        let run =
            boot(Machine { sockets, append: Some("oxiboot.selftest=xive".into()), ..Machine::default() });
        expect(
            &run,
            &format!("selftest xive: an interrupt reached the event queue of each of {threads} threads"),
        );
        expect_clean_power_off(&run);
    }
}

#[test]
fn unexpected_exception_is_reported_and_stops_only_that_thread() {
    let run = boot(Machine { append: Some("oxiboot.selftest=trap".into()), ..Machine::default() });
    expect(&run, "!!! Unexpected exception 0xe40 (Hypervisor Emulation Assistance) on thread PIR 0x");
    expect(&run, "(from HSRR0)");
    for reg in ["SRR0", "SRR1", "HSRR0", "HSRR1", "DAR", "DSISR", "r31"] {
        expect(&run, reg);
    }
    expect(&run, "stopped, the others go on");
    expect_clean_power_off(&run);
}

#[test]
fn panic_stops_the_machine_with_a_message() {
    let run = boot(Machine { append: Some("oxiboot.selftest=panic".into()), ..Machine::default() });
    expect(&run, "!!! PANIC on thread PIR 0x");
    expect(&run, "selftest: panic requested");
    expect_machine_stopped(&run);
}

#[test]
fn tree_without_memory_is_refused_on_the_console() {
    let run = boot(Machine { dtb: Some(test_tree("nomemory")), ..Machine::default() });
    expect(&run, "starting, POWER9 firmware");
    expect(&run, "ERROR cannot use the device tree: device tree has no memory node");
    expect_machine_stopped(&run);
}

#[test]
fn tree_with_too_little_memory_is_refused() {
    let run = boot(Machine { dtb: Some(test_tree("smallram")), ..Machine::default() });
    expect(&run, "RAM does not cover the firmware's memory 0x30000000..0x36a00000 (512 MiB of RAM)");
    expect_machine_stopped(&run);
}

#[test]
fn tree_without_uart_stops_instead_of_running_blind() {
    // The firmware cannot know QEMU's UART if the tree does not name it: it must not guess
    // addresses, so it says nothing and stops (the message stays in its log ring).
    let run = boot(Machine { dtb: Some(test_tree("noserial")), ..Machine::default() });
    assert!(!run.output.contains("oxiboot"), "printed without a described console\n{}", run.output);
    assert_eq!(run.status.and_then(|s| s.code()), Some(1), "{}", run.output);
}

/// Big-endian 64-bit value at `at` in `image`.
fn be64(image: &[u8], at: u64) -> u64 {
    let at = at as usize;
    u64::from_be_bytes(image[at..at + 8].try_into().expect("8 bytes"))
}

#[test]
fn hdat_boot_builds_the_tree_from_a_real_machines_hdat() {
    // Play the service processor of an FSP machine, as skiboot's HDAT users get it: find our
    // SPIRA-H through the NACA at 0x4000, build SPIRA-S where its host data area n-tuple asks
    // (here: a real POWER9 Witherspoon's HDAT, hdat/tests/data) and fill in the
    // n-tuple's actual count and length, then start the threads at PROCIN's NIA. QEMU starts
    // them at 0x10 with r3 = its FDT, so the copy's first word becomes a big-endian branch to
    // the NIA, whose stub clears r3: the firmware must take the HDAT path.
    let heap_path = format!("{}/hdat/tests/data/op920.wsp.heap", env!("CARGO_MANIFEST_DIR"));
    let heap = std::fs::read(&heap_path).expect("the Witherspoon HDAT dump");
    let mut image = std::fs::read(image()).expect("firmware image");
    let spira_h = be64(&image, 0x4000);
    assert_eq!(&image[spira_h as usize + 2..spira_h as usize + 8], b"SPIRAH");
    let area = be64(&image, spira_h + 0x40);
    let procin = be64(&image, spira_h + 0x60);
    assert_eq!(&image[procin as usize + 2..procin as usize + 8], b"PROCIN");
    let nia = be64(&image, procin + 0x30);
    let tuple = spira_h as usize + 0x48;
    image[tuple..tuple + 4].copy_from_slice(&[0, 1, 0, 1]); // alloc_cnt, act_cnt
    image[tuple + 8..tuple + 12].copy_from_slice(&(heap.len() as u32).to_be_bytes()); // act_len
    let branch = 0x4800_0000u32 | ((nia - 0x10) as u32 & 0x03ff_fffc);
    image[0x10..0x14].copy_from_slice(&branch.to_be_bytes());
    let dir = std::env::temp_dir().join(format!("oxiboot-hdat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let patched = dir.join("oxiboot-hdat.lid");
    std::fs::write(&patched, &image).expect("write the patched image");

    let machine = Machine {
        extra: vec!["-device".into(), format!("loader,file={heap_path},addr={area:#x},force-raw=on")],
        ..Machine::default()
    };
    let run = xtask::qemu::run_until(machine.command(&patched), LIMIT, &mut |out| out.contains("boot #"))
        .expect("qemu-system-ppc64 starts");
    eprintln!("--- QEMU ({:.2} s) ---\n{}", run.elapsed.as_secs_f64(), run.output);
    let _ = std::fs::remove_dir_all(&dir);
    expect(&run, &format!("device tree built from HDAT (SPIRA-S at {area:#x}"));
    // What the Witherspoon's HDAT describes (skiboot's tree for it: op920.wsp.dts), not QEMU.
    expect(&run, "platform: 8335-GTH (ibm,powernv, ibm,p9-openbmc, ibm,witherspoon)");
    expect(&run, "chip 0: 20 cores, 80 threads, XSCOM at 0x603fc00000000");
    expect(&run, "chip 8: 20 cores, 80 threads, XSCOM at 0x623fc00000000");
    expect(&run, "memory: 0x200000000000..0x204000000000 (262144 MiB)");
    expect(&run, "console: /lpcm-opb@6030000000000/lpc@0/serial@i3f8 (LPC I/O 0x3f8, 115200 baud)");
}
