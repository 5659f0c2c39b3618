//! FRU (Field Replaceable Unit) VPD: attaching each FRU's keyword VPD to its `/vpd` node, the
//! system VPD (model, system id), and the FRU VPD n-tuples (enclosure, backplane, clock,
//! anchor, operator panel, miscellaneous CEC (Central Electronics Complex) FRUs, I/O hubs,
//! service processor).

use crate::error::{HdatError, Result};
use crate::hdif::Hdif;
use crate::slca::{find_by_name, Slca};
use crate::spira::Ntuple;
use crate::tree::Ctx;
use crate::vpd;
use alloc::string::String;

/// Offset of the system type string (`vendor,type`) in the IPL system parameters.
pub const SYS_TYPE_STR: usize = 264;

/// Attaches the keyword VPD of structure `h` (FRU id in internal data `fru_idx`, VPD in
/// `vpd_idx`) to its `/vpd` node; returns that node's path. skiboot's `dt_add_vpd_node`.
pub fn add_vpd_node(
    ctx: &mut Ctx<'_>,
    slca: &Slca<'_>,
    h: &Hdif<'_>,
    fru_idx: usize,
    vpd_idx: usize,
) -> Result<Option<String>> {
    let Some(fru) = h.idata(fru_idx)? else { return Ok(None) };
    let Some(blob) = h.idata(vpd_idx)? else { return Ok(None) };
    if fru.len() < 4 {
        return Ok(None);
    }
    let Some(entry) = slca.entry(fru.be16(0)?)? else { return Ok(None) };
    let Some(path) = find_by_name(&ctx.root, "/vpd", &entry.node_name()) else { return Ok(None) };
    if let Some(node) = ctx.node(&path) {
        if vpd::is_valid(blob.data()) && node.prop("ibm,vpd").is_none() {
            node.set("ibm,vpd", blob.data().to_vec());
            vpd::add_fru_properties(node, blob.data());
        }
    }
    Ok(Some(path))
}

/// Instances of a FRU VPD n-tuple; like skiboot, a tuple that does not hold `FRUVPD`
/// structures is ignored rather than fatal (several of them are unused on OpenPOWER).
fn fru_vpd_instances<'a>(ctx: &Ctx<'a>, n: Ntuple) -> Result<alloc::vec::Vec<Hdif<'a>>> {
    match ctx.instances(n, "FRUVPD") {
        Err(HdatError::BadEyeCatcher { .. }) => Ok(alloc::vec::Vec::new()),
        other => other,
    }
}

/// skiboot's `vpd_parse`: system VPD, the FRU VPD n-tuples, I/O hub and service processor VPD.
pub fn parse(ctx: &mut Ctx<'_>, slca: &Slca<'_>) -> Result<()> {
    system_vpd(ctx, slca)?;
    let t = ctx.t;
    for n in [t.enclosure_vpd, t.backplane_vpd, t.clock_vpd, t.anchor_vpd, t.op_panel_vpd, t.misc_cec_fru_vpd]
    {
        for h in fru_vpd_instances(ctx, n)? {
            add_vpd_node(ctx, slca, &h, 0, 1)?;
        }
    }
    for hub in ctx.instances(t.cec_iohub_fru, "IO HUB")? {
        let card = hub.idata(2)?;
        let is_cpu_card = match card {
            Some(r) if r.len() >= 4 => r.be32(0)? == crate::iohub::FRU_TYPE_CPU_CARD,
            _ => false,
        };
        if is_cpu_card {
            for kid in hub.children(0, "IO KID")? {
                add_vpd_node(ctx, slca, &kid, 0, 1)?;
            }
        } else if hub.idata(1)?.is_some() {
            add_vpd_node(ctx, slca, &hub, 0, 1)?;
        }
    }
    if let Some(sp) = ctx.first(t.sp_subsys, "SPINFO")? {
        add_vpd_node(ctx, slca, &sp, 0, 1)?;
    }
    Ok(())
}

/// System VPD: `ibm,vpd` and location code on `/vpd`, `model`, `system-id`, `model-name`.
fn system_vpd(ctx: &mut Ctx<'_>, slca: &Slca<'_>) -> Result<()> {
    let Some(h) = ctx.first(ctx.t.system_vpd, "SYSVPD")? else { return Ok(()) };
    let Some(fru) = h.idata(0)? else { return Ok(()) };
    let Some(blob) = h.idata(1)? else { return Ok(()) };
    let blob = blob.data();
    if let Some(v) = ctx.node("/vpd") {
        v.set("ibm,vpd", blob.to_vec());
        if fru.len() >= 2 {
            slca.add_loc_code(v, fru.be16(0)?)?;
        }
    }
    let root = &mut ctx.root;
    if vpd::find_record(blob, b"OSYS").is_some() {
        match vpd::find(blob, b"OSYS", b"MM") {
            Some(v) => vpd::set_sanitized(root, "model", v),
            None => {
                root.set_str("model", "Unknown");
            }
        }
        match vpd::find(blob, b"OSYS", b"SS") {
            Some(v) => vpd::set_sanitized(root, "system-id", v),
            None => {
                root.set_str("system-id", "Unknown");
            }
        }
    } else {
        match vpd::find(blob, b"VSYS", b"TM") {
            Some(v) => vpd::set_sanitized(root, "model", v),
            None => {
                root.set_str("model", "Unknown");
            }
        }
        match vpd::find(blob, b"VSYS", b"SE") {
            Some(v) => vpd::set_sanitized(root, "system-id", v),
            None => {
                root.set_str("system-id", "Unknown");
            }
        }
        match vpd::find(blob, b"VSYS", b"BR") {
            Some(v) => vpd::set_sanitized(root, "system-brand", v),
            None => {
                root.set_str("brand", "Unknown");
            }
        }
    }
    model_name(ctx)
}

/// Marketing names of POWER8 machine types, for systems whose HDAT has no type string.
const MACHINES: &[(&str, &str)] = &[
    ("8247-21L", "IBM Power System S812L"),
    ("8247-22L", "IBM Power System S822L"),
    ("8247-24L", "IBM Power System S824L"),
    ("8286-41A", "IBM Power System S814"),
    ("8286-22A", "IBM Power System S822"),
    ("8286-42A", "IBM Power System S824"),
];

/// `model-name`: the system type string of the IPL parameters (version 0x60 and later), else
/// the name of the machine type in `model`.
fn model_name(ctx: &mut Ctx<'_>) -> Result<()> {
    let mut name: Option<alloc::vec::Vec<u8>> = None;
    if let Some(iplp) = ctx.first(ctx.t.ipl_parms, "IPLPMS")? {
        if let Some(p) = iplp.idata(0)? {
            if iplp.version() >= 0x60 {
                name = Some(p.named("IPL system parameters").cstr(SYS_TYPE_STR, 64)?.to_vec());
            }
        }
    }
    if name.as_ref().is_none_or(|n| n.is_empty()) {
        if let Some(model) = ctx.root.prop_str("model") {
            if let Some((_, n)) = MACHINES.iter().find(|(m, _)| *m == model) {
                name = Some(n.as_bytes().to_vec());
            }
        }
    }
    if let Some(name) = name {
        crate::tree::set_cstr(&mut ctx.root, "model-name", &name);
    }
    Ok(())
}
