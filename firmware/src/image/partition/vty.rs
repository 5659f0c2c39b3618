//! The LPARs' consoles: each LPAR's `hvc0` (`H_PUT_TERM_CHAR` / `H_GET_TERM_CHAR` on
//! `/vdevice/vty@30000000`) goes either to a UART of its own or to a virtual terminal
//! multiplexed on the firmware console (lines prefixed, input switched with `Ctrl-]` and a
//! digit; see `oxiboot_hv::lpar::vty`).

use super::lpar::Lpar;
use crate::image::console;
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::format;
use alloc::vec::Vec;
use oxiboot_hv::lpar::vty::{InputRouter, Routed, VtyOutput, Wire};
use oxiboot_platform::mmio::CiByteWindow;
use oxiboot_platform::uart::Ns16550;

/// `reg` of the LPARs' `/vdevice/vty` node, also the terminal number of the hcalls.
pub const VTY_REG: u64 = 0x3000_0000;
/// Most typed bytes kept for an LPAR that does not read them.
const INPUT_MAX: usize = 4096;

/// Where one LPAR's console goes.
enum Route {
    /// A multiplexed virtual terminal: its output side and its input queue.
    Vty { output: Box<VtyOutput>, input: VecDeque<u8>, name: alloc::string::String },
    /// A UART of its own.
    Uart(Ns16550<CiByteWindow>),
}

/// Every console.
struct Consoles {
    routes: Vec<Route>,
    /// Indices of the vty consoles, in focus order.
    vtys: Vec<usize>,
    wire: Wire,
    router: InputRouter,
    /// The firmware console when it is not the UART the log uses.
    other_uart: Option<Ns16550<CiByteWindow>>,
}

static CONSOLES: spin::Mutex<Option<Consoles>> = spin::Mutex::new(None);

/// Description of one console for [`init`].
pub enum ConsoleSpec {
    /// Multiplexed, with this prefix and LPAR name.
    Vty {
        /// Printed before each line.
        prefix: alloc::string::String,
        /// The LPAR's name (for the focus messages).
        name: alloc::string::String,
    },
    /// A UART at this MMIO address.
    Uart {
        /// MMIO address of the UART's registers.
        mmio: u64,
        /// Its input clock.
        clock_hz: u32,
        /// Its speed.
        baud: u32,
    },
}

/// Sets up the consoles, in LPAR order; `firmware_uart` is the firmware console's UART when
/// it differs from the log's.
pub fn init(specs: Vec<ConsoleSpec>, firmware_uart: Option<(u64, u32, u32)>) {
    let mut vtys = Vec::new();
    let routes = specs
        .into_iter()
        .enumerate()
        .map(|(i, spec)| match spec {
            ConsoleSpec::Vty { prefix, name } => {
                vtys.push(i);
                Route::Vty { output: Box::new(VtyOutput::new(i, &prefix)), input: VecDeque::new(), name }
            }
            ConsoleSpec::Uart { mmio, clock_hz, baud } => Route::Uart(open_uart(mmio, clock_hz, baud)),
        })
        .collect();
    let other_uart = firmware_uart.map(|(mmio, clock, baud)| open_uart(mmio, clock, baud));
    let router = InputRouter::new(vtys.len());
    *CONSOLES.lock() = Some(Consoles { routes, vtys, wire: Wire::default(), router, other_uart });
}

fn open_uart(mmio: u64, clock_hz: u32, baud: u32) -> Ns16550<CiByteWindow> {
    // SAFETY: the address is a 16550's registers (8 bytes) from the device tree, checked
    // against the platform model by the configuration re-check.
    let dev = Ns16550::new(unsafe { CiByteWindow::new(mmio, 8) });
    dev.init(clock_hz, baud);
    dev
}

impl Consoles {
    fn firmware_read(&self) -> Option<u8> {
        match &self.other_uart {
            Some(u) => u.get_byte(),
            None => {
                let mut b = [0u8];
                (console::read_raw(&mut b) == 1).then_some(b[0])
            }
        }
    }

    /// Reads what was typed on the firmware console into the vty queues.
    fn drain_input(&mut self) {
        while let Some(byte) = self.firmware_read() {
            match self.router.feed(byte) {
                Routed::Input(vty, b) => {
                    if let Some(Route::Vty { input, .. }) =
                        self.vtys.get(vty).and_then(|&i| self.routes.get_mut(i))
                    {
                        if input.len() < INPUT_MAX {
                            input.push_back(b);
                        }
                    }
                }
                Routed::Focus(vty) => {
                    let name = match self.vtys.get(vty).and_then(|&i| self.routes.get(i)) {
                        Some(Route::Vty { name, .. }) => name.clone(),
                        _ => continue,
                    };
                    let msg = format!("[oxiboot] console input now goes to {} \"{name}\"\r\n", vty + 1);
                    self.announce(msg.as_bytes());
                }
                Routed::Help => {
                    let mut msg = alloc::string::String::from("[oxiboot] Ctrl-] then:\r\n");
                    for (n, &i) in self.vtys.iter().enumerate() {
                        if let Some(Route::Vty { name, .. }) = self.routes.get(i) {
                            msg.push_str(&format!("[oxiboot]   {}  input to \"{name}\"\r\n", n + 1));
                        }
                    }
                    msg.push_str("[oxiboot]   Ctrl-]  a literal Ctrl-]\r\n");
                    self.announce(msg.as_bytes());
                }
                Routed::Nothing => {}
            }
        }
    }

    fn announce(&mut self, msg: &[u8]) {
        let mut wire = self.wire;
        let other = &self.other_uart;
        let mut out = |b: &[u8]| write_firmware(other, b);
        wire.take_over(None, &mut out);
        out(msg);
        self.wire = wire;
    }
}

/// Output of LPAR `lpar`'s `hvc0`.
pub fn put(lpar: &Lpar, bytes: &[u8]) {
    let mut guard = CONSOLES.lock();
    let Some(c) = guard.as_mut() else { return };
    let Consoles { routes, wire, other_uart, .. } = c;
    match routes.get_mut(lpar.console) {
        Some(Route::Uart(u)) => u.write_bytes(bytes),
        Some(Route::Vty { output, .. }) => {
            let mut out = |b: &[u8]| write_firmware(other_uart, b);
            output.write(bytes, wire, &mut out);
        }
        None => {}
    }
}

fn write_firmware(other: &Option<Ns16550<CiByteWindow>>, bytes: &[u8]) {
    match other {
        Some(u) => u.write_bytes(bytes),
        None => {
            let mut rest = bytes;
            while !rest.is_empty() {
                let n = console::write_raw(rest);
                if n == 0 {
                    break;
                }
                rest = &rest[n..];
            }
        }
    }
}

/// Input for LPAR `lpar`'s `hvc0`: fills `buf`, returns how many bytes. A partial output
/// line (a prompt) is shown first.
pub fn get(lpar: &Lpar, buf: &mut [u8]) -> usize {
    let mut guard = CONSOLES.lock();
    let Some(c) = guard.as_mut() else { return 0 };
    if let Some(Route::Uart(u)) = c.routes.get(lpar.console) {
        let mut n = 0;
        while n < buf.len() {
            match u.get_byte() {
                Some(b) => {
                    buf[n] = b;
                    n += 1;
                }
                None => break,
            }
        }
        return n;
    }
    c.drain_input();
    let Consoles { routes, wire, other_uart, .. } = c;
    let Some(Route::Vty { output, input, .. }) = routes.get_mut(lpar.console) else { return 0 };
    if output.has_partial_line() {
        let mut out = |b: &[u8]| write_firmware(other_uart, b);
        output.flush(wire, &mut out);
    }
    let mut n = 0;
    while n < buf.len() {
        match input.pop_front() {
            Some(b) => {
                buf[n] = b;
                n += 1;
            }
            None => break,
        }
    }
    n
}

/// An LPAR stopped: its partial line is ended, its typed input dropped.
pub fn lpar_stopped(console: usize) {
    let mut guard = CONSOLES.lock();
    let Some(c) = guard.as_mut() else { return };
    let Consoles { routes, wire, other_uart, .. } = c;
    if let Some(Route::Vty { output, input, .. }) = routes.get_mut(console) {
        if output.has_partial_line() {
            let mut out = |b: &[u8]| write_firmware(other_uart, b);
            output.write(b"\r\n", wire, &mut out);
        }
        input.clear();
    }
}
