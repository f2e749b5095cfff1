//! Headless Chromium for tests that open portolan's HTML report: load a
//! file, read the DOM after its scripts ran, take a screenshot.
//!
//! Why the command line and not a driver: `--dump-dom` and
//! `--screenshot` are all the tests need, and need nothing but Debian's
//! `chromium` package. Each run gets a fresh profile directory and every
//! background feature that could reach the network is off; the pages
//! themselves fetch nothing (their content security policy forbids it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Where Debian installs the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The browser, when it is installed.
pub fn find() -> Option<PathBuf> {
    [CHROMIUM, "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// True when Chromium is installed; otherwise skips (see
/// [`crate::skip`]), which fails under [`crate::MUST_RUN_ENV`].
pub fn require() -> bool {
    crate::skip_unless(
        find().is_some(),
        "needs Debian's chromium (apt-get install chromium)",
    )
}

/// A headless browser run: its output and how long it took.
#[derive(Debug)]
pub struct Run {
    /// The process's output (`--dump-dom` writes the DOM to stdout).
    pub output: Output,
    /// Wall-clock time from start to exit.
    pub elapsed: Duration,
}

impl Run {
    /// Standard output as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
}

/// Runs Chromium headless on `page` with `extra` arguments (such as
/// `--dump-dom` or `--screenshot=FILE`), in a fresh profile that is
/// removed afterwards.
pub fn run(page: &Path, extra: &[&str]) -> std::io::Result<Run> {
    run_with_fragment(page, "", extra)
}

/// [`run`] on `page` with `fragment` (`#filter=ssh`, or empty) added to
/// its URL.
pub fn run_with_fragment(page: &Path, fragment: &str, extra: &[&str]) -> std::io::Result<Run> {
    let browser = find().ok_or_else(|| std::io::Error::other("chromium is not installed"))?;
    let profile = std::env::temp_dir().join(format!(
        "portolan-chromium-{}-{}",
        std::process::id(),
        PROFILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&profile)?;
    let page = std::fs::canonicalize(page)?;
    let started = Instant::now();
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}{fragment}", page.display()))
        .output();
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(&profile);
    Ok(Run {
        output: output?,
        elapsed,
    })
}

static PROFILES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
