//! The firmware console (the LPC UART the device tree names) and the log's time stamps.

use super::LOGGER;
use core::sync::atomic::{AtomicU64, Ordering};
use oxiboot::logger::Console;
use oxiboot_platform::clock::{ticks_to_us, Timebase};
use oxiboot_platform::cpu;
use oxiboot_platform::mmio::CiByteWindow;
use oxiboot_platform::model::{LpcIoDevice, Uart};
use oxiboot_platform::rtc::Mc146818;
use oxiboot_platform::uart::Ns16550;

/// The console: a 16550 on the LPC bus.
struct UartConsole(Ns16550<CiByteWindow>);

impl Console for UartConsole {
    fn write(&self, bytes: &[u8]) {
        self.0.write_bytes(bytes);
    }

    fn flush(&self) {
        self.0.drain();
    }
}

static UART_CONSOLE: spin::Once<UartConsole> = spin::Once::new();
/// Serialises raw console access (OPAL console calls from several threads).
static UART_LOCK: spin::Mutex<()> = spin::Mutex::new(());
/// The real-time clock.
static RTC: spin::Once<Mc146818<CiByteWindow>> = spin::Once::new();

/// Writes bytes to the console UART as they are (the OS's console output); returns how
/// many were taken (0 without a console).
pub fn write_raw(data: &[u8]) -> usize {
    let Some(c) = UART_CONSOLE.get() else { return 0 };
    let _guard = UART_LOCK.lock();
    data.iter().take_while(|&&b| c.0.put_byte(b)).count()
}

/// Reads waiting console input.
pub fn read_raw(buf: &mut [u8]) -> usize {
    let Some(c) = UART_CONSOLE.get() else { return 0 };
    let _guard = UART_LOCK.lock();
    let mut n = 0;
    while n < buf.len() {
        match c.0.get_byte() {
            Some(b) => {
                buf[n] = b;
                n += 1;
            }
            None => break,
        }
    }
    n
}

/// Whether console input is waiting.
pub fn input_ready() -> bool {
    UART_CONSOLE.get().is_some_and(|c| c.0.input_ready())
}

/// Sets up the real-time clock the device tree describes.
pub fn attach_rtc(dev: &LpcIoDevice) {
    // SAFETY: the device tree describes an MC146818 (index and data ports) here.
    let window = unsafe { CiByteWindow::new(dev.mmio, 2) };
    RTC.call_once(|| Mc146818::new(window));
}

/// The real-time clock, if there is one.
pub fn rtc() -> Option<&'static Mc146818<CiByteWindow>> {
    RTC.get()
}

/// Programs the UART and makes it the log's console (replaying what was logged so far).
/// Returns false if nothing answers at its address.
pub fn attach(uart: &Uart) -> bool {
    // SAFETY: the device tree describes a 16550 (8 byte registers) at this address.
    let window = unsafe { CiByteWindow::new(uart.mmio, 8) };
    let dev = Ns16550::new(window);
    if !dev.present() {
        return false;
    }
    dev.init(uart.clock_hz, uart.baud);
    let console = UART_CONSOLE.call_once(|| UartConsole(dev));
    LOGGER.attach_console(console);
    true
}

/// Timebase value at boot.
static BOOT_TB: AtomicU64 = AtomicU64::new(0);
/// Timebase frequency; POWER9's 512 MHz until the device tree says otherwise.
static TB_HZ: AtomicU64 = AtomicU64::new(512_000_000);

/// Starts the log's clock at the current timebase value.
pub fn start_clock() {
    BOOT_TB.store(cpu::mftb(), Ordering::Relaxed);
    LOGGER.set_clock(uptime_us);
}

/// Records the timebase frequency the device tree gives.
pub fn set_timebase_hz(hz: u64) {
    TB_HZ.store(hz, Ordering::Relaxed);
}

/// Microseconds since the firmware started.
pub fn uptime_us() -> u64 {
    let ticks = cpu::mftb().wrapping_sub(BOOT_TB.load(Ordering::Relaxed));
    ticks_to_us(ticks, TB_HZ.load(Ordering::Relaxed))
}

/// The timebase as a clock.
pub fn timebase() -> Timebase {
    Timebase::new(TB_HZ.load(Ordering::Relaxed))
}
