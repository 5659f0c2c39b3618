//! Cores and threads (`SPPCIA`, Service Processor Processor Core Information Array, one per
//! core): the `/cpus` node with one `PowerPC,POWER9@<pir>` node per core (PIR: Processor
//! Identification Register of its first thread), its hardware threads as interrupt servers,
//! and the L2/L3 cache nodes (on POWER9 one L2/L3 per pair of cores).

use crate::chip::pcid_to_chip_id;
use crate::error::{HdatError, Result};
use crate::hdif::Hdif;
use crate::tree::{join, new_child, unit, Ctx};
use crate::window::Rec;
use alloc::string::String;
use alloc::vec::Vec;
use oxiboot_devtree::Node;

/// Size of the core unique data block.
pub const CORE_UNIQUE_LEN: usize = 88;
const TIMEBASE_LEN: usize = 16;
const CACHE_LEN: usize = 80;
const THREAD_LEN: usize = 20;
const MAX_THREADS: u32 = 8;
/// skiboot hard-codes the timebase frequency (512 MHz).
const TIMEBASE_HZ: u32 = 512_000_000;

const PA_FEATURES_P9: [u8; 66] = [
    64, 0, 0xf6, 0x3f, 0xc7, 0xc0, 0x80, 0xd0, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80,
    0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00,
    0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00,
];

/// HPT (hashed page table) segment/page size encodings common to all supported processors.
const SEGMENT_PAGE_SIZES: [u32; 26] = [
    0x0c, 0x000, 3, 0x0c, 0x0000, 0x10, 0x0007, 0x18, 0x0038, // 4K segments
    0x10, 0x110, 2, 0x10, 0x0001, 0x18, 0x0008, // 64K segments
    0x18, 0x100, 1, 0x18, 0x0000, // 16M segments
    0x22, 0x120, 1, 0x22, 0x0003, // 16G segments
];

/// Thread `thread` of a core's thread array.
fn find_thread<'a>(core: &Hdif<'a>, thread: u32) -> Result<Option<Rec<'a>>> {
    let Some(arr) = core.iarray(3, "SPPCIA thread array")? else { return Ok(None) };
    for t in arr.items() {
        let t = t?;
        if t.len() >= THREAD_LEN && t.be32(4)? == thread {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// skiboot's `pcia_parse`: `/cpus` and its core and cache nodes.
pub fn parse(ctx: &mut Ctx<'_>) -> Result<()> {
    let cores = ctx.instances(ctx.t.pcia, "SPPCIA")?;
    if cores.is_empty() {
        return Err(HdatError::Missing { what: "SPPCIA (core information)" });
    }
    let cpus = ctx.root.ensure_child("cpus");
    cpus.set_u32("#address-cells", 1).set_u32("#size-cells", 0);
    for core in cores {
        let id = core.idata(0)?.map(|r| r.named("SPPCIA core unique data"));
        let Some(id) = id.filter(|r| r.len() >= CORE_UNIQUE_LEN) else {
            return Err(HdatError::Missing { what: "SPPCIA core unique data" });
        };
        let verify = id.be32(12)?;
        let okay = verify >> 30 <= 1;
        if !add_core(ctx, &core, &id, okay)? {
            break;
        }
    }
    Ok(())
}

/// Adds one core; `false` when its data is incomplete (skiboot stops there).
fn add_core(ctx: &mut Ctx<'_>, core: &Hdif<'_>, id: &Rec<'_>, okay: bool) -> Result<bool> {
    let Some(t0) = find_thread(core, 0)? else { return Ok(false) };
    let pir = t0.be32(16)?;
    let verify = id.be32(12)?;
    let mut threads = ((verify & 0x00ff_0000) >> 16) + 1;
    if threads > MAX_THREADS {
        return Err(HdatError::BadValue { what: "SPPCIA thread count", value: threads.into() });
    }
    let tb = core.idata(1)?.filter(|r| r.len() >= TIMEBASE_LEN);
    let cache = core.idata(2)?.filter(|r| r.len() >= CACHE_LEN);
    let (Some(tb), Some(cache)) = (tb, cache) else { return Ok(false) };
    let (tb, cache) = (tb.named("SPPCIA timebase"), cache.named("SPPCIA cache sizes"));
    let name = unit("PowerPC,POWER9", pir.into());
    let path = join("/cpus", &name);
    let pvr = ctx.pvr;
    let Some(cpu) = ctx.node("/cpus").and_then(|c| new_child(c, &name)) else { return Ok(true) };
    core_common(cpu, &cache, &tb, pir, pvr, okay)?;
    if let Some(attr) = core.idata(4)? {
        if attr.len() >= 4 {
            core_attr(cpu, attr.be32(0)?);
        }
    }
    let l2 = add_caches(ctx, &cache, pir, okay)?;
    ctx.refer(&path, "l2-cache", &[&l2]);
    let chip = pcid_to_chip_id(ctx, id.be32(20)?)?;
    let mut servers = Vec::new();
    for i in 0..threads {
        match find_thread(core, i)? {
            Some(t) => servers.push(t.be32(16)?),
            None => {
                threads = i;
                break;
            }
        }
    }
    debug_assert_eq!(servers.len(), threads as usize);
    if let Some(cpu) = ctx.node(&path) {
        cpu.set_u32("ibm,pir", pir);
        cpu.set_u32("ibm,chip-id", chip);
        cpu.set_cells("ibm,ppc-interrupt-server#s", &servers);
    }
    Ok(true)
}

fn core_common(cpu: &mut Node, cache: &Rec<'_>, tb: &Rec<'_>, pir: u32, pvr: u32, okay: bool) -> Result<()> {
    let c = |off| cache.be32(off);
    cpu.set_str("device_type", "cpu");
    cpu.set_str("status", if okay { "okay" } else { "bad" });
    cpu.set_u32("reg", pir);
    cpu.set_u32("cpu-version", pvr);
    for f in ["64-bit", "32-64-bridge", "graphics", "general-purpose"] {
        cpu.set_flag(f);
    }
    cpu.set_cells("ibm,processor-segment-sizes", &[0x1c, 0x28, 0xffff_ffff, 0xffff_ffff]);
    cpu.set_cells("ibm,processor-page-sizes", &[0xc, 0x10, 0x18, 0x22]);
    cpu.set_cells("ibm,processor-radix-AP-encodings", &[0xc, 0xa000_0010, 0x2000_0015, 0x4000_001e]);
    cpu.set_cells("ibm,segment-page-sizes", &SEGMENT_PAGE_SIZES);
    cpu.set("ibm,pa-features", PA_FEATURES_P9.to_vec());
    cpu.set_u32("ibm,slb-size", 0x20);
    cpu.set_u32("ibm,vmx", 2).set_u32("ibm,dfp", 2).set_u32("ibm,purr", 1).set_u32("ibm,spurr", 1);
    let freq = u64::from(tb.be32(8)?) * 1_000_000;
    if let Ok(f) = u32::try_from(freq) {
        cpu.set_u32("clock-frequency", f);
    }
    cpu.set_u64("ibm,extended-clock-frequency", freq);
    cpu.set_u32("timebase-frequency", TIMEBASE_HZ);
    cpu.set_cells("ibm,extended-timebase-frequency", &[0, TIMEBASE_HZ]);
    cpu.set_u32("reservation-granule-size", c(64)?);
    cpu.set_u32("d-tlb-size", c(48)?).set_u32("i-tlb-size", c(56)?).set_u32("tlb-size", c(48)?);
    cpu.set_u32("d-tlb-sets", c(52)?).set_u32("i-tlb-sets", c(60)?).set_u32("tlb-sets", c(52)?);
    cpu.set_u32("d-cache-block-size", c(32)?).set_u32("i-cache-block-size", c(36)?);
    cpu.set_u32("d-cache-size", c(8)?.wrapping_mul(1024));
    cpu.set_u32("i-cache-size", c(0)?.wrapping_mul(1024));
    cpu.set_u32("i-cache-sets", c(44)?).set_u32("d-cache-sets", c(40)?);
    if c(4)? != c(36)? {
        cpu.set_u32("i-cache-line-size", c(4)?);
    }
    if c(12)? != c(32)? {
        cpu.set_u32("d-cache-line-size", c(12)?);
    }
    Ok(())
}

fn core_attr(cpu: &mut Node, attr: u32) {
    if attr & 0x80 != 0 {
        cpu.set_flag("cache-unified");
    }
    if attr & 0x40 != 0 {
        cpu.set_flag("tlb-split");
    }
    if attr & 0x20 != 0 {
        cpu.set_flag("tlbia");
    }
    if attr & 0x10 != 0 {
        cpu.set_cells("performance-monitor", &[0, 1]);
    }
    if attr & 0x02 != 0 {
        cpu.set_flag("external-control");
    }
}

/// Creates the L2 and L3 (and L3.5) cache nodes of the core pair of `pir` unless they exist;
/// returns the L2 node's path.
fn add_caches(ctx: &mut Ctx<'_>, cache: &Rec<'_>, pir: u32, okay: bool) -> Result<String> {
    let pir = pir & !0x7;
    let l2 = unit("l2-cache", u64::from(0x20 << 24 | pir));
    let l2_path = join("/cpus", &l2);
    if ctx.root.find(&l2_path).is_some() {
        return Ok(l2_path);
    }
    let l3 = unit("l3-cache", u64::from(0x30 << 24 | pir));
    let l3_path = join("/cpus", &l3);
    let Some(cpus) = ctx.node("/cpus") else { return Ok(l2_path) };
    cache_node(cpus, cache, &l2, 0x20 << 24 | pir, okay, 16, 20)?;
    cache_node(cpus, cache, &l3, 0x30 << 24 | pir, okay, 24, 28)?;
    ctx.refer(&l2_path, "l2-cache", &[&l3_path]);
    if cache.be32(72)? != 0 {
        let l35 = unit("l35-cache", u64::from(0x35 << 24 | pir));
        if let Some(cpus) = ctx.node("/cpus") {
            cache_node(cpus, cache, &l35, 0x35 << 24 | pir, okay, 72, 76)?;
        }
        ctx.refer(&l3_path, "l2-cache", &[&join("/cpus", &l35)]);
    }
    Ok(l2_path)
}

/// One cache node; `size_off`/`line_off` locate its size (KiB) and line size in the cache
/// block.
fn cache_node(
    cpus: &mut Node,
    cache: &Rec<'_>,
    name: &str,
    reg: u32,
    okay: bool,
    size_off: usize,
    line_off: usize,
) -> Result<()> {
    let c = |off| cache.be32(off);
    let Some(n) = new_child(cpus, name) else { return Ok(()) };
    n.set_str("device_type", "cache");
    n.set_u32("reg", reg);
    n.set_str("status", if okay { "okay" } else { "bad" });
    n.set_flag("cache-unified");
    n.set_u32("d-cache-sets", c(68)?).set_u32("i-cache-sets", c(68)?);
    n.set_u32("d-cache-size", c(size_off)?.wrapping_mul(1024));
    n.set_u32("i-cache-size", c(size_off)?.wrapping_mul(1024));
    if c(4)? != c(36)? {
        n.set_u32("i-cache-line-size", c(4)?);
    }
    if c(line_off)? != c(32)? {
        n.set_u32("d-cache-line-size", c(line_off)?);
    }
    Ok(())
}
