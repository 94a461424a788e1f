//! From what the user typed to readable streams: files, folders (walked, as
//! AKS blobs sit in `y=/m=/d=/h=/m=00/PT1H.json` trees), globs, and `-` for
//! standard input. Gzip is recognised by its magic bytes, not the name, so a
//! rotated `audit.log.1.gz` and a renamed blob both work; `MultiGzDecoder`
//! reads concatenated members as `cat a.gz b.gz` makes them.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;

use crate::error::AuditError;

/// Buffer between the file (or the decoder) and the line splitter.
const BUFFER: usize = 1 << 20;

/// One input.
#[derive(Debug)]
pub(crate) enum Source {
    /// A file.
    File(PathBuf),
    /// Standard input.
    Stdin,
    /// Standard input kept in a temporary file for a second pass.
    Spooled(tempfile::NamedTempFile),
}

impl Source {
    /// How the report names it.
    pub fn name(&self) -> String {
        match self {
            Self::File(p) => p.display().to_string(),
            Self::Stdin | Self::Spooled(_) => "-".into(),
        }
    }

    /// Opens it, decompressing when it is gzip. Returns the stream and
    /// whether it was compressed.
    pub fn open(&self) -> io::Result<(Box<dyn BufRead + Send>, bool)> {
        let raw: Box<dyn Read + Send> = match self {
            Self::File(p) => Box::new(File::open(p)?),
            Self::Stdin => Box::new(io::stdin()),
            Self::Spooled(t) => Box::new(t.reopen()?),
        };
        let mut raw = BufReader::with_capacity(BUFFER, raw);
        let gzip = raw.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        if gzip {
            Ok((
                Box::new(BufReader::with_capacity(BUFFER, MultiGzDecoder::new(raw))),
                true,
            ))
        } else {
            Ok((Box::new(raw), false))
        }
    }
}

/// Expands paths, folders and globs into sources: sorted within each
/// argument, every file once.
pub(crate) fn expand<S: AsRef<str>>(specs: &[S]) -> Result<Vec<Source>, AuditError> {
    if specs.is_empty() {
        return Err(AuditError::NoInput);
    }
    let mut sources = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stdin = false;
    for spec in specs {
        let spec = spec.as_ref();
        if spec == "-" {
            if !std::mem::replace(&mut stdin, true) {
                sources.push(Source::Stdin);
            }
            continue;
        }
        let mut files = Vec::new();
        let path = Path::new(spec);
        if path.is_dir() {
            walk(path, &mut files)?;
        } else if path.exists() {
            files.push(path.to_path_buf());
        } else if spec.contains(['*', '?', '[']) {
            let matches = glob::glob(spec).map_err(|e| AuditError::BadGlob {
                pattern: spec.into(),
                message: e.msg.into(),
            })?;
            for m in matches.flatten() {
                if m.is_dir() {
                    walk(&m, &mut files)?;
                } else {
                    files.push(m);
                }
            }
            if files.is_empty() {
                return Err(AuditError::NotFound { path: spec.into() });
            }
        } else {
            return Err(AuditError::NotFound { path: spec.into() });
        }
        files.sort();
        for f in files {
            let key = f.canonicalize().unwrap_or_else(|_| f.clone());
            if seen.insert(key) {
                sources.push(Source::File(f));
            }
        }
    }
    Ok(sources)
}

/// Every regular file under `dir`, hidden ones (`.complete`, editor files) skipped.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), AuditError> {
    let entries = std::fs::read_dir(dir).map_err(|source| AuditError::ReadDir {
        path: dir.into(),
        source,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// Copies standard input into a temporary file, for a window that needs two passes.
pub(crate) fn spool_stdin() -> Result<Source, AuditError> {
    let mut file = tempfile::NamedTempFile::new().map_err(AuditError::Spool)?;
    io::copy(&mut io::stdin().lock(), &mut file).map_err(AuditError::Spool)?;
    Ok(Source::Spooled(file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn folders_globs_and_duplicates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let nested = dir.path().join("y=2025/m=05");
        std::fs::create_dir_all(&nested).expect("mkdir");
        for p in [
            dir.path().join("b.log"),
            dir.path().join("a.log"),
            nested.join("PT1H.json"),
            dir.path().join(".hidden"),
        ] {
            std::fs::write(p, "x").expect("write");
        }
        let d = dir.path().display().to_string();
        let sources = expand(&[d.clone(), format!("{d}/*.log")]).expect("expands");
        let names: Vec<String> = sources.iter().map(Source::name).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(
            names[0].ends_with("a.log")
                && names[1].ends_with("b.log")
                && names[2].ends_with("PT1H.json")
        );
        assert!(matches!(
            expand(&[format!("{d}/nope")]),
            Err(AuditError::NotFound { .. })
        ));
        assert!(matches!(
            expand(&[format!("{d}/*.none")]),
            Err(AuditError::NotFound { .. })
        ));
        assert!(matches!(expand::<&str>(&[]), Err(AuditError::NoInput)));
    }

    #[test]
    fn gzip_by_magic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.log.renamed");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"hello\n").expect("write");
        std::fs::write(&path, gz.finish().expect("finish")).expect("write");
        let (mut r, gzip) = Source::File(path).open().expect("opens");
        let mut text = String::new();
        r.read_to_string(&mut text).expect("reads");
        assert!(gzip);
        assert_eq!(text, "hello\n");
    }
}
