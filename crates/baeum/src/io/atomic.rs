//! Writing files atomically: every file the library writes (arrays, pictures, later
//! checkpoints) goes through here.

use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to a temporary file beside `path` and renames it over `path`, so a crash never
/// leaves a half-written file. Errors name `op` and the path.
pub(crate) fn write_atomic(op: &str, path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let io_err = |what: &str, e: std::io::Error| {
        Error::Io(format!("{op}: cannot {what} {}: {e}", path.display()))
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::Io(format!("{op}: {} is not a file path", path.display())))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let mut f =
            std::fs::File::create(&tmp).map_err(|e| io_err("create a temporary file for", e))?;
        f.write_all(bytes).map_err(|e| io_err("write", e))?;
        f.sync_all().map_err(|e| io_err("flush", e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| io_err("rename the temporary file to", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
