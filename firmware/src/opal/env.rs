//! What OPAL handlers need from the firmware around them.

use super::DateTime;

/// A thread as OPAL_QUERY_CPU_STATUS reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CpuStatus {
    /// Held by the firmware, can be started.
    Inactive = 0,
    /// Handed to the OS.
    Started = 1,
    /// No such thread, or it is broken.
    Unavailable = 2,
}

/// Firmware services behind the OPAL calls.
pub trait OpalEnv {
    /// Copies caller memory at `addr` into `buf`. `false` if any byte is not RAM the caller
    /// may use (firmware memory included). Addresses are as the caller passes them: real
    /// addresses, or linear-map addresses whose top four bits real mode ignores.
    fn read_mem(&mut self, addr: u64, buf: &mut [u8]) -> bool;
    /// Copies `data` to caller memory at real address `addr`; same checks as `read_mem`.
    fn write_mem(&mut self, addr: u64, data: &[u8]) -> bool;

    /// Writes console output; returns how many bytes were taken.
    fn console_write(&mut self, data: &[u8]) -> usize;
    /// Reads available console input into `buf`; returns the count.
    fn console_read(&mut self, buf: &mut [u8]) -> usize;
    /// Whether console input is waiting.
    fn console_input_ready(&mut self) -> bool;

    /// The real-time clock, or `None` if it cannot be read.
    fn rtc_read(&mut self) -> Option<DateTime>;
    /// Sets the real-time clock.
    fn rtc_write(&mut self, t: &DateTime) -> bool;

    /// State of the thread with hardware id `pir`.
    fn cpu_status(&mut self, pir: u32) -> CpuStatus;
    /// Starts the held thread `pir` at real address `entry`.
    fn start_cpu(&mut self, pir: u32, entry: u64) -> bool;
    /// Gives the calling thread back to the firmware (does not return on success).
    fn return_cpu(&mut self) -> i64;
    /// Applies OPAL_REINIT_CPUS flags (already checked) to every thread the firmware can.
    fn reinit_cpus(&mut self, flags: u64) -> i64;

    /// Asks the BMC to power off; `true` if the request was taken.
    fn power_down(&mut self) -> bool;
    /// Asks the BMC to reboot; `true` if the request was taken.
    fn reboot(&mut self) -> bool;

    /// NVRAM size in bytes.
    fn nvram_size(&mut self) -> usize;
    /// Copies NVRAM bytes at `offset` into `buf` (the range is already checked).
    fn nvram_read(&mut self, offset: usize, buf: &mut [u8]);
    /// Stores `data` at NVRAM `offset` (the range is already checked) and persists it.
    fn nvram_write(&mut self, offset: usize, data: &[u8]);

    /// The interrupt controller services, if the firmware brought the controller up.
    fn xive(&mut self) -> Option<&mut dyn super::xive::XiveEnv> {
        None
    }
}
