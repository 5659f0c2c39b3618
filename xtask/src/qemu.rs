//! Running QEMU `powernv9` with the firmware image, with a time limit and the console
//! captured.

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A machine configuration.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Sockets (chips).
    pub sockets: u32,
    /// Cores per chip.
    pub cores: u32,
    /// Threads per core.
    pub threads: u32,
    /// RAM size as QEMU's `-m` takes it.
    pub memory: String,
    /// Command line for `/chosen/bootargs` (`-append`).
    pub append: Option<String>,
    /// A device tree to use instead of QEMU's (`-M powernv9,dtb=…`).
    pub dtb: Option<String>,
    /// Kernel QEMU preloads (`-kernel`).
    pub kernel: Option<std::path::PathBuf>,
    /// Initramfs QEMU preloads (`-initrd`).
    pub initrd: Option<std::path::PathBuf>,
    /// PNOR flash image (`-drive …,if=mtd`).
    pub pnor: Option<std::path::PathBuf>,
    /// Extra arguments.
    pub extra: Vec<String>,
}

impl Default for Machine {
    fn default() -> Self {
        Self {
            sockets: 1,
            cores: 2,
            threads: 4,
            memory: "2G".into(),
            append: None,
            dtb: None,
            kernel: None,
            initrd: None,
            pnor: None,
            extra: Vec::new(),
        }
    }
}

impl Machine {
    /// The QEMU command booting `image` on this machine, console on stdio. A checkstop
    /// (the firmware's "cannot go on") makes QEMU exit with status 1.
    pub fn command(&self, image: &Path) -> Command {
        let mut cmd = Command::new("qemu-system-ppc64");
        let mut machine = String::from("powernv9");
        if let Some(dtb) = &self.dtb {
            machine.push_str(&format!(",dtb={dtb}"));
        }
        cmd.args(["-M", &machine, "-m", &self.memory])
            .arg("-smp")
            .arg(format!(
                "{},sockets={},cores={},threads={}",
                self.sockets * self.cores * self.threads,
                self.sockets,
                self.cores,
                self.threads
            ))
            .args(["-nographic", "-serial", "stdio", "-monitor", "none"])
            .args(["-action", "panic=exit-failure"])
            .arg("-bios")
            .arg(image);
        match (&self.kernel, &self.append) {
            (Some(k), _) => {
                cmd.arg("-kernel").arg(k);
            }
            // QEMU only takes -append together with -kernel; /dev/null loads nothing.
            (None, Some(_)) => {
                cmd.args(["-kernel", "/dev/null"]);
            }
            (None, None) => {}
        }
        if let Some(initrd) = &self.initrd {
            cmd.arg("-initrd").arg(initrd);
        }
        if let Some(append) = &self.append {
            cmd.args(["-append", append]);
        }
        if let Some(pnor) = &self.pnor {
            let mut drive = std::ffi::OsString::from("file=");
            drive.push(pnor);
            drive.push(",format=raw,if=mtd");
            cmd.arg("-drive").arg(drive);
        }
        cmd.args(&self.extra);
        cmd
    }
}

/// What a bounded QEMU run produced.
#[derive(Debug)]
pub struct Run {
    /// Exit status, or `None` if QEMU was killed at the time limit.
    pub status: Option<ExitStatus>,
    /// Everything printed on the console, then QEMU's own messages (stderr).
    pub output: String,
    /// Wall time from start to exit (or kill).
    pub elapsed: Duration,
}

impl Run {
    /// Whether QEMU exited by itself with status 0.
    pub fn exited_cleanly(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// Number of times `needle` appears in the output.
    pub fn count(&self, needle: &str) -> usize {
        self.output.matches(needle).count()
    }
}

/// Runs `cmd` with stdin closed, capturing stdout and stderr, killing it after `limit`.
pub fn run_bounded(cmd: Command, limit: Duration) -> std::io::Result<Run> {
    run_until(cmd, limit, &mut |_| false)
}

/// Like [`run_bounded`], but also stops QEMU as soon as `done` returns true for the output so
/// far (checked every 100 ms); `Run::status` is then `None`.
pub fn run_until(cmd: Command, limit: Duration, done: &mut dyn FnMut(&str) -> bool) -> std::io::Result<Run> {
    run_inner(cmd, limit, false, &mut |output| if done(output) { Drive::Stop } else { Drive::Wait })
}

/// What a [`run_driven`] driver wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drive {
    /// Keep running; ask again in 100 ms.
    Wait,
    /// Type these bytes on the console (QEMU's stdin, the first serial port).
    Type(Vec<u8>),
    /// Stop QEMU now (`Run::status` is then `None`).
    Stop,
}

/// Runs `cmd` with its stdin as the console's keyboard: every 100 ms `driver` sees the
/// output so far and says what to type or whether to stop. QEMU is killed after `limit`.
pub fn run_driven(
    cmd: Command,
    limit: Duration,
    driver: &mut dyn FnMut(&str) -> Drive,
) -> std::io::Result<Run> {
    run_inner(cmd, limit, true, driver)
}

fn run_inner(
    mut cmd: Command,
    limit: Duration,
    keyboard: bool,
    driver: &mut dyn FnMut(&str) -> Drive,
) -> std::io::Result<Run> {
    use std::io::Write;
    let start = Instant::now();
    let stdin = if keyboard { Stdio::piped() } else { Stdio::null() };
    let mut child = cmd.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let mut keys = child.stdin.take();
    // The console (stdout) and QEMU's own messages (stderr) are kept apart, so a message
    // QEMU prints while the console is mid-line cannot split a console line.
    let streams = [Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new()))];
    let mut readers = Vec::new();
    for (stream, sink) in [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .zip(streams.iter().cloned())
    {
        let Some(mut stream) = stream else { continue };
        readers.push(std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().expect("output lock").extend_from_slice(&buf[..n]);
            }
        }));
    }
    let text = |streams: &[Arc<Mutex<Vec<u8>>>; 2]| {
        let console = streams[0].lock().expect("output lock");
        let qemu = streams[1].lock().expect("output lock");
        let mut text = String::from_utf8_lossy(&console).replace('\r', "");
        if !qemu.is_empty() {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&String::from_utf8_lossy(&qemu));
        }
        text
    };
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        let finished = match driver(&text(&streams)) {
            Drive::Wait => false,
            Drive::Stop => true,
            Drive::Type(bytes) => {
                // QEMU reads its stdin as the serial port's receive line; a write error means
                // QEMU has gone, which try_wait sees next time.
                if let Some(keys) = keys.as_mut() {
                    let _ = keys.write_all(&bytes).and_then(|()| keys.flush());
                }
                false
            }
        };
        if finished || start.elapsed() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let elapsed = start.elapsed();
    for r in readers {
        let _ = r.join();
    }
    Ok(Run { status, output: text(&streams), elapsed })
}
