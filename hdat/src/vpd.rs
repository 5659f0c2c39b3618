//! IBM keyword VPD (Vital Product Data): records of two-letter keywords, and the device-tree
//! properties skiboot derives from them (vendor, part and serial numbers, CCIN, ...).
//!
//! A keyword VPD blob is a sequence of records, each `0x84`, a little-endian 16-bit length,
//! the record body, `0x78`. A body is a sequence of keywords: two ASCII bytes, a one-byte
//! length, the data; the `RT` keyword names the record (`VINI`, `OPFR`, `VRML`, `OSYS`, ...).
//!
//! VPD blobs are opaque payload inside well-formed HDAT blocks, so a malformed blob is not a
//! parse error: like skiboot, a record or keyword that does not fit is treated as absent.

use alloc::vec::Vec;
use oxiboot_devtree::Node;

const RECORD_START: u8 = 0x84;
const RECORD_END: u8 = 0x78;

/// The data of keyword `kw` in record body `rec`, if present and complete.
pub fn find_keyword<'a>(rec: &'a [u8], kw: &[u8; 2]) -> Option<&'a [u8]> {
    let mut p = 0usize;
    while rec.len().saturating_sub(p) >= 3 {
        let (k1, k2, sz) = (rec[p], rec[p + 1], usize::from(rec[p + 2]));
        p += 3;
        if [k1, k2] == *kw {
            return rec.get(p..p + sz);
        }
        p += sz;
    }
    None
}

/// Whether `vpd` looks like a keyword VPD blob: a record start whose length leads to a record
/// end marker.
pub fn is_valid(vpd: &[u8]) -> bool {
    let Some(start) = vpd.iter().position(|&b| b == RECORD_START) else {
        return false;
    };
    let i = start + 1;
    let (Some(&lo), Some(&hi)) = (vpd.get(i), vpd.get(i + 1)) else {
        return false;
    };
    let end = i + 2 + usize::from(lo) + (usize::from(hi) << 8);
    vpd.get(end) == Some(&RECORD_END)
}

/// C `strncmp(want, name, n) == 0` where `want` is NUL-terminated and `name` has `n` bytes.
fn name_matches(want: &[u8], name: &[u8]) -> bool {
    for (i, &b) in name.iter().enumerate() {
        let a = want.get(i).copied().unwrap_or(0);
        if a != b {
            return false;
        }
        if a == 0 {
            return true;
        }
    }
    true
}

/// The body of record `record` (e.g. `b"VINI"`) in `vpd`. Leading bytes before the first
/// record start are skipped, as VPD LIDs (Load IDs) carry some.
pub fn find_record<'a>(vpd: &'a [u8], record: &[u8]) -> Option<&'a [u8]> {
    let mut p = 0usize;
    let mut first = true;
    while vpd.len().saturating_sub(p) >= 4 {
        let b = vpd[p];
        p += 1;
        if b != RECORD_START {
            if first {
                continue;
            }
            break;
        }
        first = false;
        let size = usize::from(vpd[p]) | (usize::from(vpd[p + 1]) << 8);
        p += 2;
        let body = vpd.get(p..p.checked_add(size)?)?;
        if let Some(name) = find_keyword(body, b"RT") {
            if name_matches(record, name) {
                return Some(body);
            }
        }
        p += size;
        if vpd.get(p) != Some(&RECORD_END) {
            return None;
        }
        p += 1;
    }
    None
}

/// Keyword `kw` of record `record` in `vpd`.
pub fn find<'a>(vpd: &'a [u8], record: &[u8], kw: &[u8; 2]) -> Option<&'a [u8]> {
    find_keyword(find_record(vpd, record)?, kw)
}

/// A string property value: `b` cut at its first NUL, then NUL-terminated.
pub fn cstr_value(b: &[u8]) -> Vec<u8> {
    let mut v = crate::window::until_nul(b).to_vec();
    v.push(0);
    v
}

/// Sets `name` from a VPD keyword value with trailing spaces removed, unless the node has it
/// already or the value is all spaces.
pub fn set_sanitized(node: &mut Node, name: &str, val: &[u8]) {
    let Some(last) = val.iter().rposition(|&b| b != b' ') else {
        return;
    };
    if node.prop(name).is_none() {
        node.set(name, cstr_value(&val[..=last]));
    }
}

/// Processor module VPD carries the vendor name in `VINI`/`VN`.
pub fn add_proc_vendor(node: &mut Node, module_vpd: &[u8]) {
    if let Some(kw) = find(module_vpd, b"VINI", b"VN") {
        set_sanitized(node, "vendor", kw);
    }
}

/// Adds the properties derived from a FRU's keyword VPD: from the OpenPOWER `OPFR` record if
/// present, else the processor `VRML` record, else the classic `VINI` record.
pub fn add_fru_properties(node: &mut Node, vpd: &[u8]) {
    if find_record(vpd, b"OPFR").is_some() {
        add_from(node, vpd, b"OPFR", OPFR_KEYWORDS);
    } else if find_record(vpd, b"VRML").is_some() {
        add_from(node, vpd, b"VRML", VRML_KEYWORDS);
    } else {
        add_from(node, vpd, b"VINI", VINI_KEYWORDS);
        if let Some(cc) = find(vpd, b"VINI", b"CC") {
            set_sanitized(node, "ccin", cc);
            if let Some(desc) = card_description(cc) {
                node.set_str("description", desc);
            } else if let Some(dr) = find(vpd, b"VINI", b"DR") {
                set_sanitized(node, "description", dr);
            } else {
                node.set_str("description", "Unknown");
            }
        }
    }
}

fn add_from(node: &mut Node, vpd: &[u8], record: &[u8], keywords: &[(&[u8; 2], &str)]) {
    for (kw, prop) in keywords {
        if let Some(v) = find(vpd, record, kw) {
            set_sanitized(node, prop, v);
        }
    }
}

const OPFR_KEYWORDS: &[(&[u8; 2], &str)] = &[
    (b"VN", "vendor"),
    (b"DR", "description"),
    (b"VP", "part-number"),
    (b"VS", "serial-number"),
    (b"MB", "build-date"),
];

const VRML_KEYWORDS: &[(&[u8; 2], &str)] = &[(b"PN", "part-number"), (b"SN", "serial-number")];

const VINI_KEYWORDS: &[(&[u8; 2], &str)] = &[
    (b"FN", "fru-number"),
    (b"SN", "serial-number"),
    (b"PN", "part-number"),
    (b"VN", "vendor"),
    (b"CE", "ccin-extension"),
    (b"HW", "hw-version"),
    (b"CT", "card-type"),
    (b"B3", "hw-characteristics"),
];

/// Description of a card from its CCIN (Customer Card Identification Number), compared on
/// four characters as C `strncmp` would (stopping at a NUL).
fn card_description(ccin: &[u8]) -> Option<&'static str> {
    CARDS.iter().find(|(c, _)| name_matches(c.as_bytes(), ccin.get(..4).unwrap_or(ccin))).map(|(_, d)| *d)
}

/// Known CCINs (the cards IBM POWER8/9 systems report) and their descriptions.
const CARDS: &[(&str, &str)] = &[
    ("2B06", "System planar 2S4U"),
    ("2B07", "System planar 1S4U"),
    ("2B2E", "System planar 2S2U"),
    ("2B2F", "System planar 1S2U"),
    ("2CD4", "System planar 2S4U"),
    ("2CD5", "System planar 1S4U"),
    ("2CD6", "System planar 2S2U"),
    ("2CD7", "System planar 1S2U"),
    ("2B09", "Base JBOD, RAID and Backplane HD"),
    ("57D7", "Split JBOD, RAID Card"),
    ("2B0B", "Native I/O Card"),
    ("52FE", "System Anchor Card - IBM Power 824"),
    ("52F2", "System Anchor Card - IBM Power 814"),
    ("52F5", "System Anchor Card - IBM Power 822"),
    ("561A", "System Anchor Card - IBM Power 824L"),
    ("524D", "System Anchor Card - IBM Power 822L"),
    ("560F", "System Anchor Card - IBM Power 812L"),
    ("561C", "System Anchor Card - DS8870"),
    ("31E0", "16GB CDIMM"),
    ("31E8", "16GB CDIMM"),
    ("31E1", "32GB CDIMM"),
    ("31E9", "32GB CDIMM"),
    ("31E2", "64GB CDIMM"),
    ("31EA", "64GB CDIMM"),
    ("2B1D", "Power Supply 900W AC"),
    ("2B1E", "Power Supply 1400W AC"),
    ("2B75", "Power Supply 1400W HVDC"),
    ("2B1F", "Fan 4U (A1, A2, A3, A4)"),
    ("2B29", "Fan 2U (A1, A2, A3, A4, A5, A6)"),
];

/// Device-tree node name for a two-letter FRU (Field Replaceable Unit) type.
pub fn fru_node_name(fru_id: [u8; 2]) -> &'static str {
    FRU_NAMES.iter().find(|(k, _)| k.as_bytes() == fru_id).map(|(_, n)| *n).unwrap_or("Unknown")
}

/// FRU types and the node names used for them under `/vpd`.
const FRU_NAMES: &[(&str, &str)] = &[
    ("AA", "ac-power-supply"),
    ("AM", "air-mover"),
    ("AV", "anchor-card"),
    ("BA", "bus-adapter-card"),
    ("BC", "battery-charger"),
    ("BD", "bus-daughter-card"),
    ("BE", "bus-expansion-card"),
    ("BP", "backplane"),
    ("BR", "backplane-riser"),
    ("BX", "backplane-extender"),
    ("CA", "calgary-bridge"),
    ("CB", "infiniband-connector"),
    ("CC", "clock-card"),
    ("CD", "card-connector"),
    ("CE", "ethernet-connector"),
    ("CL", "calgary-phb"),
    ("CI", "capacity-card"),
    ("CO", "sma-connector"),
    ("CP", "processor-capacity-card"),
    ("CR", "rio-connector"),
    ("CS", "serial-connector"),
    ("CU", "usb-connector"),
    ("DB", "dasd-backplane"),
    ("DC", "drawer-card"),
    ("DE", "drawer-extension"),
    ("DI", "drawer-interposer"),
    ("DL", "p7ih-dlink-connector"),
    ("DT", "legacy-pci-card"),
    ("DV", "media-drawer-led"),
    ("EI", "enclosure-led"),
    ("EF", "enclosure-fault-led"),
    ("ES", "embedded-sas"),
    ("ET", "ethernet-riser"),
    ("EV", "enclosure"),
    ("FM", "frame"),
    ("FN", "fru-stocking-part-number"),
    ("HB", "host-rio-pci-card"),
    ("HD", "high-speed-card"),
    ("HM", "hmc-connector"),
    ("IB", "io-backplane"),
    ("IC", "io-card"),
    ("ID", "ide-connector"),
    ("II", "io-drawer-led"),
    ("IP", "interplane-card"),
    ("IS", "smp-vbus-cable"),
    ("IT", "enclosure-cable"),
    ("IV", "io-enclosure"),
    ("KV", "keyboard-led"),
    ("L2", "l2-cache-module"),
    ("L3", "l3-cache-module"),
    ("LC", "squadrons-light-connector"),
    ("LR", "p7ih-connector"),
    ("LO", "system-locate-led"),
    ("LT", "squadrons-light-strip"),
    ("MB", "media-backplane"),
    ("ME", "map-extension"),
    ("MM", "mip-meter"),
    ("MS", "ms-dimm"),
    ("NB", "nvram-battery"),
    ("NC", "sp-node-controller"),
    ("ND", "numa-dimm"),
    ("OD", "cuod-card"),
    ("OP", "op-panel"),
    ("OS", "oscillator"),
    ("P2", "ioc"),
    ("P5", "ioc-bridge"),
    ("PB", "io-drawer-backplane"),
    ("PC", "power-capacitor"),
    ("PD", "processor-card"),
    ("PF", "processor"),
    ("PI", "ioc-phb"),
    ("PO", "spcn"),
    ("PN", "spcn-connector"),
    ("PR", "pci-riser-card"),
    ("PS", "power-supply"),
    ("PT", "pass-through-card"),
    ("PX", "psc-sync-card"),
    ("PW", "power-connector"),
    ("RG", "regulator"),
    ("RI", "riser"),
    ("RK", "rack-indicator"),
    ("RW", "riscwatch-connector"),
    ("SA", "sys-attn-led"),
    ("SB", "backup-sysvpd"),
    ("SC", "scsi-connector"),
    ("SD", "sas-connector"),
    ("SI", "scsi-ide-converter"),
    ("SL", "phb-slot"),
    ("SN", "smp-cable-connector"),
    ("SP", "service-processor"),
    ("SR", "service-card"),
    ("SS", "soft-switch"),
    ("SV", "system-vpd"),
    ("SY", "legacy-sysvpd"),
    ("TD", "tod-clock"),
    ("TI", "torrent-pcie-phb"),
    ("TL", "torrent-riser"),
    ("TM", "thermal-sensor"),
    ("TP", "tpmd-adapter"),
    ("TR", "torrent-bridge"),
    ("VV", "root-node-vpd"),
    ("WD", "water_device"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn blob() -> Vec<u8> {
        let body: &[u8] = b"RT\x04VINIPN\x07ABC    SN\x03xyzCC\x042B06";
        let mut v = vec![0, 0, RECORD_START, body.len() as u8, 0];
        v.extend_from_slice(body);
        v.push(RECORD_END);
        v
    }

    #[test]
    fn records_and_keywords() {
        let v = blob();
        assert!(is_valid(&v));
        assert_eq!(find(&v, b"VINI", b"SN"), Some(&b"xyz"[..]));
        assert_eq!(find(&v, b"OPFR", b"SN"), None);
        let mut cut = v.clone();
        cut.truncate(10);
        assert!(!is_valid(&cut));
        assert_eq!(find(&cut, b"VINI", b"SN"), None);
    }

    #[test]
    fn fru_properties_are_sanitized() {
        let mut n = Node::new("x");
        add_fru_properties(&mut n, &blob());
        assert_eq!(n.prop_str("part-number"), Some("ABC"));
        assert_eq!(n.prop_str("description"), Some("System planar 2S4U"));
        assert_eq!(fru_node_name(*b"MS"), "ms-dimm");
        assert_eq!(fru_node_name(*b"??"), "Unknown");
    }
}
