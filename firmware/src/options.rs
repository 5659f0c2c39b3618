//! Firmware options read from the command line the boot firmware passes
//! (`/chosen/bootargs`, i.e. QEMU's `-append`): tokens of the form `oxiboot.NAME=VALUE`.
//! They are left in place for the payload, which ignores them.
//!
//! | option | values | effect |
//! | --- | --- | --- |
//! | `oxiboot.loglevel` | `error`, `warn`, `info`, `debug`, `trace` | console verbosity (default `info`) |
//! | `oxiboot.selftest` | `reboot`, `trap`, `panic`, `xive` | reboot once then power off; take an unexpected exception; panic; an interrupt to every thread's XIVE queue (used by the tests) |

/// Self-tests the integration tests trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfTest {
    /// Reboot through the BMC; on the boot after, power off.
    Reboot,
    /// Execute an illegal instruction (an unexpected Program or HEA exception).
    Trap,
    /// Panic.
    Panic,
    /// Send an interrupt through the interrupt controller (XIVE) to every thread's event queue
    /// and check that it arrived; then boot on.
    Xive,
}

/// Options that were understood, and the first token that was not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options<'a> {
    /// Console verbosity.
    pub log_level: log::LevelFilter,
    /// Requested self-test.
    pub selftest: Option<SelfTest>,
    /// First `oxiboot.` token that was not understood, to warn about.
    pub unknown: Option<&'a str>,
}

impl<'a> Options<'a> {
    /// Parses the `oxiboot.` tokens of a command line.
    pub fn parse(cmdline: &'a str) -> Self {
        let mut o = Options { log_level: log::LevelFilter::Info, selftest: None, unknown: None };
        for token in cmdline.split_ascii_whitespace() {
            let Some(rest) = token.strip_prefix("oxiboot.") else { continue };
            let (name, value) = rest.split_once('=').unwrap_or((rest, ""));
            let ok = match name {
                "loglevel" => value.parse().map(|l| o.log_level = l).is_ok(),
                "selftest" => {
                    o.selftest = match value {
                        "reboot" => Some(SelfTest::Reboot),
                        "trap" => Some(SelfTest::Trap),
                        "panic" => Some(SelfTest::Panic),
                        "xive" => Some(SelfTest::Xive),
                        _ => None,
                    };
                    o.selftest.is_some()
                }
                _ => false,
            };
            if !ok && o.unknown.is_none() {
                o.unknown = Some(token);
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_options_and_ignores_the_rest() {
        let o = Options::parse("console=hvc0 oxiboot.loglevel=debug root=/dev/sda oxiboot.selftest=reboot");
        assert_eq!(o.log_level, log::LevelFilter::Debug);
        assert_eq!(o.selftest, Some(SelfTest::Reboot));
        assert_eq!(Options::parse("oxiboot.selftest=xive").selftest, Some(SelfTest::Xive));
        assert_eq!(o.unknown, None);
    }

    #[test]
    fn reports_the_first_unknown() {
        let o = Options::parse("oxiboot.selftest=explode oxiboot.colour=blue");
        assert_eq!(o.selftest, None);
        assert_eq!(o.unknown, Some("oxiboot.selftest=explode"));
        assert_eq!(Options::parse("").log_level, log::LevelFilter::Info);
    }
}
