//! Power control through the BMC (IPMI Chassis Control over the BT interface), as OpenPOWER
//! firmware does it, and stopping the machine when nothing else is possible.

use super::console;
use log::{error, info};
use oxiboot_platform::bt::BtInterface;
use oxiboot_platform::clock::delay_us;
use oxiboot_platform::cpu;
use oxiboot_platform::ipmi::{ChassisControl, DeviceId, Request};
use oxiboot_platform::mmio::CiByteWindow;
use oxiboot_platform::model::BmcInterface;

/// The BMC's BT interface, once found.
static BMC: spin::Mutex<Option<BtInterface<CiByteWindow>>> = spin::Mutex::new(None);

/// How long the BMC gets to act on a power request before the firmware gives up.
const POWER_ACTION_TIMEOUT_US: u64 = 10_000_000;

/// Sets up the BT interface the device tree describes and asks the BMC who it is.
pub fn attach_bmc(bmc: &BmcInterface) {
    // SAFETY: the device tree describes an IPMI BT interface (3 byte registers) here.
    let window = unsafe { CiByteWindow::new(bmc.mmio, 3) };
    let mut bt = BtInterface::new(window);
    match bt.transact(&console::timebase(), &Request::get_device_id()).map(|r| DeviceId::parse(r.data())) {
        Ok(Ok(id)) => info!(
            "BMC: IPMI {}.{} device {:#04x} rev {}, firmware {}.{:02x}, manufacturer {:#x}, product {:#x}",
            id.ipmi_version & 0xf,
            id.ipmi_version >> 4,
            id.device_id,
            id.revision,
            id.firmware.0,
            id.firmware.1,
            id.manufacturer,
            id.product
        ),
        Ok(Err(e)) => error!("BMC: bad Get Device ID answer: {e}"),
        Err(e) => error!("BMC: no answer on {} (I/O port {:#x}): {e}", bmc.path, bmc.io_port),
    }
    *BMC.lock() = Some(bt);
}

fn chassis(action: ChassisControl, what: &str) -> ! {
    super::LOGGER.flush_console();
    match BMC.lock().as_mut() {
        Some(bt) => {
            if let Err(e) = bt.send(&console::timebase(), &Request::chassis_control(action)) {
                error!("{what}: the BMC did not take the request: {e}");
            } else {
                delay_us(&console::timebase(), POWER_ACTION_TIMEOUT_US);
                error!("{what}: the BMC did not act within {} s", POWER_ACTION_TIMEOUT_US / 1_000_000);
            }
        }
        None => error!("{what}: no BMC interface in the device tree"),
    }
    stop_machine()
}

/// Runs `f` with the BMC's BT interface, if there is one.
pub fn with_bmc<R>(f: impl FnOnce(&mut BtInterface<CiByteWindow>) -> R) -> Option<R> {
    BMC.lock().as_mut().map(f)
}

/// Sends a chassis request without waiting for the BMC to act (OPAL calls return and the
/// OS waits). Returns whether the BMC took it.
fn request(action: ChassisControl) -> bool {
    match BMC.lock().as_mut() {
        Some(bt) => bt.send(&console::timebase(), &Request::chassis_control(action)).is_ok(),
        None => false,
    }
}

/// Asks the BMC to power off (for OPAL_CEC_POWER_DOWN).
pub fn request_power_off() -> bool {
    request(ChassisControl::PowerDown)
}

/// Asks the BMC to reboot (for OPAL_CEC_REBOOT).
pub fn request_reboot() -> bool {
    request(ChassisControl::HardReset)
}

/// Powers the machine off.
pub fn power_off() -> ! {
    info!("Powering off through the BMC");
    chassis(ChassisControl::PowerDown, "power off")
}

/// Reboots the machine (hard reset: the firmware starts again from the top).
pub fn reboot() -> ! {
    info!("Rebooting through the BMC");
    chassis(ChassisControl::HardReset, "reboot")
}

/// Stops the whole machine when the firmware cannot go on (checkstop; QEMU reports a guest
/// panic, which `-action panic=exit-failure` turns into a non-zero exit).
pub fn stop_machine() -> ! {
    super::LOGGER.write_emergency(format_args!("!!! oxiboot stopped the machine\n"));
    super::LOGGER.flush_console();
    cpu::checkstop()
}
