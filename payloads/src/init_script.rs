//! The `/init` of the test initramfs: a busybox `sh` script generated from a list of *checks*
//! (commands whose output becomes `OXITEST` lines) and *actions* (what to do at the end,
//! chosen with `oxitest.action=` on the kernel command line). The protocol — the lines a test
//! can rely on — is specified in `docs/payloads.md`; [`protocol`] holds its fixed strings.
//!
//! Later work adds checks and actions (e.g. in-LPAR KVM tests) with [`InitScript::add_check`]
//! and [`InitScript::add_action`]; the standard set is [`InitScript::standard`].

use crate::Error;

/// The fixed strings of the `/init` protocol.
pub mod protocol {
    /// Printed once the pseudo file systems are mounted: user space runs.
    pub const USERSPACE_OK: &str = "OXIBOOT-USERSPACE-OK";
    /// Prefix of every result line.
    pub const PREFIX: &str = "OXITEST ";
    /// Printed right before the final power off or reboot.
    pub const DONE: &str = "OXITEST done";
    /// Kernel command-line parameter that selects the action.
    pub const ACTION_PARAM: &str = "oxitest.action";
    /// Kernel command-line parameter with the NVRAM marker (default [`DEFAULT_NVRAM_MARKER`]).
    pub const NVRAM_MARKER_PARAM: &str = "oxitest.nvram-marker";
    /// Marker written by `nvram-write` when no `oxitest.nvram-marker=` is given.
    pub const DEFAULT_NVRAM_MARKER: &str = "oxiboot";
    /// The action taken when the command line names none.
    pub const DEFAULT_ACTION: &str = "poweroff";
}

/// How the machine is left once the action has run (the action may change it by assigning
/// `oxitest_finish=poweroff|reboot`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// `poweroff -f`.
    PowerOff,
    /// `reboot -f`.
    Reboot,
}

impl Finish {
    fn shell_word(self) -> &'static str {
        match self {
            Finish::PowerOff => "poweroff",
            Finish::Reboot => "reboot",
        }
    }
}

/// A check: shell commands whose output (stdout and stderr) becomes `OXITEST <name>: <line>`
/// lines, followed by `OXITEST <name> exit=<status>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub script: String,
}

/// An action selected by `oxitest.action=<name>`: shell commands, then `OXITEST done` and the
/// finish (power off unless the commands set `oxitest_finish`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub name: String,
    pub script: String,
    pub finish: Finish,
}

/// The whole `/init`: checks run in order, then the selected action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitScript {
    checks: Vec<Check>,
    actions: Vec<Action>,
}

/// Shell functions every script has; checks and actions may use them.
const HELPERS: &str = include_str!("init_helpers.sh");

impl InitScript {
    /// No checks and only the `poweroff` action.
    pub fn empty() -> Self {
        let mut script = InitScript { checks: Vec::new(), actions: Vec::new() };
        script.push_action(protocol::DEFAULT_ACTION, ":", Finish::PowerOff);
        script
    }

    /// The standard checks and actions documented in `docs/payloads.md`.
    pub fn standard() -> Self {
        let mut s = Self::empty();
        let checks: [(&str, &str); 16] = [
            ("timebase", "cat /sys/devices/system/cpu/cpu0/purr"),
            ("uname", "uname -a"),
            ("cmdline", "cat /proc/cmdline"),
            ("cpuinfo-processors", "grep -c ^processor /proc/cpuinfo"),
            ("cpus-online", "cat /sys/devices/system/cpu/online"),
            ("cpus-possible", "cat /sys/devices/system/cpu/possible"),
            ("meminfo", "grep -E '^(MemTotal|MemFree):' /proc/meminfo"),
            ("partition-name", "oxitest_dt_string ibm,partition-name"),
            ("partition-number", "od -A n -t x1 /proc/device-tree/ibm,partition-no"),
            ("interrupts-1", "cat /proc/interrupts"),
            ("interrupts-2", "oxitest_wake_every_cpu && sleep 1 && cat /proc/interrupts"),
            ("date", "date -u '+%Y-%m-%dT%H:%M:%SZ'"),
            ("rtc", "oxitest_within 10 hwclock -r -u"),
            ("opal-msglog", "oxitest_msglog 20"),
            ("nvram-size", "oxitest_nvram_size"),
            ("nvram-partitions", "oxitest_nvram_partitions"),
        ];
        for (name, script) in checks {
            s.checks.push(Check { name: name.into(), script: script.into() });
        }
        let actions: [(&str, &str, Finish); 6] = [
            ("reboot", ":", Finish::Reboot),
            (
                "lpar-host",
                "oxitest_run isolation oxitest_isolation_probe \"$(oxitest_param probe)\"\n\
                 oxitest_run after-isolation echo still running\n\
                 sleep \"$(oxitest_param alive-seconds 10)\"\n\
                 oxitest_run alive cat /proc/uptime",
                Finish::PowerOff,
            ),
            ("shell", "busybox --install -s /bin\nsetsid cttyhack sh -l", Finish::PowerOff),
            (
                "nvram-write",
                "oxitest_run nvram-write oxitest_nvram_write \"$(oxitest_nvram_marker)\"",
                Finish::PowerOff,
            ),
            (
                "nvram-check",
                "oxitest_run nvram-check oxitest_nvram_check \"$(oxitest_nvram_marker)\"",
                Finish::PowerOff,
            ),
            (
                "nvram-reboot",
                "if oxitest_run nvram-check oxitest_nvram_check \"$(oxitest_nvram_marker)\"; then\n\
                 \x20   :\n\
                 elif oxitest_run nvram-write oxitest_nvram_write \"$(oxitest_nvram_marker)\"; then\n\
                 \x20   oxitest_finish=reboot\n\
                 fi",
                Finish::PowerOff,
            ),
        ];
        for (name, script, finish) in actions {
            s.push_action(name, script, finish);
        }
        s
    }

    /// The checks, in the order they run.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// The actions (the first is the default, `poweroff`).
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// Appends a check. Names are lower-case letters, digits and `-`, unique among checks.
    pub fn add_check(&mut self, name: &str, script: &str) -> Result<(), Error> {
        check_name(name)?;
        if self.checks.iter().any(|c| c.name == name) {
            return Err(Error::Spec(format!("check {name:?} defined twice")));
        }
        check_body(name, script)?;
        self.checks.push(Check { name: name.into(), script: script.into() });
        Ok(())
    }

    /// Adds an action selectable with `oxitest.action=<name>`.
    pub fn add_action(&mut self, name: &str, script: &str, finish: Finish) -> Result<(), Error> {
        check_name(name)?;
        if self.actions.iter().any(|a| a.name == name) {
            return Err(Error::Spec(format!("action {name:?} defined twice")));
        }
        check_body(name, script)?;
        self.push_action(name, script, finish);
        Ok(())
    }

    fn push_action(&mut self, name: &str, script: &str, finish: Finish) {
        self.actions.push(Action { name: name.into(), script: script.into(), finish });
    }

    /// The script text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "#!/bin/sh\n\
             # /init of the oxiboot test initramfs, generated by oxiboot-payloads.\n\
             # The output protocol (OXIBOOT-USERSPACE-OK, OXITEST lines) is in docs/payloads.md.\n\
             export PATH=/bin\n\
             mount -t proc proc /proc\n\
             mount -t sysfs sysfs /sys\n\
             mount -t devtmpfs devtmpfs /dev\n\
             mkdir -p /tmp\n",
        );
        out.push_str(&format!("echo {}\n\n", protocol::USERSPACE_OK));
        out.push_str(HELPERS);
        out.push('\n');
        for (index, check) in self.checks.iter().enumerate() {
            out.push_str(&format!("oxitest_check_{index}() {{\n{}\n}}\n", indent(&check.script)));
            out.push_str(&format!("oxitest_run {} oxitest_check_{index}\n\n", check.name));
        }
        out.push_str(&format!(
            "oxitest_action=$(oxitest_param action {})\n\
             echo \"OXITEST action=$oxitest_action\"\n\
             case \"$oxitest_action\" in\n",
            protocol::DEFAULT_ACTION
        ));
        for action in &self.actions {
            out.push_str(&format!(
                "{}) oxitest_finish={}\n{}\n    ;;\n",
                action.name,
                action.finish.shell_word(),
                indent(&action.script)
            ));
        }
        out.push_str(
            "*) echo \"OXITEST action-unknown=$oxitest_action\"\n    oxitest_finish=poweroff\n    ;;\nesac\n\n",
        );
        out.push_str(&format!("echo \"{}\"\n", protocol::DONE));
        out.push_str(
            "if [ \"$oxitest_finish\" = reboot ]; then\n\
             \x20   reboot -f\n\
             \x20   echo b > /proc/sysrq-trigger\n\
             else\n\
             \x20   poweroff -f\n\
             \x20   echo o > /proc/sysrq-trigger\n\
             fi\n\
             # Still here: keep init alive rather than panic the kernel.\n\
             while :; do sleep 3600; done\n",
        );
        out
    }
}

fn indent(script: &str) -> String {
    script
        .lines()
        .map(|l| if l.is_empty() { String::new() } else { format!("    {l}") })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Names that would make `OXITEST <name> …` lines ambiguous with the protocol's own lines.
const RESERVED_NAMES: &[&str] = &["action", "action-unknown", "done"];

/// Names end up in `case` patterns and `OXITEST <name>` lines: keep them plain.
fn check_name(name: &str) -> Result<(), Error> {
    let ok = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        return Err(Error::Spec(format!("name {name:?}: use lower-case letters, digits and '-'")));
    }
    if RESERVED_NAMES.contains(&name) {
        return Err(Error::Spec(format!("name {name:?} is reserved by the protocol")));
    }
    Ok(())
}

/// A body must contain a command (an empty shell function is a syntax error).
fn check_body(name: &str, script: &str) -> Result<(), Error> {
    if script.trim().is_empty() {
        Err(Error::Spec(format!("{name}: empty script (use ':' for no commands)")))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_script_has_the_protocol_in_order() {
        let text = InitScript::standard().render();
        assert!(text.starts_with("#!/bin/sh\n"));
        let position = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("{needle:?} missing"));
        let mounts = position("mount -t devtmpfs devtmpfs /dev");
        let marker = position("echo OXIBOOT-USERSPACE-OK");
        let first_check = position("oxitest_run uname ");
        let interrupts_1 = position("oxitest_run interrupts-1 ");
        let interrupts_2 = position("oxitest_run interrupts-2 ");
        let action = position("oxitest_action=$(oxitest_param action poweroff)");
        let done = position("echo \"OXITEST done\"");
        let poweroff = position("poweroff -f");
        assert!(mounts < marker && marker < first_check && first_check < interrupts_1);
        assert!(interrupts_1 < interrupts_2 && interrupts_2 < action && action < done && done < poweroff);
        assert!(text.contains("sleep 1 && cat /proc/interrupts"));
        assert!(text.contains("grep -c ^processor /proc/cpuinfo"));
        assert!(text.contains("cat /sys/devices/system/cpu/online"));
        for action in ["poweroff", "reboot", "shell", "nvram-write", "nvram-check", "nvram-reboot"] {
            assert!(text.contains(&format!("\n{action}) oxitest_finish=")), "{action}");
        }
        assert!(text.contains("reboot) oxitest_finish=reboot\n"));
        assert!(text.contains("*) echo \"OXITEST action-unknown=$oxitest_action\""));
    }

    #[test]
    fn every_check_runs_once_through_oxitest_run() {
        let script = InitScript::standard();
        let text = script.render();
        for check in script.checks() {
            assert_eq!(text.matches(&format!("oxitest_run {} ", check.name)).count(), 1, "{}", check.name);
        }
    }

    #[test]
    fn extending_with_checks_and_actions() {
        let mut s = InitScript::standard();
        s.add_check("kvm-device", "ls -l /dev/kvm").unwrap();
        s.add_action("kvm-guest", "echo start\noxitest_finish=reboot", Finish::PowerOff).unwrap();
        let text = s.render();
        let check = text.find("oxitest_run kvm-device ").unwrap();
        assert!(check < text.find("oxitest_action=").unwrap());
        assert!(text.contains(
            "kvm-guest) oxitest_finish=poweroff\n    echo start\n    oxitest_finish=reboot\n    ;;"
        ));
        assert!(s.add_check("kvm-device", "true").is_err());
        assert!(s.add_action("reboot", "true", Finish::Reboot).is_err());
        assert!(s.add_check("Bad Name", "true").is_err());
        assert!(s.add_check("x)y", "true").is_err());
        assert!(s.add_check("-x", "true").is_err());
        assert!(s.add_check("done", "true").is_err());
        assert!(s.add_action("action", "true", Finish::PowerOff).is_err());
        assert!(s.add_action("empty", "  \n", Finish::PowerOff).is_err());
    }

    #[test]
    fn empty_script_still_powers_off() {
        let text = InitScript::empty().render();
        assert!(text.contains("poweroff) oxitest_finish=poweroff\n    :\n"));
        assert!(!text.contains("oxitest_check_"));
        assert!(text.contains("echo \"OXITEST done\""));
    }

    #[test]
    fn helpers_define_what_checks_use() {
        for function in [
            "oxitest_param()",
            "oxitest_run()",
            "oxitest_within()",
            "oxitest_msglog()",
            "oxitest_nvram_size()",
            "oxitest_nvram_partitions()",
            "oxitest_nvram_write()",
            "oxitest_nvram_check()",
            "oxitest_nvram_marker()",
        ] {
            assert!(HELPERS.contains(function), "{function}");
        }
    }

    /// Runs `oxitest_within` in the host's `sh`: a quick command gives its own status, one
    /// that outlives the bound gives 124 at the bound, without waiting for it.
    #[test]
    fn within_bounds_a_command_that_does_not_finish() {
        let run = |body: &str| {
            let script = format!("{HELPERS}\n{body}");
            let started = std::time::Instant::now();
            let out = std::process::Command::new("sh").args(["-c", &script]).output().expect("sh runs");
            (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), started.elapsed())
        };
        let (status, stdout, _) = run("oxitest_within 5 sh -c 'echo quick; exit 3'");
        assert_eq!((status, stdout.as_str()), (Some(3), "quick\n"));
        // The stuck command keeps its output open, so it goes elsewhere: the test reads to the end.
        let (status, stdout, took) = run("oxitest_within 1 sleep 30 > /dev/null 2>&1");
        assert_eq!(status, Some(124));
        assert_eq!(stdout, "");
        assert!(took < std::time::Duration::from_secs(20), "{took:?}");
        let (status, stdout, _) = run("oxitest_within 1 sleep 30 > /dev/null 2>&1; echo \"after $?\"");
        assert_eq!((status, stdout.as_str()), (Some(0), "after 124\n"));
    }

    /// Parses the script with the host's `sh -n` (syntax only; nothing runs).
    #[test]
    fn script_is_valid_shell_syntax() {
        let mut s = InitScript::standard();
        s.add_action("x", "echo a\necho b", Finish::Reboot).unwrap();
        let dir = crate::cpio::tests::tempdir("sh-n").unwrap();
        let file = dir.join("init");
        std::fs::write(&file, s.render()).unwrap();
        for shell in ["sh", "bash"] {
            let Ok(out) = std::process::Command::new(shell).arg("-n").arg(&file).output() else {
                continue;
            };
            assert!(out.status.success(), "{shell} -n: {}", String::from_utf8_lossy(&out.stderr));
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
