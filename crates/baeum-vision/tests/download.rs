//! Downloads against a local HTTP server started by the test (the machine has no internet):
//! a thread on 127.0.0.1 serving files from a temporary folder, honouring `Range`, and able to
//! cut a response short or answer 404.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use baeum_vision::download::{
    DownloadOptions, FileOutcome, RemoteFile, Source, download, md5_file, part_path,
};

/// What the server does: files by name, and names whose next response stops after N bytes.
#[derive(Default)]
struct Behaviour {
    files: HashMap<String, Vec<u8>>,
    cut_next: HashMap<String, usize>,
    /// The Range headers received, in order.
    ranges: Vec<Option<String>>,
}

struct Server {
    base: String,
    state: Arc<Mutex<Behaviour>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(Behaviour::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            // Bounded: a test makes a handful of requests.
            for stream in listener.incoming().take(200) {
                let Ok(stream) = stream else { continue };
                let _ = serve(stream, &shared);
            }
        });
        Server { base, state }
    }
}

fn serve(mut stream: TcpStream, state: &Mutex<Behaviour>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/')
        .to_string();
    let mut range = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("range")
        {
            range = Some(v.trim().to_string());
        }
    }
    let mut st = state.lock().unwrap();
    st.ranges.push(range.clone());
    let Some(body) = st.files.get(&path).cloned() else {
        stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
        )?;
        return Ok(());
    };
    let cut = st.cut_next.remove(&path);
    drop(st);
    let len = body.len();
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(s, _)| s.parse::<usize>().ok());
    let (status, from) = match start {
        Some(s) if s >= len => {
            let head = format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes())?;
            return Ok(());
        }
        Some(s) => (206, s),
        None => (200, 0),
    };
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        if status == 200 {
            "OK"
        } else {
            "Partial Content"
        },
        len - from
    );
    if status == 206 {
        head += &format!("Content-Range: bytes {from}-{}/{len}\r\n", len - 1);
    }
    head += "\r\n";
    stream.write_all(head.as_bytes())?;
    let end = cut.map_or(len, |c| (from + c).min(len));
    stream.write_all(&body[from..end])?;
    // Closing early with a Content-Length promised is the cut the client must notice.
    stream.flush()?;
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = reader.read(&mut [0u8; 1]);
    Ok(())
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baeum-dl-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Deterministic bytes that do not repeat with a short period.
fn payload(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2654435761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn md5_of(bytes: &[u8], dir: &Path) -> String {
    let p = dir.join(".md5-scratch");
    std::fs::write(&p, bytes).unwrap();
    let m = md5_file(&p).unwrap();
    std::fs::remove_file(&p).unwrap();
    m
}

fn quiet() -> DownloadOptions {
    DownloadOptions {
        progress: false,
        ..DownloadOptions::default()
    }
}

fn source(server: &Server, files: &[(&str, &str)]) -> Source {
    Source {
        dataset: "test-set".into(),
        mirrors: vec![server.base.clone()],
        files: files
            .iter()
            .map(|(n, m)| RemoteFile {
                name: n.to_string(),
                md5: m.to_string(),
            })
            .collect(),
        unpacks_to: None,
    }
}

#[test]
fn downloads_verifies_and_skips_what_is_there() {
    let server = Server::start();
    let dir = temp("ok");
    let a = payload(300_000, 1);
    let b = payload(1234, 2);
    let (ma, mb) = (md5_of(&a, &dir), md5_of(&b, &dir));
    {
        let mut st = server.state.lock().unwrap();
        st.files.insert("a.gz".into(), a.clone());
        st.files.insert("b.gz".into(), b.clone());
    }
    let src = source(&server, &[("a.gz", &ma), ("b.gz", &mb)]);
    let out = dir.join("set");
    let report = download(&src, &out, &quiet()).unwrap();
    assert_eq!(std::fs::read(out.join("a.gz")).unwrap(), a);
    assert_eq!(std::fs::read(out.join("b.gz")).unwrap(), b);
    assert_eq!(
        report.files[0].2,
        FileOutcome::Downloaded {
            bytes: 300_000,
            resumed_from: 0
        }
    );
    assert_eq!(report.files[0].1, format!("{}a.gz", server.base));
    assert!(!part_path(&out.join("a.gz")).exists());
    // Again: both verified on disk, nothing fetched.
    let n = server.state.lock().unwrap().ranges.len();
    let again = download(&src, &out, &quiet()).unwrap();
    assert!(
        again
            .files
            .iter()
            .all(|f| f.2 == FileOutcome::AlreadyPresent)
    );
    assert_eq!(server.state.lock().unwrap().ranges.len(), n);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_cut_download_resumes_with_a_range_request() {
    let server = Server::start();
    let dir = temp("resume");
    let a = payload(200_000, 3);
    let ma = md5_of(&a, &dir);
    {
        let mut st = server.state.lock().unwrap();
        st.files.insert("big.bin".into(), a.clone());
        st.cut_next.insert("big.bin".into(), 70_000);
    }
    let src = source(&server, &[("big.bin", &ma)]);
    let dest = dir.join("big.bin");
    let e = download(&src, &dir, &quiet()).unwrap_err().to_string();
    assert!(e.contains("run again to resume"), "{e}");
    // The bytes that arrived are kept in the .part, the final name does not exist yet.
    assert_eq!(std::fs::metadata(part_path(&dest)).unwrap().len(), 70_000);
    assert!(!dest.exists());
    let report = download(&src, &dir, &quiet()).unwrap();
    assert_eq!(
        report.files[0].2,
        FileOutcome::Downloaded {
            bytes: 130_000,
            resumed_from: 70_000
        }
    );
    assert_eq!(std::fs::read(&dest).unwrap(), a);
    assert!(!part_path(&dest).exists());
    let ranges = server.state.lock().unwrap().ranges.clone();
    assert_eq!(ranges, vec![None, Some("bytes=70000-".to_string())]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_whole_part_file_is_verified_after_a_416() {
    let server = Server::start();
    let dir = temp("whole");
    let a = payload(5000, 4);
    let ma = md5_of(&a, &dir);
    server
        .state
        .lock()
        .unwrap()
        .files
        .insert("f".into(), a.clone());
    // A previous run received every byte but stopped before renaming.
    std::fs::write(part_path(&dir.join("f")), &a).unwrap();
    let report = download(&source(&server, &[("f", &ma)]), &dir, &quiet()).unwrap();
    assert_eq!(
        report.files[0].2,
        FileOutcome::Downloaded {
            bytes: 0,
            resumed_from: 5000
        }
    );
    assert_eq!(std::fs::read(dir.join("f")).unwrap(), a);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_checksum_mismatch_removes_the_file_and_says_so() {
    let server = Server::start();
    let dir = temp("md5");
    server
        .state
        .lock()
        .unwrap()
        .files
        .insert("x.gz".into(), payload(4096, 5));
    let wrong = "0123456789abcdef0123456789abcdef";
    let e = download(&source(&server, &[("x.gz", wrong)]), &dir, &quiet())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("x.gz: checksum mismatch: expected md5 0123456789abcdef0123456789abcdef, got ")
            && e.contains("removed the download"),
        "{e}"
    );
    assert!(!dir.join("x.gz").exists());
    assert!(!part_path(&dir.join("x.gz")).exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_404_names_the_url_and_falls_back_to_the_next_mirror() {
    let server = Server::start();
    let dir = temp("404");
    let e = download(
        &source(
            &server,
            &[("missing.gz", "00000000000000000000000000000000")],
        ),
        &dir,
        &quiet(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains(&format!(
            "{}missing.gz: the server answered HTTP 404 (not found)",
            server.base
        )),
        "{e}"
    );
    // Two mirrors: the first 404s, the second serves.
    let good = Server::start();
    let a = payload(999, 6);
    let ma = md5_of(&a, &dir);
    good.state
        .lock()
        .unwrap()
        .files
        .insert("m.bin".into(), a.clone());
    let mut src = source(&server, &[("m.bin", &ma)]);
    src.mirrors.push(good.base.clone());
    let report = download(&src, &dir, &quiet()).unwrap();
    assert_eq!(report.files[0].1, format!("{}m.bin", good.base));
    assert_eq!(std::fs::read(dir.join("m.bin")).unwrap(), a);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_tar_gz_archive_is_unpacked_after_it_verifies() {
    let server = Server::start();
    let dir = temp("tar");
    // A tiny CIFAR-10-shaped archive: cifar-10-batches-bin/{data_batch_1.bin,batches.meta.txt}.
    let mut record = vec![7u8];
    record.extend(payload(3072, 7));
    let meta = b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
    let mut tar_bytes = Vec::new();
    {
        let gz = flate2::write::GzEncoder::new(&mut tar_bytes, flate2::Compression::fast());
        let mut t = tar::Builder::new(gz);
        for (name, data) in [
            ("cifar-10-batches-bin/data_batch_1.bin", &record[..]),
            ("cifar-10-batches-bin/batches.meta.txt", &meta[..]),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            t.append_data(&mut h, name, data).unwrap();
        }
        t.into_inner().unwrap().finish().unwrap();
    }
    let m = md5_of(&tar_bytes, &dir);
    server
        .state
        .lock()
        .unwrap()
        .files
        .insert("cifar-10-binary.tar.gz".into(), tar_bytes);
    let mut src = source(&server, &[("cifar-10-binary.tar.gz", &m)]);
    src.unpacks_to = Some("cifar-10-batches-bin".into());
    let report = download(&src, &dir, &quiet()).unwrap();
    assert_eq!(report.unpacked, vec![dir.join("cifar-10-batches-bin")]);
    let ds = baeum_vision::datasets::Cifar10::load(&dir, true).unwrap();
    assert_eq!(ds.labels().to_vec::<i64>(), vec![7]);
    assert_eq!(ds.classes()[1], "automobile");
    // Run again: the archive verifies and the folder is there, so nothing is unpacked.
    let again = download(&src, &dir, &quiet()).unwrap();
    assert!(again.unpacked.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}
