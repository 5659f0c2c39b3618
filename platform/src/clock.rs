//! Time: the timebase as a clock, deadlines, bounded waits and delays.
//!
//! Every wait on hardware in oxiboot is bounded by a [`Deadline`], so a device that never
//! answers gives an error instead of a hang.

/// A monotonic tick counter.
pub trait Clock {
    /// Current tick count.
    fn ticks(&self) -> u64;
    /// Ticks per second.
    fn frequency(&self) -> u64;
    /// Called in busy-wait loops (lowers SMT priority on hardware).
    fn relax(&self) {}
}

/// Converts microseconds to ticks of a clock running at `freq` Hz (saturating).
pub const fn us_to_ticks(us: u64, freq: u64) -> u64 {
    let ticks = (us as u128) * (freq as u128) / 1_000_000;
    if ticks > u64::MAX as u128 {
        u64::MAX
    } else {
        ticks as u64
    }
}

/// Converts ticks of a clock running at `freq` Hz to microseconds.
pub const fn ticks_to_us(ticks: u64, freq: u64) -> u64 {
    if freq == 0 {
        return 0;
    }
    ((ticks as u128) * 1_000_000 / (freq as u128)) as u64
}

/// A point in time after which a wait gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    end: u64,
}

impl Deadline {
    /// The deadline `us` microseconds from now.
    pub fn after_us<C: Clock + ?Sized>(clock: &C, us: u64) -> Self {
        let end = clock.ticks().saturating_add(us_to_ticks(us, clock.frequency()));
        Self { end }
    }

    /// Whether the deadline has passed.
    pub fn expired<C: Clock + ?Sized>(&self, clock: &C) -> bool {
        clock.ticks() >= self.end
    }
}

/// A bounded wait ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

/// Polls `done` until it returns true or `timeout_us` microseconds pass.
pub fn wait_until<C: Clock + ?Sized>(
    clock: &C,
    timeout_us: u64,
    mut done: impl FnMut() -> bool,
) -> Result<(), TimedOut> {
    let deadline = Deadline::after_us(clock, timeout_us);
    loop {
        if done() {
            return Ok(());
        }
        if deadline.expired(clock) {
            // One last look: the condition may have become true while we were late.
            return if done() { Ok(()) } else { Err(TimedOut) };
        }
        clock.relax();
    }
}

/// Busy-waits for `us` microseconds.
pub fn delay_us<C: Clock + ?Sized>(clock: &C, us: u64) {
    let deadline = Deadline::after_us(clock, us);
    while !deadline.expired(clock) {
        clock.relax();
    }
}

/// The processor timebase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timebase {
    frequency: u64,
}

impl Timebase {
    /// The timebase, ticking at `frequency` Hz (the device tree's `timebase-frequency`).
    pub const fn new(frequency: u64) -> Self {
        Self { frequency }
    }
}

#[cfg(target_arch = "powerpc64")]
impl Clock for Timebase {
    fn ticks(&self) -> u64 {
        crate::cpu::mftb()
    }
    fn frequency(&self) -> u64 {
        self.frequency
    }
    fn relax(&self) {
        crate::cpu::smt_low();
        crate::cpu::smt_medium();
    }
}

/// A clock for tests: every read advances it by a fixed step.
#[cfg(test)]
pub(crate) struct FakeClock {
    pub now: core::cell::Cell<u64>,
    pub step: u64,
    pub freq: u64,
}

#[cfg(test)]
impl Clock for FakeClock {
    fn ticks(&self) -> u64 {
        let t = self.now.get();
        self.now.set(t + self.step);
        t
    }
    fn frequency(&self) -> u64 {
        self.freq
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;

    fn clock() -> FakeClock {
        // 1 MHz, so one tick is one microsecond; each read advances 10 us.
        FakeClock { now: Cell::new(0), step: 10, freq: 1_000_000 }
    }

    #[test]
    fn conversions() {
        assert_eq!(us_to_ticks(1_000_000, 512_000_000), 512_000_000);
        assert_eq!(us_to_ticks(3, 512_000_000), 1536);
        assert_eq!(ticks_to_us(512_000_000, 512_000_000), 1_000_000);
        assert_eq!(ticks_to_us(5, 0), 0);
        assert_eq!(us_to_ticks(u64::MAX, u64::MAX), u64::MAX);
    }

    #[test]
    fn wait_succeeds_when_condition_turns_true() {
        let c = clock();
        let mut polls = 0;
        assert_eq!(
            wait_until(&c, 1000, || {
                polls += 1;
                polls == 5
            }),
            Ok(())
        );
        assert_eq!(polls, 5);
    }

    #[test]
    fn wait_times_out_and_is_bounded() {
        let c = clock();
        let mut polls = 0;
        assert_eq!(
            wait_until(&c, 1000, || {
                polls += 1;
                false
            }),
            Err(TimedOut)
        );
        // 1000 us at 10 us per clock read: about 50 polls (two reads per loop), never unbounded.
        assert!((40..=120).contains(&polls), "polls = {polls}");
    }

    #[test]
    fn delay_waits_at_least_the_time() {
        let c = clock();
        delay_us(&c, 500);
        assert!(c.now.get() >= 500);
    }
}
