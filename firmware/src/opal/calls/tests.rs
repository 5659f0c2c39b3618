//! Handler tests against a fake firmware: 64 KiB of caller RAM at 0x1_0000, a console that
//! records output, a clock, four threads and a BMC.

use super::*;
use crate::opal::DateTime;
use std::vec::Vec;

const RAM_BASE: u64 = 0x1_0000;
const RAM_SIZE: usize = 0x1_0000;

struct Fake {
    ram: Vec<u8>,
    out: Vec<u8>,
    input: Vec<u8>,
    clock: Option<DateTime>,
    cpus: Vec<(u32, CpuStatus)>,
    started: Vec<(u32, u64)>,
    power_downs: u32,
    reboots: u32,
    reinit: Option<u64>,
    nvram: Vec<u8>,
    nvram_writes: Vec<(usize, usize)>,
    console_room: usize,
}

impl Fake {
    fn new() -> Self {
        Fake {
            ram: std::vec![0; RAM_SIZE],
            out: Vec::new(),
            input: Vec::new(),
            clock: Some(DateTime { year: 2026, month: 11, day: 21, hour: 12, minute: 34, second: 56 }),
            cpus: std::vec![(0, CpuStatus::Started), (1, CpuStatus::Inactive), (4, CpuStatus::Inactive)],
            started: Vec::new(),
            power_downs: 0,
            reboots: 0,
            reinit: None,
            nvram: std::vec![0xff; 1024],
            nvram_writes: Vec::new(),
            console_room: usize::MAX,
        }
    }

    fn range(&self, addr: u64, len: usize) -> Option<core::ops::Range<usize>> {
        let off = usize::try_from(addr.checked_sub(RAM_BASE)?).ok()?;
        let end = off.checked_add(len)?;
        (end <= self.ram.len()).then_some(off..end)
    }

    fn put64(&mut self, addr: u64, v: u64) {
        let r = self.range(addr, 8).unwrap();
        self.ram[r].copy_from_slice(&v.to_be_bytes());
    }

    fn get64(&self, addr: u64) -> u64 {
        u64::from_be_bytes(self.ram[self.range(addr, 8).unwrap()].try_into().unwrap())
    }

    fn put(&mut self, addr: u64, data: &[u8]) {
        let r = self.range(addr, data.len()).unwrap();
        self.ram[r].copy_from_slice(data);
    }
}

impl OpalEnv for Fake {
    fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> bool {
        match self.range(addr, buf.len()) {
            Some(r) => {
                buf.copy_from_slice(&self.ram[r]);
                true
            }
            None => false,
        }
    }
    fn write_mem(&mut self, addr: u64, data: &[u8]) -> bool {
        match self.range(addr, data.len()) {
            Some(r) => {
                self.ram[r].copy_from_slice(data);
                true
            }
            None => false,
        }
    }
    fn console_write(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.console_room);
        self.console_room -= n;
        self.out.extend_from_slice(&data[..n]);
        n
    }
    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input.drain(..n);
        n
    }
    fn console_input_ready(&mut self) -> bool {
        !self.input.is_empty()
    }
    fn rtc_read(&mut self) -> Option<DateTime> {
        self.clock
    }
    fn rtc_write(&mut self, t: &DateTime) -> bool {
        self.clock = Some(*t);
        true
    }
    fn cpu_status(&mut self, pir: u32) -> CpuStatus {
        self.cpus.iter().find(|c| c.0 == pir).map_or(CpuStatus::Unavailable, |c| c.1)
    }
    fn start_cpu(&mut self, pir: u32, entry: u64) -> bool {
        self.started.push((pir, entry));
        if let Some(c) = self.cpus.iter_mut().find(|c| c.0 == pir) {
            c.1 = CpuStatus::Started;
        }
        true
    }
    fn return_cpu(&mut self) -> i64 {
        rc::SUCCESS
    }
    fn reinit_cpus(&mut self, flags: u64) -> i64 {
        self.reinit = Some(flags);
        rc::SUCCESS
    }
    fn power_down(&mut self) -> bool {
        self.power_downs += 1;
        true
    }
    fn reboot(&mut self) -> bool {
        self.reboots += 1;
        true
    }
    fn nvram_size(&mut self) -> usize {
        self.nvram.len()
    }
    fn nvram_read(&mut self, offset: usize, buf: &mut [u8]) {
        buf.copy_from_slice(&self.nvram[offset..offset + buf.len()]);
    }
    fn nvram_write(&mut self, offset: usize, data: &[u8]) {
        self.nvram[offset..offset + data.len()].copy_from_slice(data);
        self.nvram_writes.push((offset, data.len()));
    }
}

fn call(env: &mut Fake, token: u64, args: &[u64]) -> i64 {
    let mut a = [0u64; 8];
    a[..args.len()].copy_from_slice(args);
    dispatch(token, &a, env)
}

const LEN: u64 = RAM_BASE + 0x100;
const BUF: u64 = RAM_BASE + 0x1000;
const OUTSIDE: u64 = 0x3000_0000;

#[test]
fn console_write_copies_and_reports_length() {
    let mut f = Fake::new();
    f.put(BUF, b"hello, opal\n");
    f.put64(LEN, 12);
    assert_eq!(call(&mut f, token::CONSOLE_WRITE, &[0, LEN, BUF]), rc::SUCCESS);
    assert_eq!(f.out, b"hello, opal\n");
    assert_eq!(f.get64(LEN), 12);
}

#[test]
fn console_write_partial_and_bad_arguments() {
    let mut f = Fake::new();
    f.console_room = 5;
    f.put(BUF, b"0123456789");
    f.put64(LEN, 10);
    assert_eq!(call(&mut f, token::CONSOLE_WRITE, &[0, LEN, BUF]), rc::SUCCESS);
    assert_eq!(f.get64(LEN), 5);
    assert_eq!(call(&mut f, token::CONSOLE_WRITE, &[1, LEN, BUF]), rc::PARAMETER);
    assert_eq!(call(&mut f, token::CONSOLE_WRITE, &[0, OUTSIDE, BUF]), rc::PARAMETER);
    f.put64(LEN, 10);
    assert_eq!(call(&mut f, token::CONSOLE_WRITE, &[0, LEN, OUTSIDE]), rc::PARAMETER);
    // A length beyond what the firmware takes per call is clipped, not trusted.
    f.put64(LEN, u64::MAX);
    f.console_room = usize::MAX;
    assert_eq!(call(&mut f, token::CONSOLE_WRITE, &[0, LEN, BUF]), rc::SUCCESS);
    assert_eq!(f.get64(LEN), 4096);
}

#[test]
fn console_read_and_input_event() {
    let mut f = Fake::new();
    f.put64(BUF, 0);
    assert_eq!(call(&mut f, token::POLL_EVENTS, &[BUF]), rc::SUCCESS);
    assert_eq!(f.get64(BUF), 0);
    f.input.extend_from_slice(b"ls\n");
    assert_eq!(call(&mut f, token::POLL_EVENTS, &[BUF]), rc::SUCCESS);
    assert_eq!(f.get64(BUF), event::CONSOLE_INPUT);
    assert_eq!(call(&mut f, token::POLL_EVENTS, &[0]), rc::SUCCESS, "a null pointer is allowed");
    f.put64(LEN, 2);
    assert_eq!(call(&mut f, token::CONSOLE_READ, &[0, LEN, BUF]), rc::SUCCESS);
    assert_eq!(f.get64(LEN), 2);
    assert_eq!(&f.ram[0x1000..0x1002], b"ls");
    assert_eq!(f.input, b"\n");
    assert_eq!(call(&mut f, token::CONSOLE_WRITE_BUFFER_SPACE, &[0, LEN]), rc::SUCCESS);
    assert_eq!(f.get64(LEN), 4096);
    assert_eq!(call(&mut f, token::CONSOLE_FLUSH, &[0]), rc::SUCCESS);
    assert_eq!(call(&mut f, token::CONSOLE_FLUSH, &[3]), rc::PARAMETER);
}

#[test]
fn rtc_round_trip_and_validation() {
    let mut f = Fake::new();
    assert_eq!(call(&mut f, token::RTC_READ, &[BUF, LEN]), rc::SUCCESS);
    assert_eq!(&f.ram[0x1000..0x1004], &0x2026_1121u32.to_be_bytes());
    assert_eq!(f.get64(LEN), 0x1234_5600_0000_0000);
    assert_eq!(call(&mut f, token::RTC_WRITE, &[0x2027_0102, 0x0304_0500_0000_0000]), rc::SUCCESS);
    assert_eq!(f.clock.unwrap().year, 2027);
    assert_eq!(call(&mut f, token::RTC_WRITE, &[0x2027_1302, 0]), rc::PARAMETER);
    assert_eq!(call(&mut f, token::RTC_WRITE, &[1 << 40, 0]), rc::PARAMETER);
    f.clock = None;
    assert_eq!(call(&mut f, token::RTC_READ, &[BUF, LEN]), rc::HARDWARE);
}

#[test]
fn cpu_start_and_query() {
    let mut f = Fake::new();
    assert_eq!(call(&mut f, token::QUERY_CPU_STATUS, &[1, BUF]), rc::SUCCESS);
    assert_eq!(f.ram[0x1000], 0);
    assert_eq!(call(&mut f, token::START_CPU, &[1, 0x60]), rc::SUCCESS);
    assert_eq!(f.started, [(1, 0x60)]);
    assert_eq!(call(&mut f, token::QUERY_CPU_STATUS, &[1, BUF]), rc::SUCCESS);
    assert_eq!(f.ram[0x1000], 1);
    assert_eq!(call(&mut f, token::START_CPU, &[1, 0x60]), rc::WRONG_STATE);
    assert_eq!(call(&mut f, token::START_CPU, &[9, 0x60]), rc::PARAMETER);
    assert_eq!(call(&mut f, token::START_CPU, &[1 << 40, 0x60]), rc::PARAMETER);
    assert_eq!(call(&mut f, token::QUERY_CPU_STATUS, &[9, BUF]), rc::PARAMETER);
    assert_eq!(call(&mut f, token::QUERY_CPU_STATUS, &[4, OUTSIDE]), rc::PARAMETER);
}

#[test]
fn reinit_checks_flags() {
    let mut f = Fake::new();
    let linux_p9 = reinit::HILE_LE | reinit::MMU_HASH | reinit::MMU_RADIX;
    assert_eq!(call(&mut f, token::REINIT_CPUS, &[linux_p9]), rc::SUCCESS);
    assert_eq!(f.reinit, Some(linux_p9));
    assert_eq!(call(&mut f, token::REINIT_CPUS, &[reinit::HILE_BE | reinit::HILE_LE]), rc::PARAMETER);
    assert_eq!(call(&mut f, token::REINIT_CPUS, &[1 << 20]), rc::UNSUPPORTED);
}

#[test]
fn power_and_reboot() {
    let mut f = Fake::new();
    assert_eq!(call(&mut f, token::CEC_POWER_DOWN, &[0]), rc::SUCCESS);
    assert_eq!(call(&mut f, token::CEC_POWER_DOWN, &[7]), rc::PARAMETER);
    assert_eq!(f.power_downs, 1);
    assert_eq!(call(&mut f, token::CEC_REBOOT, &[]), rc::SUCCESS);
    assert_eq!(call(&mut f, token::CEC_REBOOT2, &[1, 0]), rc::SUCCESS);
    assert_eq!(call(&mut f, token::CEC_REBOOT2, &[4, 0]), rc::UNSUPPORTED);
    assert_eq!(call(&mut f, token::CEC_REBOOT2, &[99, 0]), rc::PARAMETER);
    assert_eq!(f.reboots, 2);
    assert_eq!(call(&mut f, token::SYNC_HOST_REBOOT, &[]), rc::SUCCESS);
}

#[test]
fn check_token_tells_the_truth() {
    let mut f = Fake::new();
    for c in CALLS {
        assert_eq!(call(&mut f, token::CHECK_TOKEN, &[c.token]), 1, "{}", c.name);
    }
    for absent in [0, 9, 19, 20, 65, 122, 999, u64::MAX] {
        assert_eq!(call(&mut f, token::CHECK_TOKEN, &[absent]), 0, "{absent}");
        assert_eq!(call(&mut f, absent, &[]), rc::PARAMETER, "unknown token {absent}");
    }
}

#[test]
fn messages_and_hmi() {
    let mut f = Fake::new();
    assert_eq!(call(&mut f, token::GET_MSG, &[BUF, 72]), rc::RESOURCE);
    assert_eq!(call(&mut f, token::GET_MSG, &[BUF, 8]), rc::PARAMETER);
    assert_eq!(call(&mut f, token::CHECK_ASYNC_COMPLETION, &[BUF, 72, 1]), rc::PARAMETER);
    assert_eq!(call(&mut f, token::HANDLE_HMI, &[]), rc::SUCCESS);
    f.put64(BUF, 0xdead);
    assert_eq!(call(&mut f, token::HANDLE_HMI2, &[BUF]), rc::SUCCESS);
    assert_eq!(f.get64(BUF), 0);
}

#[test]
fn nvram_bounds_and_contents() {
    let mut f = Fake::new();
    f.put(BUF, b"oxiboot!");
    assert_eq!(call(&mut f, token::WRITE_NVRAM, &[BUF, 8, 1000]), rc::SUCCESS);
    assert_eq!(&f.nvram[1000..1008], b"oxiboot!");
    assert_eq!(f.nvram_writes, [(1000, 8)]);
    assert_eq!(call(&mut f, token::READ_NVRAM, &[BUF + 0x100, 8, 1000]), rc::SUCCESS);
    assert_eq!(&f.ram[0x1100..0x1108], b"oxiboot!");
    assert_eq!(call(&mut f, token::WRITE_NVRAM, &[BUF, 8, 1020]), rc::PARAMETER);
    assert_eq!(call(&mut f, token::READ_NVRAM, &[BUF, u64::MAX, 1]), rc::PARAMETER);
    assert_eq!(call(&mut f, token::READ_NVRAM, &[OUTSIDE, 8, 0]), rc::PARAMETER);
    // A large read crosses several internal chunks.
    f.nvram.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
    assert_eq!(call(&mut f, token::READ_NVRAM, &[BUF, 1024, 0]), rc::SUCCESS);
    assert!(f.ram[0x1000..0x1400].iter().enumerate().all(|(i, &b)| b == i as u8));
}
