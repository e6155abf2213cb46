//! Downloading the data sets from their canonical mirrors (`baeum data download NAME`).
//!
//! Every file is written to `NAME.part` beside its destination, checked against the MD5 that
//! torchvision publishes, and only then renamed into place, so a file under its final name is
//! always complete and verified. An interrupted download resumes where it stopped (an HTTP
//! `Range` request for the rest of the `.part`); a file that fails its checksum is removed and
//! the error says so. Archives (CIFAR-10's `.tar.gz`) are unpacked after they verify.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use baeum::{Error, Result};
use md5::{Digest, Md5};

use crate::bail;
use crate::datasets::{CIFAR10_BIN_DIR, KnownDataset};

/// One file of a data set: its name on the mirror (and on disk) and its MD5.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteFile {
    pub name: String,
    /// Lower-case hex MD5 of the file as served.
    pub md5: String,
}

/// Where a data set's files come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The data set, for messages.
    pub dataset: String,
    /// Base URLs ending in `/`, tried in order; a file's URL is the base and its name.
    pub mirrors: Vec<String>,
    pub files: Vec<RemoteFile>,
    /// For archives: the folder unpacking creates (unpacked again when it is missing).
    pub unpacks_to: Option<String>,
}

fn files(list: &[(&str, &str)]) -> Vec<RemoteFile> {
    list.iter()
        .map(|(name, md5)| RemoteFile {
            name: name.to_string(),
            md5: md5.to_string(),
        })
        .collect()
}

impl Source {
    /// The canonical source of a known data set: torchvision's mirrors and checksums (MNIST,
    /// Fashion-MNIST), the authors' page for CIFAR-10's binary version. The 8×8 digits need
    /// none: they are embedded.
    pub fn for_dataset(dataset: KnownDataset) -> Result<Source> {
        let src = match dataset {
            KnownDataset::Mnist => Source {
                dataset: "mnist".into(),
                mirrors: vec![
                    "https://ossci-datasets.s3.amazonaws.com/mnist/".into(),
                    "http://yann.lecun.com/exdb/mnist/".into(),
                ],
                files: files(&[
                    (
                        "train-images-idx3-ubyte.gz",
                        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                    ),
                    (
                        "train-labels-idx1-ubyte.gz",
                        "d53e105ee54ea40749a09fcbcd1e9432",
                    ),
                    (
                        "t10k-images-idx3-ubyte.gz",
                        "9fb629c4189551a2d022fa330f9573f3",
                    ),
                    (
                        "t10k-labels-idx1-ubyte.gz",
                        "ec29112dd5afa0611ce80d1b7f02629c",
                    ),
                ]),
                unpacks_to: None,
            },
            KnownDataset::FashionMnist => Source {
                dataset: "fashion-mnist".into(),
                mirrors: vec!["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/".into()],
                files: files(&[
                    (
                        "train-images-idx3-ubyte.gz",
                        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                    ),
                    (
                        "train-labels-idx1-ubyte.gz",
                        "25c81989df183df01b3e8a0aad5dffbe",
                    ),
                    (
                        "t10k-images-idx3-ubyte.gz",
                        "bef4ecab320f06d8554ea6380940ec79",
                    ),
                    (
                        "t10k-labels-idx1-ubyte.gz",
                        "bb300cfdad3c16e7a12a480ee83cd310",
                    ),
                ]),
                unpacks_to: None,
            },
            KnownDataset::Cifar10 => Source {
                dataset: "cifar10".into(),
                mirrors: vec!["https://www.cs.toronto.edu/~kriz/".into()],
                files: files(&[("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530")]),
                unpacks_to: Some(CIFAR10_BIN_DIR.into()),
            },
            KnownDataset::Digits => bail!(
                Invalid,
                "digits: nothing to download, the 8×8 digits are embedded in baeum"
            ),
        };
        Ok(src)
    }
}

/// How to download.
#[derive(Clone, Debug)]
pub struct DownloadOptions {
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// The longest wait to connect, and for the response to begin.
    pub timeout: Duration,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            progress: true,
            timeout: Duration::from_secs(30),
        }
    }
}

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileOutcome {
    /// Already there with the right checksum: nothing fetched.
    AlreadyPresent,
    /// Fetched (`bytes` this time), continuing a `.part` of `resumed_from` bytes.
    Downloaded { bytes: u64, resumed_from: u64 },
}

/// What [`download`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadReport {
    /// The data set's folder.
    pub dir: PathBuf,
    /// Each file, with the URL it came from (empty when already present).
    pub files: Vec<(String, String, FileOutcome)>,
    /// The archives unpacked this time.
    pub unpacked: Vec<PathBuf>,
}

/// The MD5 of a file, lower-case hex.
pub fn md5_file(path: &Path) -> Result<String> {
    let mut f = File::open(path).map_err(|e| io_err("cannot open", path, e))?;
    let mut h = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| io_err("cannot read", path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:x}", h.finalize()))
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Io(format!("{what} {}: {e}", path.display()))
}

/// The `.part` file a download of `dest` grows in.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
}

/// An HTTP agent: status codes come back as responses (to tell 404 from 416), no body decoding.
fn agent(opts: &DownloadOptions) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(opts.timeout))
        .timeout_recv_response(Some(opts.timeout))
        .build()
        .into()
}

fn progress_bar(
    opts: &DownloadOptions,
    name: &str,
    total: Option<u64>,
    at: u64,
) -> indicatif::ProgressBar {
    if !opts.progress {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match total {
        Some(t) => indicatif::ProgressBar::new(t),
        None => indicatif::ProgressBar::no_length(),
    };
    let style = indicatif::ProgressStyle::with_template(
        "{msg:28} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(name.to_string());
    bar.set_position(at);
    bar
}

/// The start offset of a `Content-Range: bytes START-END/TOTAL` header and its total.
fn content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, _) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()))
}

/// Downloads `url` to `dest` through `dest.part`, resuming a `.part` left by an earlier try,
/// checks the MD5 and renames into place. Returns the outcome; on a checksum mismatch the
/// `.part` is removed and the error says so.
pub fn fetch(url: &str, dest: &Path, md5: &str, opts: &DownloadOptions) -> Result<FileOutcome> {
    let part = part_path(dest);
    let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let agent = agent(opts);
    let mut request = agent.get(url);
    if have > 0 {
        request = request.header("Range", &format!("bytes={have}-"));
    }
    let mut response = request
        .call()
        .map_err(|e| Error::Io(format!("{url}: cannot download: {e}")))?;
    let status = response.status().as_u16();
    let (mut file, resumed_from, total) = match status {
        200 => {
            // A full body: the server ignored the range, or there was none. Start afresh.
            let f = File::create(&part).map_err(|e| io_err("cannot create", &part, e))?;
            (f, 0, response.body().content_length())
        }
        206 => {
            let header = response
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            match content_range(header) {
                Some((start, total)) if start == have => {
                    let f = OpenOptions::new()
                        .append(true)
                        .open(&part)
                        .map_err(|e| io_err("cannot open", &part, e))?;
                    (f, have, total)
                }
                _ => {
                    // A range we did not ask for: drop the partial file and let a rerun start
                    // over rather than splice mismatched bytes.
                    let _ = std::fs::remove_file(&part);
                    bail!(
                        Io,
                        "{url}: the server answered a resume from byte {have} with Content-Range {header:?}; removed {}, run again to download from the start",
                        part.display()
                    );
                }
            }
        }
        416 if have > 0 => {
            // Nothing after byte `have`: the .part may already be whole; the checksum decides.
            return finish(url, &part, dest, md5, 0, have);
        }
        _ => bail!(
            Io,
            "{url}: the server answered HTTP {status}{}",
            if status == 404 { " (not found)" } else { "" }
        ),
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bar = progress_bar(opts, &name, total, resumed_from);
    let mut reader = response.body_mut().as_reader();
    let mut writer = BufWriter::with_capacity(1 << 16, &mut file);
    let mut buf = vec![0u8; 1 << 16];
    let mut got = 0u64;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                writer
                    .write_all(&buf[..n])
                    .map_err(|e| io_err("cannot write", &part, e))?;
                got += n as u64;
                bar.inc(n as u64);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // Keep what arrived: the next run resumes from it.
                let _ = writer.flush();
                bar.abandon();
                bail!(
                    Io,
                    "{url}: the download stopped after {} bytes ({e}); {} keeps them, run again to resume",
                    resumed_from + got,
                    part.display()
                );
            }
        }
    }
    writer
        .flush()
        .map_err(|e| io_err("cannot write", &part, e))?;
    drop(writer);
    file.sync_all()
        .map_err(|e| io_err("cannot write", &part, e))?;
    bar.finish_and_clear();
    finish(url, &part, dest, md5, got, resumed_from)
}

/// Verifies a complete `.part` and renames it to `dest`; removes it on a mismatch.
fn finish(
    url: &str,
    part: &Path,
    dest: &Path,
    md5: &str,
    bytes: u64,
    resumed_from: u64,
) -> Result<FileOutcome> {
    let got = md5_file(part)?;
    if !got.eq_ignore_ascii_case(md5) {
        let _ = std::fs::remove_file(part);
        bail!(
            Io,
            "{url}: checksum mismatch: expected md5 {md5}, got {got}; removed the download ({}); run again to retry",
            part.display()
        );
    }
    std::fs::rename(part, dest).map_err(|e| io_err("cannot rename into", dest, e))?;
    Ok(FileOutcome::Downloaded {
        bytes,
        resumed_from,
    })
}

/// Unpacks a `.tar.gz` into `dir` through a hidden temporary folder, so a failure leaves no
/// half-unpacked tree under the final names. Entries escaping `dir` (`..`, absolute paths)
/// are refused by the tar reader. Returns the top-level entries created.
pub fn unpack_tar_gz(archive: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    let tmp = dir.join(".unpacking");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| io_err("cannot remove", &tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| io_err("cannot create", &tmp, e))?;
    let f = File::open(archive).map_err(|e| io_err("cannot open", archive, e))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    if let Err(e) = tar.unpack(&tmp) {
        let _ = std::fs::remove_dir_all(&tmp);
        bail!(
            Format,
            "{}: cannot unpack the tar.gz archive: {e}",
            archive.display()
        );
    }
    let mut created = Vec::new();
    let entries = std::fs::read_dir(&tmp).map_err(|e| io_err("cannot list", &tmp, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_err("cannot list", &tmp, e))?;
        let target = dir.join(entry.file_name());
        if target.is_dir() {
            std::fs::remove_dir_all(&target).map_err(|e| io_err("cannot replace", &target, e))?;
        } else if target.exists() {
            std::fs::remove_file(&target).map_err(|e| io_err("cannot replace", &target, e))?;
        }
        std::fs::rename(entry.path(), &target)
            .map_err(|e| io_err("cannot move into", &target, e))?;
        created.push(target);
    }
    std::fs::remove_dir_all(&tmp).map_err(|e| io_err("cannot remove", &tmp, e))?;
    created.sort();
    Ok(created)
}

/// Downloads every file of `source` into `dir` (created if needed): files already there with
/// the right checksum are kept, the others fetched from the first mirror that serves them,
/// and archives unpacked. The error names each mirror's failure.
pub fn download(source: &Source, dir: &Path, opts: &DownloadOptions) -> Result<DownloadReport> {
    std::fs::create_dir_all(dir).map_err(|e| io_err("cannot create", dir, e))?;
    let mut report = DownloadReport {
        dir: dir.to_path_buf(),
        files: Vec::new(),
        unpacked: Vec::new(),
    };
    for file in &source.files {
        let dest = dir.join(&file.name);
        if dest.is_file() && md5_file(&dest)?.eq_ignore_ascii_case(&file.md5) {
            report.files.push((
                file.name.clone(),
                String::new(),
                FileOutcome::AlreadyPresent,
            ));
            continue;
        }
        let mut failures = Vec::new();
        let mut fetched = None;
        for mirror in &source.mirrors {
            let url = format!("{mirror}{}", file.name);
            match fetch(&url, &dest, &file.md5, opts) {
                Ok(outcome) => {
                    fetched = Some((url, outcome));
                    break;
                }
                Err(e) => failures.push(e.to_string()),
            }
        }
        let Some((url, outcome)) = fetched else {
            bail!(
                Io,
                "{}: could not download {}:\n  {}",
                source.dataset,
                file.name,
                failures.join("\n  ")
            );
        };
        report.files.push((file.name.clone(), url, outcome));
    }
    if let Some(folder) = &source.unpacks_to {
        let fresh = report
            .files
            .iter()
            .any(|(_, _, o)| matches!(o, FileOutcome::Downloaded { .. }));
        if fresh || !dir.join(folder).is_dir() {
            for file in &source.files {
                report
                    .unpacked
                    .extend(unpack_tar_gz(&dir.join(&file.name), dir)?);
            }
        }
    }
    Ok(report)
}

/// Downloads a known data set into `dir`, or into its folder under
/// [`data_root`](crate::datasets::data_root) (`$BAEUM_DATA/mnist`, ...).
pub fn download_dataset(
    dataset: KnownDataset,
    dir: Option<&Path>,
    opts: &DownloadOptions,
) -> Result<DownloadReport> {
    let source = Source::for_dataset(dataset)?;
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => crate::datasets::data_root().join(dataset.id()),
    };
    download(&source, &dir, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_range() {
        assert_eq!(content_range("bytes 100-199/200"), Some((100, Some(200))));
        assert_eq!(content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(content_range("items 1-2/3"), None);
    }

    #[test]
    fn md5_of_a_known_string() {
        let dir = std::env::temp_dir().join(format!("baeum-md5-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("abc");
        std::fs::write(&p, b"abc").unwrap();
        // RFC 1321's test suite: MD5("abc").
        assert_eq!(md5_file(&p).unwrap(), "900150983cd24fb0d6963f7d28e17f72");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn part_path_appends() {
        assert_eq!(
            part_path(Path::new("/d/a.gz")),
            PathBuf::from("/d/a.gz.part")
        );
    }
}
