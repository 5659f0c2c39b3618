//! Virtual terminals multiplexed on the firmware console.
//!
//! Output: each LPAR's `hvc0` bytes are gathered into lines; a line goes to the console
//! whole, after the LPAR's prefix, so lines of different LPARs never mix. A partial line (a
//! shell prompt) is sent when the LPAR asks for input; if another writer then needs the
//! console, that partial line is ended first, and the rest of it comes later under the
//! prefix again. Nothing is dropped.
//!
//! Input: bytes typed on the console go to the LPAR that has the focus. `Ctrl-]` followed by
//! a digit `1`–`9` gives the focus to the vty LPAR with that number (in config order);
//! `Ctrl-]` `?` lists them; `Ctrl-]` twice sends one `Ctrl-]`.

use alloc::string::String;

/// Longest line kept before it is sent anyway.
pub const LINE_MAX: usize = 256;
/// The escape byte (`Ctrl-]`).
pub const ESCAPE: u8 = 0x1d;

/// Who has a partial line on the console (shared by all writers of one console).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wire {
    /// The vty whose partial line ends the console's output, if any.
    pub open_line: Option<usize>,
}

impl Wire {
    /// Called before a writer that is not vty `id` (or the firmware log, `None`) sends a
    /// complete line: ends someone else's partial line.
    pub fn take_over(&mut self, id: Option<usize>, out: &mut dyn FnMut(&[u8])) {
        if self.open_line.is_some() && self.open_line != id {
            out(b"\r\n");
            self.open_line = None;
        }
    }
}

/// One LPAR's output side.
#[derive(Debug, Clone)]
pub struct VtyOutput {
    id: usize,
    prefix: String,
    line: [u8; LINE_MAX],
    len: usize,
}

impl VtyOutput {
    /// The output of vty `id`, printed after `prefix`.
    pub fn new(id: usize, prefix: &str) -> Self {
        Self { id, prefix: prefix.into(), line: [0; LINE_MAX], len: 0 }
    }

    /// Takes bytes the LPAR wrote; complete lines go to `out`.
    pub fn write(&mut self, bytes: &[u8], wire: &mut Wire, out: &mut dyn FnMut(&[u8])) {
        for &b in bytes {
            self.line[self.len] = b;
            self.len += 1;
            if b == b'\n' || self.len == LINE_MAX {
                self.emit(b == b'\n', wire, out);
            }
        }
    }

    /// Sends a partial line, if there is one (the LPAR is waiting for input).
    pub fn flush(&mut self, wire: &mut Wire, out: &mut dyn FnMut(&[u8])) {
        if self.len > 0 {
            self.emit(false, wire, out);
        }
    }

    /// Whether bytes are waiting for the end of their line.
    pub fn has_partial_line(&self) -> bool {
        self.len > 0
    }

    fn emit(&mut self, complete: bool, wire: &mut Wire, out: &mut dyn FnMut(&[u8])) {
        if wire.open_line != Some(self.id) {
            wire.take_over(Some(self.id), out);
            out(self.prefix.as_bytes());
        }
        out(&self.line[..self.len]);
        self.len = 0;
        wire.open_line = if complete { None } else { Some(self.id) };
    }
}

/// Where a byte typed on the console goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routed {
    /// To the vty with the focus.
    Input(usize, u8),
    /// The focus moved to this vty.
    Focus(usize),
    /// The user asked for the list of vtys.
    Help,
    /// Part of an escape sequence, or a focus number that does not exist.
    Nothing,
}

/// The console input side: focus and escape state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputRouter {
    focus: usize,
    count: usize,
    escaped: bool,
}

impl InputRouter {
    /// A router for `count` vtys, the first one focused.
    pub fn new(count: usize) -> Self {
        Self { focus: 0, count, escaped: false }
    }

    /// The vty with the focus.
    pub fn focus(&self) -> usize {
        self.focus
    }

    /// Routes one typed byte.
    pub fn feed(&mut self, byte: u8) -> Routed {
        if self.count == 0 {
            return Routed::Nothing;
        }
        if !self.escaped {
            if byte == ESCAPE {
                self.escaped = true;
                return Routed::Nothing;
            }
            return Routed::Input(self.focus, byte);
        }
        self.escaped = false;
        match byte {
            ESCAPE => Routed::Input(self.focus, ESCAPE),
            b'?' | b'h' => Routed::Help,
            b'1'..=b'9' => {
                let wanted = usize::from(byte - b'1');
                if wanted < self.count {
                    self.focus = wanted;
                    Routed::Focus(wanted)
                } else {
                    Routed::Nothing
                }
            }
            _ => Routed::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn collect(f: impl FnOnce(&mut dyn FnMut(&[u8]))) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut |b: &[u8]| v.extend_from_slice(b));
        v
    }

    #[test]
    fn lines_of_two_lpars_never_mix() {
        let mut wire = Wire::default();
        let mut a = VtyOutput::new(0, "[a] ");
        let mut b = VtyOutput::new(1, "[b] ");
        let out = collect(|o| {
            a.write(b"hello ", &mut wire, o);
            b.write(b"other line\r\n", &mut wire, o);
            a.write(b"world\r\n", &mut wire, o);
        });
        assert_eq!(out, b"[b] other line\r\n[a] hello world\r\n");
    }

    #[test]
    fn a_prompt_is_flushed_and_continued_or_ended() {
        let mut wire = Wire::default();
        let mut a = VtyOutput::new(0, "[a] ");
        let mut b = VtyOutput::new(1, "[b] ");
        let out = collect(|o| {
            a.write(b"# ", &mut wire, o);
            a.flush(&mut wire, o);
            a.write(b"ls\r\n", &mut wire, o);
            a.write(b"# ", &mut wire, o);
            a.flush(&mut wire, o);
            b.write(b"boot\r\n", &mut wire, o);
            a.write(b"x\r\n", &mut wire, o);
        });
        assert_eq!(out, b"[a] # ls\r\n[a] # \r\n[b] boot\r\n[a] x\r\n");
    }

    #[test]
    fn long_lines_are_sent_in_pieces_without_loss() {
        let mut wire = Wire::default();
        let mut a = VtyOutput::new(0, ">");
        let long = [b'x'; LINE_MAX + 10];
        let out = collect(|o| {
            a.write(&long, &mut wire, o);
            a.write(b"\n", &mut wire, o);
        });
        assert_eq!(out.len(), 1 + LINE_MAX + 10 + 1, "one prefix: the piece continues the open line");
        assert!(!a.has_partial_line());
    }

    #[test]
    fn escape_switches_focus() {
        let mut r = InputRouter::new(2);
        assert_eq!(r.feed(b'l'), Routed::Input(0, b'l'));
        assert_eq!(r.feed(ESCAPE), Routed::Nothing);
        assert_eq!(r.feed(b'2'), Routed::Focus(1));
        assert_eq!(r.feed(b's'), Routed::Input(1, b's'));
        assert_eq!(r.feed(ESCAPE), Routed::Nothing);
        assert_eq!(r.feed(b'3'), Routed::Nothing, "no third vty");
        assert_eq!(r.focus(), 1);
        assert_eq!(r.feed(ESCAPE), Routed::Nothing);
        assert_eq!(r.feed(ESCAPE), Routed::Input(1, ESCAPE));
        assert_eq!(r.feed(ESCAPE), Routed::Nothing);
        assert_eq!(r.feed(b'?'), Routed::Help);
        assert_eq!(InputRouter::new(0).feed(b'a'), Routed::Nothing);
    }
}
