//! Checkpoints for `--resume`: what a scan has finished, rewritten every
//! few seconds, so a scan cut short by Ctrl-C, SIGTERM, SIGKILL or a
//! reboot continues where it was.
//!
//! **What is kept.** The command line (every option; the resumed run
//! parses it again), this build's identity, the seed and shard, the
//! history store's scan id, and the hosts finished so far with each
//! output file's length after the last of them. No signal handler is
//! involved: the file is written while the scan runs, to a temporary
//! file renamed over the old one, so a kill at any moment leaves either
//! the previous checkpoint or the new one.
//!
//! **Finished hosts, and the ports of the others.** Hosts are scanned
//! in overlapping groups and finish out of order (a slow host holds its
//! group's state while the next group runs), so no single permutation
//! position has everything before it done. The checkpoint keeps the
//! finished hosts, and for every host begun but not finished (or finished
//! but not yet written: held for target order, or in a host stage) the
//! ports resolved so far with their state, reason and TTL: where each
//! host group's permutation had got to, port by port. The resumed run
//! plans the same target list with the same seed, leaves the finished
//! hosts out as `--exclude` does (excluded indexes keep their place in
//! the permutation, so a shard keeps exactly its hosts), and starts each
//! begun host with its resolved ports (`ScanConfig::known_ports`): only
//! the others are probed. A scan of one host's 65,535 ports cut at half
//! continues with the other half. Snapshots of the begun hosts come from
//! the engine every [`EVERY`] (SIGKILL loses at most that much), and
//! the hosts an interrupt catches mid-scan replace them at the end.
//! A port is resolved once, so an earlier snapshot is never wrong, only
//! behind. In the file a host's most common (state, reason, TTL) is one
//! entry whose ports are a range list shared between hosts
//! ([`Checkpoint::port_sets`]), so a /16 of three ports or one host of
//! 65,535 stays small.
//!
//! **Outputs stay one document.** Every output file is flushed after each
//! host, and its byte count is noted after each host. The resumed run
//! truncates each file to its length after the checkpoint's last host
//! (dropping hosts written later, an interrupted host, and XML's closing
//! tags) and appends: the XML is one valid `<nmaprun>`, JSON lines and
//! normal and grepable output continue. With a history store, only hosts
//! the store has committed count as finished, so the store and the files
//! agree; the resumed run removes the store's later hosts.
//!
//! **Refusals.** A file that is not a checkpoint, or whose content does
//! not match its digest (SHA-256, in the header line), a checkpoint of
//! another build of portolan, and output files that are no longer those
//! the checkpoint describes (shorter, or another beginning) are each
//! refused with one line; nothing is written then.

pub use crate::checkpointer::{Checkpointer, Counting};
pub use crate::partial::PartialHost;
use portolan_model::HostResult;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The first word of a checkpoint file.
pub const MAGIC: &str = "portolan-checkpoint";
/// The format's version, after [`MAGIC`].
pub const FORMAT: u32 = 2;
/// How often the checkpoint is rewritten while hosts finish.
pub const EVERY: Duration = Duration::from_secs(2);
/// How long past [`EVERY`] a checkpoint waits for a snapshot of the
/// begun hosts before it is written without one.
pub(crate) const SNAPSHOT_GRACE: Duration = Duration::from_millis(500);
/// The suffix of a checkpoint beside an output file.
pub const SUFFIX: &str = ".resume";
/// Bytes at the start of an output file whose digest identifies it.
const HEAD: u64 = 512;

/// One checkpoint (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// [`build_id`] of the binary that wrote it.
    pub build: String,
    /// The scan's arguments (without the program name).
    pub argv: Vec<String>,
    /// `--seed`, when given.
    pub seed: Option<u64>,
    /// `--shard K/N`.
    pub shard: Option<(u32, u32)>,
    /// The scan's id in the history store, when recorded.
    pub history_scan: Option<i64>,
    /// Seconds the earlier runs took.
    pub elapsed: f64,
    /// Finished hosts that were up / down.
    pub hosts_up: u64,
    /// See `hosts_up`.
    pub hosts_down: u64,
    /// Each output file's length after the last finished host.
    pub files: Vec<FileMark>,
    /// The finished hosts.
    pub done: Vec<IpAddr>,
    /// Hosts begun and not finished, with their resolved ports.
    pub partial: Vec<PartialHost>,
    /// Port lists the partial hosts share (`tcp:1-1024,8080;udp:53`).
    pub port_sets: Vec<String>,
}

impl Checkpoint {
    /// The begun hosts with their resolved ports (for
    /// `ScanConfig::known_ports`), less the finished ones.
    pub fn known_ports(&self) -> Result<HashMap<IpAddr, HostResult>, String> {
        let done: std::collections::HashSet<&IpAddr> = self.done.iter().collect();
        self.partial
            .iter()
            .filter(|p| !done.contains(&p.addr))
            .map(|p| {
                p.to_host(&self.port_sets)
                    .map(|h| (p.addr, h))
                    .ok_or_else(|| "is corrupt (a port list does not parse)".to_string())
            })
            .collect()
    }
}

/// An output file as the checkpoint left it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileMark {
    /// Its path, as given on the command line.
    pub path: PathBuf,
    /// Its length after the last finished host.
    pub len: u64,
    /// SHA-256 (hex) of its first `min(len, 512)` bytes.
    pub head: String,
}

/// This binary's identity: its version and its executable's size and
/// modification time, so a rebuilt binary (whose probe order or output
/// may differ) does not continue another build's scan.
pub fn build_id() -> String {
    let exe = std::env::current_exe()
        .and_then(fs::metadata)
        .map(|m| {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .unwrap_or_default();
            format!(
                "{} bytes, {}.{:09}",
                m.len(),
                mtime.as_secs(),
                mtime.subsec_nanos()
            )
        })
        .unwrap_or_else(|_| "unknown executable".into());
    format!("portolan {} ({exe})", env!("CARGO_PKG_VERSION"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Checkpoint {
    /// The file's bytes: a header line with the format and the digest of
    /// the JSON body that follows.
    pub fn encode(&self) -> Vec<u8> {
        let body = serde_json::to_vec(self).expect("plain data serializes");
        let mut out = format!("{MAGIC} {FORMAT} {}\n", hex(&Sha256::digest(&body))).into_bytes();
        out.extend_from_slice(&body);
        out.push(b'\n');
        out
    }

    /// Reads [`encode`](Self::encode)'s bytes back; the error says why
    /// they are not a usable checkpoint.
    pub fn decode(bytes: &[u8]) -> Result<Checkpoint, String> {
        let newline = bytes.iter().position(|&b| b == b'\n');
        let (header, body) = match newline {
            Some(i) => (&bytes[..i], &bytes[i + 1..]),
            None => (bytes, &[][..]),
        };
        let header = std::str::from_utf8(header).unwrap_or("");
        let mut words = header.split(' ');
        if words.next() != Some(MAGIC) {
            return Err("is not a portolan checkpoint".into());
        }
        let format = words.next().unwrap_or("");
        if format != FORMAT.to_string() {
            return Err(format!(
                "is a checkpoint of format {format}, this build reads format {FORMAT}"
            ));
        }
        let body = body.strip_suffix(b"\n").unwrap_or(body);
        if words.next() != Some(hex(&Sha256::digest(body)).as_str()) || words.next().is_some() {
            return Err("is corrupt (its digest does not match its content)".into());
        }
        serde_json::from_slice(body).map_err(|e| format!("is corrupt ({e})"))
    }

    /// Writes the checkpoint to `path` through a temporary file in the
    /// same directory, synced, then renamed over `path`.
    pub fn write_atomically(&self, path: &Path) -> io::Result<()> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut f = File::create(&tmp)?;
        f.write_all(&self.encode())?;
        f.sync_data()?;
        drop(f);
        fs::rename(&tmp, path)
    }

    /// Checks that each output file still is what the checkpoint noted:
    /// at least as long, with the same beginning.
    pub fn check_files(&self) -> Result<(), String> {
        for m in &self.files {
            let shown = m.path.display();
            let len = fs::metadata(&m.path)
                .map_err(|e| format!("output file {shown} of the checkpoint: {e}"))?
                .len();
            let head = head_digest(&m.path, m.len)
                .map_err(|e| format!("output file {shown} of the checkpoint: {e}"))?;
            if len < m.len || head != m.head {
                return Err(format!(
                    "output file {shown} is not the one the checkpoint was written with \
                     (it was changed or rewritten since)"
                ));
            }
        }
        Ok(())
    }
}

/// SHA-256 (hex) of the first `min(len, 512)` bytes of `path`.
pub fn head_digest(path: &Path, len: u64) -> io::Result<String> {
    let mut buf = Vec::new();
    File::open(path)?
        .take(len.min(HEAD))
        .read_to_end(&mut buf)?;
    Ok(hex(&Sha256::digest(&buf)))
}

/// The checkpoint `--resume FILE` names: `FILE` itself when it is one,
/// else `FILE.resume` beside it (nmap's form names the output file).
pub fn load(given: &Path) -> Result<(PathBuf, Checkpoint), String> {
    let shown = given.display();
    let bytes = fs::read(given).map_err(|e| format!("cannot read checkpoint {shown}: {e}"))?;
    if !bytes.starts_with(MAGIC.as_bytes()) {
        let mut beside = given.as_os_str().to_owned();
        beside.push(SUFFIX);
        let beside = PathBuf::from(beside);
        if let Ok(bytes) = fs::read(&beside) {
            let cp = Checkpoint::decode(&bytes)
                .map_err(|e| format!("checkpoint {} {e}", beside.display()))?;
            return Ok((beside, cp));
        }
        return Err(format!(
            "{shown} is not a portolan checkpoint, and no {shown}{SUFFIX} is beside it"
        ));
    }
    let cp = Checkpoint::decode(&bytes).map_err(|e| format!("checkpoint {shown} {e}"))?;
    Ok((given.to_path_buf(), cp))
}

/// Where a scan's checkpoint goes: beside its first output file (`-oX`,
/// `-oJ`, `-oN`, `-oG`, in that order) as `FILE.resume`, else in the data
/// directory (`$XDG_DATA_HOME/portolan/resume/`).
pub fn path_for(outputs: &[&Path], data_dir: Option<PathBuf>) -> Option<PathBuf> {
    if let Some(first) = outputs.first() {
        let mut p = first.as_os_str().to_owned();
        p.push(SUFFIX);
        return Some(PathBuf::from(p));
    }
    // Created at the first write: a scan shorter than one checkpoint
    // interval leaves nothing behind.
    let dir = data_dir?.join("portolan/resume");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    Some(dir.join(format!("scan-{now}-{}{SUFFIX}", std::process::id())))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Checkpoint {
        Checkpoint {
            build: "portolan 0.1.0 (test)".into(),
            argv: vec![
                "-Pn".into(),
                "-oX".into(),
                "a.xml".into(),
                "198.18.0.0/24".into(),
            ],
            seed: Some(7),
            shard: Some((2, 4)),
            history_scan: Some(12),
            elapsed: 1.5,
            hosts_up: 2,
            hosts_down: 1,
            files: vec![FileMark {
                path: "a.xml".into(),
                len: 300,
                head: "00".into(),
            }],
            done: vec!["198.18.0.1".parse().unwrap(), "2001:2::1".parse().unwrap()],
            partial: Vec::new(),
            port_sets: Vec::new(),
        }
    }

    #[test]
    fn a_checkpoint_reads_back_as_written() {
        let cp = sample();
        assert_eq!(Checkpoint::decode(&cp.encode()), Ok(cp));
    }

    #[test]
    fn a_damaged_or_foreign_file_is_refused_with_its_reason() {
        let bytes = sample().encode();
        // One byte of the body changed: the digest no longer matches.
        let mut edited = bytes.clone();
        let at = edited.len() - 5;
        edited[at] ^= 1;
        assert_eq!(
            Checkpoint::decode(&edited).unwrap_err(),
            "is corrupt (its digest does not match its content)"
        );
        // Cut short (a copy interrupted).
        let cut = &bytes[..bytes.len() / 2];
        assert!(Checkpoint::decode(cut)
            .unwrap_err()
            .starts_with("is corrupt"));
        assert_eq!(
            Checkpoint::decode(b"<?xml version=\"1.0\"?>").unwrap_err(),
            "is not a portolan checkpoint"
        );
        assert_eq!(
            Checkpoint::decode(b"portolan-checkpoint 9 00\n{}").unwrap_err(),
            "is a checkpoint of format 9, this build reads format 2"
        );
    }
}
