//! `hdat`: build the device tree from an HDAT dump on the host, print it as DTS or write it as
//! a DTB, and optionally compare it with an expected DTB the way skiboot's HDAT test does.
//!
//! ```text
//! hdat HEAP SPIRAH [-o TREE.dtb] [--dts] [--pvr PVR] [--base ADDR]
//!                  [--skiboot-test-form] [--compare EXPECTED.dtb]
//! ```
//!
//! `HEAP` is the host data area (SPIRA-S at its first byte), `SPIRAH` a copy of SPIRA-H; the
//! heap is taken to be mapped at SPIRA-H's host data area address unless `--base` says
//! otherwise. Without `-o` the tree is printed as DTS; `--dts` prints it as well.

use oxiboot_devtree::{diff, from_fdt, to_dts, to_fdt, FdtOptions, Node};
use oxiboot_hdat::golden::{phandles_to_paths, skiboot_test_form, PHANDLE_PROPS};
use oxiboot_hdat::{parse, SpiraH, PVR_P9_NIMBUS_DD20};
use std::process::ExitCode;

struct Args {
    heap: String,
    spirah: String,
    out: Option<String>,
    dts: bool,
    pvr: u32,
    base: Option<u64>,
    test_form: bool,
    compare: Option<String>,
}

const USAGE: &str = "usage: hdat HEAP SPIRAH [-o TREE.dtb] [--dts] [--pvr PVR] [--base ADDR] \
                     [--skiboot-test-form] [--compare EXPECTED.dtb]";

fn number(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|e| format!("bad number {s}: {e}"))
}

fn args() -> Result<Args, String> {
    let mut pos = Vec::new();
    let mut a = Args {
        heap: String::new(),
        spirah: String::new(),
        out: None,
        dts: false,
        pvr: PVR_P9_NIMBUS_DD20,
        base: None,
        test_form: false,
        compare: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "-o" => a.out = Some(value()?),
            "--dts" => a.dts = true,
            "--pvr" => a.pvr = u32::try_from(number(&value()?)?).map_err(|e| e.to_string())?,
            "--base" => a.base = Some(number(&value()?)?),
            "--skiboot-test-form" => a.test_form = true,
            "--compare" => a.compare = Some(value()?),
            "-h" | "--help" => return Err(USAGE.into()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
            _ => pos.push(arg),
        }
    }
    let [heap, spirah] = <[String; 2]>::try_from(pos).map_err(|_| String::from(USAGE))?;
    a.heap = heap;
    a.spirah = spirah;
    Ok(a)
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{path}: {e}"))
}

fn compare(ours: &Node, expected: &str) -> Result<usize, String> {
    let blob = read(expected)?;
    let mut theirs = from_fdt(&blob).map_err(|e| format!("{expected}: {e}"))?.root;
    let mut ours = ours.clone();
    skiboot_test_form(&mut ours);
    phandles_to_paths(&mut ours, PHANDLE_PROPS);
    phandles_to_paths(&mut theirs, PHANDLE_PROPS);
    let d = diff(&ours, &theirs);
    for x in &d {
        println!("{x}");
    }
    Ok(d.len())
}

fn run() -> Result<ExitCode, String> {
    let a = args()?;
    let heap = read(&a.heap)?;
    let spirah = read(&a.spirah)?;
    let base = match a.base {
        Some(b) => b,
        None => SpiraH::parse(&spirah).map_err(|e| format!("{}: {e}", a.spirah))?.host_data_area.addr,
    };
    let mut tree = parse(&heap, base, &spirah, a.pvr).map_err(|e| format!("{}: {e}", a.heap))?;
    if let Some(expected) = &a.compare {
        let n = compare(&tree, expected)?;
        eprintln!("{n} difference(s) from {expected} (first tree: ours)");
        return Ok(if n == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE });
    }
    if a.test_form {
        skiboot_test_form(&mut tree);
    }
    if let Some(out) = &a.out {
        let blob = to_fdt(&tree, &FdtOptions::default());
        std::fs::write(out, blob).map_err(|e| format!("{out}: {e}"))?;
    }
    if a.out.is_none() || a.dts {
        print!("/dts-v1/;\n\n{}", to_dts(&tree));
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hdat: {e}");
            ExitCode::from(2)
        }
    }
}
