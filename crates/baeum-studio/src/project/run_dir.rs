//! A run's output folder, `runs/<project>/<UTC timestamp>/` (or a folder the user names):
//! config, history, checkpoints, metrics and report all go there.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use baeum::{Error, Result};

/// The folder of one run.
#[derive(Clone, Debug)]
pub struct RunDir {
    pub path: PathBuf,
}

/// `YYYYMMDD-HHMMSS` in UTC for `secs` since the Unix epoch (civil-from-days, proleptic
/// Gregorian).
pub fn timestamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl RunDir {
    /// `explicit` if given (created if missing), else a new `runs/<project>/<timestamp>`
    /// (with `-2`, `-3`, … when two runs start within the same second).
    pub fn create(explicit: Option<&Path>, project: &str) -> Result<RunDir> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let secs = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let base = Path::new("runs").join(project).join(timestamp(secs));
                let mut path = base.clone();
                let mut n = 2;
                while path.exists() {
                    path = PathBuf::from(format!("{}-{n}", base.display()));
                    n += 1;
                }
                path
            }
        };
        std::fs::create_dir_all(&path).map_err(|e| {
            Error::Io(format!(
                "cannot create the run folder {}: {e}",
                path.display()
            ))
        })?;
        Ok(RunDir { path })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes `text` to `name` in the run folder, atomically.
    pub fn write(&self, name: &str, text: &str) -> Result<PathBuf> {
        let path = self.file(name);
        baeum_plot::page::write_atomic(&path, text.as_bytes())
            .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(timestamp(0), "19700101-000000");
        assert_eq!(timestamp(951_782_400), "20000229-000000");
        assert_eq!(timestamp(1_795_822_245), "20261127-233045");
    }
}
