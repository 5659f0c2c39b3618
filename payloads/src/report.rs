//! Reading the `/init` protocol back from a console log: what a test needs to check the lines
//! described in `docs/payloads.md` (marker, `OXITEST` blocks, action, `done`) without
//! re-implementing the grammar.

use crate::init_script::protocol;

/// One block: the result lines of a check or action step and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub name: String,
    /// The text after `OXITEST <name>: `, in order.
    pub lines: Vec<String>,
    /// The status from `OXITEST <name> exit=<n>`; `None` if the console ended before it.
    pub exit: Option<i32>,
}

impl Block {
    /// Whether the block completed with exit status 0.
    pub fn succeeded(&self) -> bool {
        self.exit == Some(0)
    }
}

/// Everything `/init` reported during one boot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootReport {
    /// `OXIBOOT-USERSPACE-OK` was seen.
    pub userspace_ok: bool,
    /// Blocks in the order they appeared.
    pub blocks: Vec<Block>,
    /// From `OXITEST action=<name>`.
    pub action: Option<String>,
    /// From `OXITEST action-unknown=<name>`.
    pub unknown_action: Option<String>,
    /// `OXITEST done` was seen.
    pub done: bool,
}

impl BootReport {
    /// The first block called `name`.
    pub fn block(&self, name: &str) -> Option<&Block> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// The single result line of a block (e.g. `cpus-online` → `0-7`), if it has exactly one.
    pub fn value(&self, name: &str) -> Option<&str> {
        match self.block(name)?.lines.as_slice() {
            [only] => Some(only.as_str()),
            _ => None,
        }
    }
}

/// Splits a console log into boots (each starting at `OXIBOOT-USERSPACE-OK`) and parses each.
/// Lines before the first marker (firmware, kernel) are ignored; `\r` is stripped.
pub fn parse_console(console: &str) -> Vec<BootReport> {
    let mut boots: Vec<BootReport> = Vec::new();
    for raw in console.lines() {
        let line = raw.trim_end_matches('\r');
        if line == protocol::USERSPACE_OK {
            boots.push(BootReport { userspace_ok: true, ..BootReport::default() });
            continue;
        }
        let Some(boot) = boots.last_mut() else { continue };
        let Some(rest) = line.strip_prefix(protocol::PREFIX) else { continue };
        if rest == "done" {
            boot.done = true;
        } else if let Some(name) = rest.strip_prefix("action=") {
            boot.action = Some(name.to_string());
        } else if let Some(name) = rest.strip_prefix("action-unknown=") {
            boot.unknown_action = Some(name.to_string());
        } else if let Some((name, text)) = split_result(rest) {
            open_block(boot, name).lines.push(text.to_string());
        } else if let Some((name, status)) = rest.split_once(" exit=") {
            if let Ok(status) = status.parse() {
                open_block(boot, name).exit = Some(status);
            }
        }
    }
    boots
}

/// `name: text` where name is a protocol name (so `: ` inside text is not mistaken).
fn split_result(rest: &str) -> Option<(&str, &str)> {
    let (name, text) = rest.split_once(": ").or_else(|| rest.strip_suffix(':').map(|n| (n, "")))?;
    let plain =
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    plain.then_some((name, text))
}

/// The block `name` still waiting for its status, or a new one.
fn open_block<'a>(boot: &'a mut BootReport, name: &str) -> &'a mut Block {
    let reuse = boot.blocks.last().is_some_and(|b| b.name == name && b.exit.is_none());
    if !reuse {
        boot.blocks.push(Block { name: name.to_string(), lines: Vec::new(), exit: None });
    }
    let last = boot.blocks.len() - 1;
    &mut boot.blocks[last]
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "[    0.1] OPAL v7.1 starting...\r\n\
OXITEST not-yet: ignored before the marker\r\n\
OXIBOOT-USERSPACE-OK\r\n\
OXITEST uname: Linux (none) 6.12.95 #1 SMP ppc64le GNU/Linux\r\n\
OXITEST uname exit=0\r\n\
OXITEST cpus-online: 0-7\r\n\
OXITEST cpus-online exit=0\r\n\
[    5.0] some kernel line\r\n\
OXITEST interrupts-1:            CPU0       CPU1\r\n\
OXITEST interrupts-1: DBL:        236        237   Doorbell interrupts\r\n\
OXITEST interrupts-1 exit=0\r\n\
OXITEST opal-msglog: absent\r\n\
OXITEST opal-msglog exit=1\r\n\
OXITEST action=nvram-reboot\r\n\
OXITEST nvram-check: missing oxitest=x\r\n\
OXITEST nvram-check exit=1\r\n\
OXITEST nvram-write: wrote oxitest=x at 4112\r\n\
OXITEST nvram-write exit=0\r\n\
OXITEST done\r\n\
OXIBOOT-USERSPACE-OK\r\n\
OXITEST empty-line:\r\n\
OXITEST action=bogus\r\n\
OXITEST action-unknown=bogus\r\n";

    #[test]
    fn parses_boots_blocks_and_actions() {
        let boots = parse_console(LOG);
        assert_eq!(boots.len(), 2);
        let first = &boots[0];
        assert!(first.userspace_ok && first.done);
        assert_eq!(first.action.as_deref(), Some("nvram-reboot"));
        assert_eq!(first.value("cpus-online"), Some("0-7"));
        let irq = first.block("interrupts-1").unwrap();
        assert_eq!(irq.lines.len(), 2);
        assert!(irq.lines[1].starts_with("DBL:"));
        assert!(irq.succeeded());
        assert_eq!(first.block("opal-msglog").unwrap().exit, Some(1));
        assert!(!first.block("nvram-check").unwrap().succeeded());
        assert!(first.block("nvram-write").unwrap().succeeded());
        assert!(first.block("not-yet").is_none());
        let second = &boots[1];
        assert!(!second.done);
        assert_eq!(second.unknown_action.as_deref(), Some("bogus"));
        let empty = second.block("empty-line").unwrap();
        assert_eq!((empty.lines.as_slice(), empty.exit), (&[String::new()][..], None));
    }

    #[test]
    fn text_with_colons_stays_in_the_line() {
        let boots =
            parse_console("OXIBOOT-USERSPACE-OK\nOXITEST date: 2026-11-21T04:05:10Z\nOXITEST date exit=0\n");
        assert_eq!(boots[0].value("date"), Some("2026-11-21T04:05:10Z"));
    }
}
