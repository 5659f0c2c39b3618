//! The `log` crate backend: every record goes to the log ring and, once one is attached,
//! to the console (the LPC UART), as `[seconds.micros] LEVEL message`.
//!
//! Early messages (before the UART is known) are kept in the ring and replayed to the
//! console when it is attached.

use crate::log_ring::LogRing;
use core::fmt::{self, Write};

/// Where console output goes.
pub trait Console: Sync {
    /// Writes bytes (may translate `\n` to `\r\n`).
    fn write(&self, bytes: &[u8]);
    /// Waits until what was written has left the device (before the machine stops).
    fn flush(&self) {}
}

/// Size of the firmware's log ring.
pub const LOG_RING_SIZE: usize = 64 * 1024;

struct Sinks<const N: usize> {
    ring: LogRing<N>,
    console: Option<&'static dyn Console>,
    /// Told the ring's write position after every write (keeps a memory-console
    /// descriptor current for the OS).
    observer: Option<fn(usize, bool)>,
}

impl<const N: usize> Write for Sinks<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.ring.write(s.as_bytes());
        if let Some(f) = self.observer {
            f(self.ring.out_pos(), self.ring.wrapped());
        }
        if let Some(c) = self.console {
            c.write(s.as_bytes());
        }
        Ok(())
    }
}

/// The logger; one static instance serves all threads.
pub struct Logger<const N: usize> {
    sinks: spin::Mutex<Sinks<N>>,
    clock_us: spin::Once<fn() -> u64>,
}

impl<const N: usize> Logger<N> {
    /// A logger with an empty ring and no console.
    pub const fn new() -> Self {
        Self {
            sinks: spin::Mutex::new(Sinks { ring: LogRing::new(), console: None, observer: None }),
            clock_us: spin::Once::new(),
        }
    }

    /// Sets the time source for the timestamps (microseconds since boot).
    pub fn set_clock(&self, clock_us: fn() -> u64) {
        self.clock_us.call_once(|| clock_us);
    }

    /// Attaches the console and replays what the ring holds to it.
    pub fn attach_console(&self, console: &'static dyn Console) {
        let mut s = self.sinks.lock();
        let (a, b) = s.ring.as_slices();
        console.write(a);
        console.write(b);
        s.console = Some(console);
    }

    /// Sets the function told the ring's write position (and whether it wrapped) after every
    /// write, and tells it the current one.
    pub fn set_ring_observer(&self, f: fn(usize, bool)) {
        let mut s = self.sinks.lock();
        f(s.ring.out_pos(), s.ring.wrapped());
        s.observer = Some(f);
    }

    /// Detaches the console (output then only goes to the ring), e.g. when the OS takes
    /// over the UART.
    pub fn detach_console(&self) {
        self.sinks.lock().console = None;
    }

    /// Whether a console is attached.
    pub fn has_console(&self) -> bool {
        self.sinks.lock().console.is_some()
    }

    /// Writes text as is (no prefix) to the ring and console.
    pub fn write_raw(&self, args: fmt::Arguments<'_>) {
        let _ = self.sinks.lock().write_fmt(args);
    }

    /// Like [`Logger::write_raw`], for paths that may have interrupted a holder of the lock
    /// (exception and panic reports): waits a bounded time, then takes the lock anyway.
    pub fn write_emergency(&self, args: fmt::Arguments<'_>) {
        for _ in 0..1_000_000 {
            if let Some(mut s) = self.sinks.try_lock() {
                let _ = s.write_fmt(args);
                return;
            }
            core::hint::spin_loop();
        }
        // SAFETY: the holder is stuck (it is this thread, interrupted, or a dead thread);
        // printing the report matters more than the interleaving this may cause.
        unsafe { self.sinks.force_unlock() };
        let _ = self.sinks.lock().write_fmt(args);
    }

    /// Waits until the console has sent everything written so far (see [`Console::flush`]).
    pub fn flush_console(&self) {
        if let Some(c) = self.sinks.try_lock().and_then(|s| s.console) {
            c.flush();
        }
    }

    /// Runs `f` on the ring (e.g. to export or inspect it).
    pub fn with_ring<R>(&self, f: impl FnOnce(&LogRing<N>) -> R) -> R {
        f(&self.sinks.lock().ring)
    }

    fn now_us(&self) -> u64 {
        self.clock_us.get().map_or(0, |f| f())
    }
}

impl<const N: usize> Default for Logger<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes the `[seconds.micros] LEVEL ` prefix of a log line.
pub fn write_prefix(out: &mut impl Write, us: u64, level: log::Level) -> fmt::Result {
    write!(out, "[{:5}.{:06}] {:<5} ", us / 1_000_000, us % 1_000_000, level.as_str())
}

impl<const N: usize> log::Log for Logger<N> {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let us = self.now_us();
        let mut s = self.sinks.lock();
        let _ = write_prefix(&mut *s, us, record.level());
        let _ = writeln!(s, "{}", record.args());
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use log::Log;
    use std::string::String;
    use std::sync::Mutex;

    struct Capture(Mutex<String>);
    impl Console for Capture {
        fn write(&self, bytes: &[u8]) {
            self.0.lock().unwrap().push_str(core::str::from_utf8(bytes).unwrap());
        }
    }

    fn ring_text<const N: usize>(l: &Logger<N>) -> String {
        l.with_ring(|r| {
            let (a, b) = r.as_slices();
            String::from_utf8([a, b].concat()).unwrap()
        })
    }

    #[test]
    fn prefix_format() {
        let mut s = String::new();
        write_prefix(&mut s, 12_345_678, log::Level::Info).unwrap();
        assert_eq!(s, "[   12.345678] INFO  ");
    }

    #[test]
    fn early_lines_are_replayed_to_the_console() {
        log::set_max_level(log::LevelFilter::Info);
        let logger: &'static Logger<1024> = Box::leak(Box::new(Logger::new()));
        logger.set_clock(|| 1_500_000);
        logger.log(&log::Record::builder().level(log::Level::Info).args(format_args!("early")).build());
        logger.log(&log::Record::builder().level(log::Level::Debug).args(format_args!("hidden")).build());
        let console: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(String::new()))));
        logger.attach_console(console);
        logger.log(&log::Record::builder().level(log::Level::Warn).args(format_args!("late {}", 7)).build());
        logger.write_emergency(format_args!("raw\n"));
        let expected = "[    1.500000] INFO  early\n[    1.500000] WARN  late 7\nraw\n";
        assert_eq!(*console.0.lock().unwrap(), expected);
        assert_eq!(ring_text(logger), expected);
    }
}
