//! Tests of the operations behind the OPAL calls: results, table contents, and the error
//! for every kind of bad argument.

use super::chip::TableLayout;
use super::regs::esb;
use super::state::Vp;
use super::tables::{girq, Eas, End, Nvt};
use super::tests::{system, FakeHw, Op, CFG, MEM_BASE, REGION};
use super::*;

fn expl(chips: u32) -> Xive<FakeHw> {
    let mut x = system(chips);
    x.reset(1).unwrap();
    x
}

fn layout(chip: u64) -> TableLayout {
    TableLayout::new(&CFG, MEM_BASE + chip * REGION).unwrap()
}

fn eas(x: &mut Xive<FakeHw>, chip: u64, idx: u32) -> u64 {
    x.hw_mut().be64(layout(chip).ivt + 8 * idx as u64)
}

fn end(x: &mut Xive<FakeHw>, chip: u64, idx: u32) -> End {
    let b: [u8; 32] = x.hw_mut().read_mem(layout(chip).endt + 32 * idx as u64, 32).try_into().unwrap();
    End::from_be_bytes(&b)
}

fn nvt(x: &mut Xive<FakeHw>, chip: u64, idx: u32) -> Nvt {
    let b: [u8; 64] = x.hw_mut().read_mem(layout(chip).vpdt + 64 * idx as u64, 64).try_into().unwrap();
    Nvt::from_be_bytes(&b)
}

#[test]
fn calls_need_exploitation_mode() {
    let mut x = system(1);
    assert_eq!(x.allocate_irq(0, 0), Err(XiveError::WrongState));
    assert_eq!(x.queue_info(0, 7), Err(XiveError::WrongState));
    assert_eq!(x.reset(2), Err(XiveError::Parameter));
    x.reset(0).unwrap();
    assert_eq!(x.allocate_vp_block(1), Err(XiveError::WrongState));
    x.reset(1).unwrap();
    assert_eq!(x.allocate_irq(0, 0), Ok(FIRST_IPI));
}

#[test]
fn ipis_allocate_describe_route_and_free() {
    let mut x = expl(2);
    // The caller's chip first for "any chip"; chip 1's numbers carry block 1.
    let a = x.allocate_irq(ANY_CHIP, 0x102).unwrap();
    assert_eq!(a, 0x0010_0010);
    assert_eq!(x.allocate_irq(0, 5).unwrap(), 0x10);
    assert_eq!(x.allocate_irq(7, 0), Err(XiveError::Parameter));
    assert_eq!(eas(&mut x, 1, 0x10), Eas::masked(a).0);

    let info = x.irq_info(a).unwrap();
    let vc1 = Bars::p9(1).vc;
    assert_eq!(
        info,
        IrqInfo {
            flags: irq_flags::TRIGGER_PAGE,
            eoi_page: vc1 + (0x10 << 17) + 0x1_0000,
            trig_page: vc1 + (0x10 << 17),
            esb_shift: 17,
            src_chip: 1,
        }
    );

    // Route chip 1's IPI to thread 0x3 on chip 0 at priority 6, data 0x1234.
    x.set_irq_config(a, 0x3, 6, 0x1234).unwrap();
    // END block 0, index 0x83 * 8 + 6 = 0x41e.
    assert_eq!(eas(&mut x, 1, 0x10), 0x8000_041e_0000_1234);
    assert_eq!(x.irq_config(a).unwrap(), IrqConfig { vp: 3, prio: 6, lirq: 0x1234 });
    // Masking keeps the route and updates the data.
    x.set_irq_config(a, 0, PRIO_MASKED, 0x1235).unwrap();
    assert_eq!(eas(&mut x, 1, 0x10), 0x8000_041e_8000_1235);
    assert_eq!(x.irq_config(a).unwrap().prio, PRIO_MASKED);

    // Bad arguments.
    assert_eq!(x.set_irq_config(a, 0x3, 8, 1), Err(XiveError::Parameter));
    assert_eq!(x.set_irq_config(a, 0x3, 0, 0x8000_0000), Err(XiveError::Parameter));
    assert_eq!(x.set_irq_config(a, 0x8, 0, 1), Err(XiveError::Parameter)); // no thread 8
    assert_eq!(x.set_irq_config(a, u64::MAX, 0, 1), Err(XiveError::Parameter));
    assert_eq!(x.set_irq_config(0x11, 0x3, 0, 1), Err(XiveError::Parameter)); // not allocated
    assert_eq!(x.set_irq_config(0x0020_0010, 0x3, 0, 1), Err(XiveError::Parameter)); // block 2
    assert_eq!(x.set_irq_config(0x0200_0010, 0x3, 0, 1), Err(XiveError::Parameter)); // stray bit
    assert_eq!(x.irq_info(0xfffff), Err(XiveError::Parameter));

    // Free: the source is turned off at its ESB, the EAS masked, the number reusable.
    x.free_irq(a).unwrap();
    assert!(x.hw_mut().ops.contains(&Op::MmioR(info.eoi_page + esb::SET_PQ_01)));
    assert_eq!(eas(&mut x, 1, 0x10), Eas::VALID | Eas::MASKED);
    assert_eq!(x.free_irq(a), Err(XiveError::Parameter));
    assert_eq!(x.allocate_irq(1, 0).unwrap(), a);
}

#[test]
fn queues_configure_the_end() {
    let mut x = expl(1);
    let qpage = 0x0200_0000;
    let flags = queue_flags::ENABLED | queue_flags::ALWAYS_NOTIFY;
    x.set_queue_info(0x5, 7, qpage, 12, flags).unwrap();
    let idx = 0x85 * 8 + 7;
    let e = end(&mut x, 0, idx);
    // v q n b, 4 KiB; generation 1, entry 0; queue address; NVT 0/0x85; priority 7.
    assert_eq!(e.w, [0xf000_0000, 0x0040_0000, 0, qpage as u32, 0, 0, 0x85, 0x0007_0000]);
    let q = x.queue_info(0x5, 7).unwrap();
    assert_eq!(
        q,
        QueueInfo {
            qpage,
            qshift: 12,
            qeoi_page: Bars::p9(0).end_esb_base() + ((idx as u64) << 17),
            escalate_irq: 0x0100_0000 | idx,
            flags,
        }
    );
    assert_eq!(x.queue_state(0x5, 7), Ok((1, 0)));
    x.set_queue_state(0x5, 7, 0, 1023).unwrap();
    assert_eq!(x.queue_state(0x5, 7), Ok((0, 1023)));
    assert_eq!(x.set_queue_state(0x5, 7, 0, 1024), Err(XiveError::Parameter));
    assert_eq!(x.set_queue_state(0x5, 7, 2, 0), Err(XiveError::Parameter));

    // Bad sizes, alignment, flags, priorities, targets.
    assert_eq!(x.set_queue_info(0x5, 7, qpage, 13, flags), Err(XiveError::Parameter));
    assert_eq!(x.set_queue_info(0x5, 7, qpage + 0x800, 12, flags), Err(XiveError::Parameter));
    assert_eq!(x.set_queue_info(0x5, 7, 0, 12, flags), Err(XiveError::Parameter));
    assert_eq!(x.set_queue_info(0x5, 7, qpage + 0x1000, 16, flags), Err(XiveError::Parameter));
    assert_eq!(x.set_queue_info(0x5, 7, qpage, 12, 0x8), Err(XiveError::Parameter));
    assert_eq!(x.set_queue_info(0x5, 8, qpage, 12, flags), Err(XiveError::Parameter));
    assert_eq!(x.set_queue_info(0x100, 0, qpage, 12, flags), Err(XiveError::Parameter));
    assert_eq!(x.set_queue_info(0x5, 7, 1 << 60, 12, flags), Err(XiveError::Parameter));

    // Disable: back to a clean, invalid END; its state can no longer be read.
    x.set_queue_info(0x5, 7, 0, 0, 0).unwrap();
    assert_eq!(end(&mut x, 0, idx).w, [0, 0x5000_0000, 0, 0, 0, 0, 0, 0]);
    assert_eq!(x.queue_state(0x5, 7), Err(XiveError::WrongState));
    assert_eq!(x.queue_info(0x5, 7).unwrap().flags, 0);
}

#[test]
fn vp_blocks_allocate_enable_and_free() {
    let mut x = expl(1);
    let base = x.allocate_vp_block(3).unwrap();
    assert_eq!(Vp::decode(base as u64), Some(Vp::Virtual { block: 0, index: 0, order: 3 }));
    assert_eq!(nvt(&mut x, 0, 7).w[5], Nvt::W5_INITIAL);
    assert_eq!(x.allocate_vp_block(9), Err(XiveError::Parameter));
    // 0x80-0xff are the hardware threads: no room for another 128.
    assert_eq!(x.allocate_vp_block(7), Err(XiveError::Resource));
    let next = x.allocate_vp_block(3).unwrap();
    assert_eq!(next & 0x7ffff, 8);
    x.free_vp_block(next as u64).unwrap();

    let vp = base as u64 + 2;
    assert_eq!(x.vp_info(vp).unwrap(), VpInfo { flags: 0, cam: 2, report_cl_pair: 0, chip_id: 0 });
    x.set_vp_info(vp, vp_flags::ENABLED, 0x1234_5600).unwrap();
    assert!(nvt(&mut x, 0, 2).is_valid());
    assert_eq!(x.vp_info(vp).unwrap().flags, vp_flags::ENABLED);
    assert_eq!(x.vp_info(vp).unwrap().report_cl_pair, 0x1234_5600);
    assert_eq!(x.vp_state(vp), Ok(Nvt::W5_INITIAL as u64));
    assert_eq!(x.set_vp_info(vp, vp_flags::ENABLED, 0x12), Err(XiveError::Parameter));
    assert_eq!(x.set_vp_info(vp, vp_flags::SINGLE_ESCALATION | 1, 0), Err(XiveError::Unsupported));
    assert_eq!(x.set_vp_info(vp, 0x10, 0), Err(XiveError::Parameter));
    assert_eq!(x.set_vp_info(0x3, vp_flags::ENABLED, 0), Err(XiveError::Parameter)); // a thread
    assert_eq!(x.vp_info(base as u64 + 8), Err(XiveError::Parameter)); // outside the block

    // A queue on the VP, then: freeing while enabled fails; disabled, it frees and cleans.
    x.set_queue_info(vp, 3, 0x0300_0000, 16, queue_flags::ENABLED).unwrap();
    assert_eq!(x.free_vp_block(base as u64), Err(XiveError::FreeActive));
    assert_eq!(x.free_vp_block(vp), Err(XiveError::Parameter)); // not the block's first VP
    x.set_vp_info(vp, 0, 0).unwrap();
    assert_eq!(x.vp_state(vp), Err(XiveError::WrongState));
    x.free_vp_block(base as u64).unwrap();
    assert!(!end(&mut x, 0, 2 * 8 + 3).is_valid());
    assert_eq!(x.vp_info(vp), Err(XiveError::Parameter));
    assert_eq!(x.free_vp_block(base as u64), Err(XiveError::Parameter));
}

#[test]
fn hardware_thread_vps() {
    let mut x = expl(2);
    let info = x.vp_info(0x104).unwrap();
    assert_eq!(
        info,
        VpInfo { flags: vp_flags::ENABLED, cam: (1 << 19) | 0x84, report_cl_pair: 0, chip_id: 1 }
    );
    assert_eq!(x.vp_info(0x108), Err(XiveError::Parameter));
    assert_eq!(x.vp_state(0x104), Ok(0));
}

#[test]
fn escalations_and_sync() {
    let mut x = expl(1);
    let q = x.queue_info(0x1, 2).unwrap();
    let esc = q.escalate_irq;
    let info = x.irq_info(esc).unwrap();
    assert_eq!((info.flags, info.trig_page, info.eoi_page), (0, 0, q.qeoi_page + 0x1_0000));
    x.set_irq_config(esc, 0x2, 7, 0x55).unwrap();
    let e = end(&mut x, 0, 0x81 * 8 + 2);
    assert_eq!(e.escalation().0, 0x0000_0417_0000_0055);
    assert_eq!(x.irq_config(esc).unwrap(), IrqConfig { vp: 2, prio: 7, lirq: 0x55 });
    assert_eq!(x.irq_info(girq::escalation(0, 256 * 8)), Err(XiveError::Parameter));

    let a = x.allocate_irq(0, 0).unwrap();
    x.set_irq_config(a, 0x1, 2, a).unwrap();
    let before = x.hw_mut().ops.len();
    x.sync(sync_kind::EAS | sync_kind::QUEUE, a).unwrap();
    let notify = Bars::p9(0).notify_page();
    let syncs = x.hw_mut().ops[before..]
        .iter()
        .filter(|o| matches!(o, Op::MmioW(p, 0) if *p >= notify + 0xc00 && *p < notify + 0x1000))
        .count();
    assert_eq!(syncs, 10);
    assert_eq!(x.sync(0x4, a), Err(XiveError::Parameter));
    assert_eq!(x.sync(1, 0x0010_0010), Err(XiveError::Parameter));
    x.hw_mut().stuck_scrub = true;
    assert_eq!(x.set_irq_config(a, 0x1, 2, a), Err(XiveError::Hardware));
}

#[test]
fn donate_page_checks_its_arguments() {
    let mut x = expl(1);
    assert_eq!(x.donate_page(0, 0x4000_0000), Ok(()));
    assert_eq!(x.donate_page(0, 0x4000_1000), Err(XiveError::Parameter));
    assert_eq!(x.donate_page(3, 0x4000_0000), Err(XiveError::Parameter));
}

#[test]
fn reset_masks_and_forgets_everything() {
    let mut x = expl(1);
    let a = x.allocate_irq(0, 0).unwrap();
    x.set_irq_config(a, 0x0, 7, a).unwrap();
    x.set_queue_info(0x0, 7, 0x0200_0000, 12, queue_flags::ENABLED).unwrap();
    let base = x.allocate_vp_block(1).unwrap();
    x.set_vp_info(base as u64, vp_flags::ENABLED, 0).unwrap();
    let eoi = x.irq_info(a).unwrap().eoi_page;
    x.reset(1).unwrap();
    assert!(x.hw_mut().ops.contains(&Op::MmioR(eoi + esb::SET_PQ_01)));
    assert_eq!(eas(&mut x, 0, 0x10), 0);
    assert!(!end(&mut x, 0, 0x80 * 8 + 7).is_valid());
    assert!(!nvt(&mut x, 0, 0).is_valid());
    assert!(nvt(&mut x, 0, 0x80).is_valid());
    assert_eq!(x.irq_info(a), Err(XiveError::Parameter));
    assert_eq!(x.vp_info(base as u64), Err(XiveError::Parameter));
    assert_eq!(x.allocate_irq(0, 0), Ok(a));
}
