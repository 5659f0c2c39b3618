//! Encodes the L2 guest programs: a few Power ISA instructions, little-endian (the guests run
//! with MSR[LE] set), in real mode at guest physical address 0.

/// Hcall numbers the guests use to report to the test (not PAPR hcalls: KVM passes unknown
/// hcalls to user space as `KVM_EXIT_PAPR_HCALL`).
pub mod report {
    /// "Here are r4..r12" (the register test).
    pub const REGISTERS: u64 = 0x7000;
    /// "Here is the value you returned in r3".
    pub const ECHO: u64 = 0x7004;
    /// "I wrote r4 pages".
    pub const PAGES: u64 = 0x7008;
    /// "I read r4 from the remapped page".
    pub const READ: u64 = 0x700c;
    /// "I am vCPU r4".
    pub const VCPU: u64 = 0x7010;
}

/// A guest program being assembled.
#[derive(Debug, Clone)]
pub struct Program {
    words: [u32; 64],
    len: usize,
}

/// Guest address of the first instruction.
pub const ENTRY: u64 = 0;

impl Default for Program {
    fn default() -> Self {
        Self::new()
    }
}

impl Program {
    /// An empty program.
    pub const fn new() -> Self {
        Program { words: [0; 64], len: 0 }
    }

    fn push(&mut self, word: u32) -> &mut Self {
        assert!(self.len < self.words.len(), "guest program too long");
        self.words[self.len] = word;
        self.len += 1;
        self
    }

    /// Byte offset of the next instruction (a branch target).
    pub fn here(&self) -> usize {
        self.len * 4
    }

    /// `li rd, imm` (addi rd, 0, imm).
    pub fn li(&mut self, rd: u32, imm: i16) -> &mut Self {
        self.push((14 << 26) | (rd << 21) | u32::from(imm as u16))
    }

    /// `lis rd, imm` (addis rd, 0, imm).
    pub fn lis(&mut self, rd: u32, imm: u16) -> &mut Self {
        self.push((15 << 26) | (rd << 21) | u32::from(imm))
    }

    /// `addi rd, ra, imm`.
    pub fn addi(&mut self, rd: u32, ra: u32, imm: i16) -> &mut Self {
        self.push((14 << 26) | (rd << 21) | (ra << 16) | u32::from(imm as u16))
    }

    /// `std rs, ds(ra)` (ds a multiple of 4).
    pub fn std(&mut self, rs: u32, ds: i16, ra: u32) -> &mut Self {
        self.push((62 << 26) | (rs << 21) | (ra << 16) | (u32::from(ds as u16) & 0xfffc))
    }

    /// `ld rd, ds(ra)` (ds a multiple of 4).
    pub fn ld(&mut self, rd: u32, ds: i16, ra: u32) -> &mut Self {
        self.push((58 << 26) | (rd << 21) | (ra << 16) | (u32::from(ds as u16) & 0xfffc))
    }

    /// `mr ra, rs` (or ra, rs, rs).
    pub fn mr(&mut self, ra: u32, rs: u32) -> &mut Self {
        self.push((31 << 26) | (rs << 21) | (ra << 16) | (rs << 11) | (444 << 1))
    }

    /// `mtctr rs`.
    pub fn mtctr(&mut self, rs: u32) -> &mut Self {
        self.push(0x7c09_03a6 | (rs << 21))
    }

    /// `bdnz target` (decrement CTR, branch while non-zero), `target` a byte offset.
    pub fn bdnz(&mut self, target: usize) -> &mut Self {
        let off = (target as i64 - self.here() as i64) as u32;
        self.push((16 << 26) | (16 << 21) | (off & 0xfffc))
    }

    /// `b target`, `target` a byte offset.
    pub fn b(&mut self, target: usize) -> &mut Self {
        let off = (target as i64 - self.here() as i64) as u32;
        self.push((18 << 26) | (off & 0x03ff_fffc))
    }

    /// `sc 1`: a hypervisor call, here to the L1 (r3 = number, r4.. = arguments).
    pub fn hcall(&mut self) -> &mut Self {
        self.push(0x4400_0022)
    }

    /// `li r3, number; sc 1`.
    pub fn report(&mut self, number: u64) -> &mut Self {
        self.li(3, number as i16).hcall()
    }

    /// The program as little-endian bytes.
    pub fn bytes(&self, out: &mut [u8]) -> usize {
        for (i, w) in self.words[..self.len].iter().enumerate() {
            out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
        }
        self.len * 4
    }
}

/// r4..r12 = 0x104..0x10c, report them, then echo what r3 came back with, then spin.
pub fn registers() -> Program {
    let mut p = Program::new();
    for r in 4..=12 {
        p.li(r, 0x100 + r as i16);
    }
    p.report(report::REGISTERS).mr(4, 3).report(report::ECHO);
    let spin = p.here();
    p.b(spin);
    p
}

/// Writes its index into the first doubleword of `count` 4 KiB pages from `base`
/// (64 KiB aligned, below 2 GiB), then reports how many it wrote.
pub fn pages(base: u32, count: u16) -> Program {
    let mut p = Program::new();
    p.lis(5, (base >> 16) as u16).li(6, count as i16).mtctr(6).li(7, 0);
    let top = p.here();
    p.std(7, 0, 5).addi(7, 7, 1).addi(5, 5, 0x1000).bdnz(top);
    p.mr(4, 7).report(report::PAGES);
    let spin = p.here();
    p.b(spin);
    p
}

/// Reads the doubleword at `addr` (64 KiB aligned, below 2 GiB) and reports it, forever.
pub fn reader(addr: u32) -> Program {
    let mut p = Program::new();
    p.lis(5, (addr >> 16) as u16);
    let top = p.here();
    p.ld(4, 0, 5).report(report::READ).b(top);
    p
}

/// Counts in r7 and stores the count at `addr` (64 KiB aligned) forever, never exiting by
/// itself: only a timer or signal brings the vCPU back to the test.
pub fn spinner(addr: u32) -> Program {
    let mut p = Program::new();
    p.lis(5, (addr >> 16) as u16).li(7, 0);
    let top = p.here();
    p.addi(7, 7, 1).std(7, 0, 5).b(top);
    p
}

/// Stores r4 (preset per vCPU) at r5 (preset), then reports r4, forever.
pub fn vcpu_id() -> Program {
    let mut p = Program::new();
    let top = p.here();
    p.std(4, 0, 5).report(report::VCPU).b(top);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(p: &Program) -> Vec<u32> {
        let mut b = [0u8; 256];
        let n = p.bytes(&mut b);
        b[..n].chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect()
    }

    #[test]
    fn encodings_match_the_assembler() {
        // Power ISA encodings: primary opcode in the top 6 bits, then the register fields.
        let mut p = Program::new();
        p.li(3, 0x7000).lis(5, 0x10).addi(5, 5, 0x1000).std(7, 0, 5).ld(4, 8, 5).mr(4, 3).mtctr(6).hcall();
        assert_eq!(
            words(&p),
            [
                0x3860_7000,
                0x3ca0_0010,
                0x38a5_1000,
                0xf8e5_0000,
                0xe885_0008,
                0x7c64_1b78,
                0x7cc9_03a6,
                0x4400_0022
            ]
        );
    }

    #[test]
    fn branches_are_relative() {
        let mut p = Program::new();
        p.li(3, 0);
        p.b(0);
        p.bdnz(0);
        let w = words(&p);
        assert_eq!(w[1], 0x4bff_fffc); // b .-4
        assert_eq!(w[2], 0x4200_fff8); // bdnz .-8
        let mut q = Program::new();
        q.b(q.here());
        assert_eq!(words(&q), [0x4800_0000]); // b .
    }

    #[test]
    fn programs_end_in_a_loop_or_a_report() {
        let r = words(&registers());
        assert_eq!(r[9], 0x3860_7000);
        assert_eq!(r[10], 0x4400_0022);
        assert_eq!(*r.last().unwrap(), 0x4800_0000);
        let p = words(&pages(0x10_0000, 256));
        assert_eq!(p[0], 0x3ca0_0010);
        assert_eq!(p[1], 0x38c0_0100);
        assert_eq!(words(&reader(0x80_0000))[0], 0x3ca0_0080);
    }
}
