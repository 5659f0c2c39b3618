//! The `pnor` host tool, run as a program: each command on real files, error messages that
//! name the file, exit statuses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("oxiboot-pnor-cli-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pnor(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pnor")).args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const LAYOUT: &str = "\
# a test layout
flash-size 256K
block-size 4K
partition BOOTKERNEL size=64K flags=read-only kernel=vmlinux initramfs=initramfs.cpio
partition NVRAM      size=16K flags=preserved
partition OXICFG     size=8K  flags=ecc,preserved content=config.bin
";

fn p(text: &str) -> &Path {
    Path::new(text)
}

/// Writes the layout and its files, creates the image; returns the image path.
fn make_image(scratch: &Scratch) -> PathBuf {
    scratch.write("vmlinux", &[0x7F, b'E', b'L', b'F', 1, 2, 3]);
    scratch.write("initramfs.cpio", b"070701 initramfs");
    scratch.write("config.bin", &(0..500u32).map(|i| i as u8).collect::<Vec<_>>());
    let layout = scratch.write("layout.txt", LAYOUT.as_bytes());
    let image = scratch.path("image.pnor");
    let output = pnor(&[p("create"), &layout, p("-o"), &image]);
    assert!(output.status.success(), "{}", stderr(&output));
    image
}

#[test]
fn create_list_verify() {
    let scratch = Scratch::new("create");
    let image = make_image(&scratch);
    assert_eq!(std::fs::metadata(&image).unwrap().len(), 256 * 1024);

    let list = pnor(&[p("list"), &image]);
    assert!(list.status.success());
    let text = stdout(&list);
    assert!(text.contains("block size 0x1000, 64 blocks; table 1 block(s), 4 entries"), "{text}");
    assert!(
        text.contains("01 part            0x00000000 0x00001000 0x00001000 ---------- (table)"),
        "{text}"
    );
    assert!(text.contains("04 OXICFG          0x00015000 0x00017000 0x000001f4 E--P------"), "{text}");

    let verify = pnor(&[p("verify"), &image]);
    assert!(verify.status.success(), "{}", stderr(&verify));
    let text = stdout(&verify);
    assert!(text.contains("BOOTKERNEL: kernel 7 bytes, initramfs 16 bytes, CRCs good"), "{text}");
    assert!(text.contains("OXICFG: 910 ECC words, 0 corrected, 0 uncorrectable"), "{text}");
}

#[test]
fn extract_and_replace() {
    let scratch = Scratch::new("extract");
    let image = make_image(&scratch);
    let out = scratch.path("out.bin");
    assert!(pnor(&[p("extract"), &image, p("OXICFG"), p("-o"), &out]).status.success());
    assert_eq!(std::fs::read(&out).unwrap(), (0..500u32).map(|i| i as u8).collect::<Vec<_>>());
    assert!(pnor(&[p("extract"), &image, p("OXICFG"), p("-o"), &out, p("--raw")]).status.success());
    assert_eq!(std::fs::read(&out).unwrap().len(), 8192, "--raw keeps the ECC bytes");

    let new = scratch.write("new.bin", b"new configuration");
    let replaced = pnor(&[p("replace"), &image, p("OXICFG"), &new]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert!(pnor(&[p("extract"), &image, p("OXICFG"), p("-o"), &out]).status.success());
    assert_eq!(std::fs::read(&out).unwrap(), b"new configuration");

    // Read-only without --force is refused, with the image named.
    let refused = pnor(&[p("replace"), &image, p("BOOTKERNEL"), &new]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused)
        .contains(&format!("pnor: {}: partition \"BOOTKERNEL\" is read-only", image.display())));
    assert!(pnor(&[p("replace"), &image, p("BOOTKERNEL"), &new, p("--force")]).status.success());
}

#[test]
fn verify_reports_corruption_with_the_file_name() {
    let scratch = Scratch::new("verify");
    let image = make_image(&scratch);
    let mut bytes = std::fs::read(&image).unwrap();
    bytes[0x15000 + 3] ^= 0x04; // one bit of OXICFG's first word: corrected
    std::fs::write(&image, &bytes).unwrap();
    let verify = pnor(&[p("verify"), &image]);
    assert_eq!(verify.status.code(), Some(1));
    let errors = stderr(&verify);
    assert!(
        errors.contains("OXICFG: corrected bit 2 of the data byte at flash offset 0x00015003"),
        "{errors}"
    );
    assert!(errors.contains(&format!("pnor: {}: 1 problem(s) found", image.display())), "{errors}");

    bytes[0] = b'X';
    std::fs::write(&image, &bytes).unwrap();
    let list = pnor(&[p("list"), &image]);
    assert_eq!(list.status.code(), Some(1));
    assert!(stderr(&list)
        .contains(&format!("pnor: {}: no partition table: magic is 0x58415254", image.display())));
}

#[test]
fn layout_errors_name_the_file_and_line() {
    let scratch = Scratch::new("layout");
    let layout =
        scratch.write("bad.txt", b"flash-size 64K\nblock-size 4K\npartition A size=4K flags=ecc,shiny\n");
    let output = pnor(&[p("create"), &layout, p("-o"), &scratch.path("x.pnor")]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains(&format!("pnor: {}: line 3: unknown flag \"shiny\"", layout.display())),
        "{message}"
    );

    let layout =
        scratch.write("missing.txt", b"flash-size 64K\nblock-size 4K\npartition A size=4K content=nothere\n");
    let message = stderr(&pnor(&[p("create"), &layout, p("-o"), &scratch.path("x.pnor")]));
    assert!(message.contains("line 3: cannot read \"nothere\""), "{message}");
}

#[test]
fn pack_bootkernel() {
    let scratch = Scratch::new("pack");
    let kernel = scratch.write("k", b"kernel image");
    let out = scratch.path("bk.bin");
    let output = pnor(&[p("pack-bootkernel"), p("--kernel"), &kernel, p("-o"), &out]);
    assert!(output.status.success(), "{}", stderr(&output));
    let container = std::fs::read(&out).unwrap();
    assert_eq!(&container[..4], b"OXBK");
    assert_eq!(container.len(), 64 + 12);
}

#[test]
fn usage_mistakes_exit_with_2() {
    let output = pnor(&[p("frobnicate")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unknown command \"frobnicate\""));
    let output = pnor(&[p("list")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("expected 1 argument(s): IMAGE"));
    assert_eq!(pnor(&[]).status.code(), Some(2));
    let help = pnor(&[p("help")]);
    assert!(help.status.success() && stdout(&help).contains("pack-bootkernel"));
}
