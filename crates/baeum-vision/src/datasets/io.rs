//! Reading a whole file, gunzipping it when it is gzip, with errors that name the file.

use std::io::Read;
use std::path::Path;

use baeum::Result;

use crate::bail;

/// The two bytes every gzip stream starts with (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The bytes of `path`, decompressed if they are a gzip stream (recognised by its magic bytes,
/// not its name, so a `.gz` that was already unpacked or a raw file named `.gz` both read).
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path)
        .map_err(|e| baeum::Error::Io(format!("cannot read {}: {e}", path.display())))?;
    gunzip_if_gz(raw, &path.display().to_string())
}

/// `bytes` decompressed if they start with the gzip magic, else as they are; `name` is the
/// file (or the embedded resource) the errors name.
pub(crate) fn gunzip_if_gz(bytes: Vec<u8>, name: &str) -> Result<Vec<u8>> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() * 4);
    if let Err(e) = flate2::read::GzDecoder::new(bytes.as_slice()).read_to_end(&mut out) {
        bail!(
            Format,
            "{name}: the gzip stream is damaged after {} decompressed bytes ({e}); is the file truncated?",
            out.len()
        );
    }
    Ok(out)
}

/// The first of `names` that exists in `dir`, each tried as it is and with `.gz` added.
pub(crate) fn find_file(dir: &Path, names: &[&str]) -> Option<std::path::PathBuf> {
    names.iter().find_map(|name| {
        [name.to_string(), format!("{name}.gz")]
            .into_iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
    })
}
