//! The one bounded reader: every file airguard reads (spec, mock scenario, audit manifests, the
//! files `render --check` compares) goes through [`read`], [`read_to_string`] or
//! [`read_no_follow`].
//!
//! A file is opened without blocking, checked with `fstat` on the open descriptor to be a regular
//! file no larger than the caller's limit, and then read through `take(limit + 1)`, so a device
//! (`/dev/zero`), a FIFO, a directory or a file that grows while it is read is refused with a
//! stable [`Code`] before it can use unbounded memory or block. The limits are documented on the
//! constants below and in the codes' documentation.

use crate::diag::{Code, Diagnostic};
use std::io::Read;
use std::path::{Path, PathBuf};

const MIB: u64 = 1024 * 1024;

/// Largest spec file airguard reads: 16 MiB (a real spec is a few kilobytes).
pub const SPEC_LIMIT: u64 = 16 * MIB;
/// Largest mock scenario file: 16 MiB.
pub const SCENARIO_LIMIT: u64 = 16 * MIB;
/// Largest manifest file `airguard audit` reads: 64 MiB per file.
pub const MANIFEST_LIMIT: u64 = 64 * MIB;
/// Largest file `render --check` reads back from the output directory: 16 MiB. A larger file
/// differs from anything airguard renders and is reported as drift without reading it.
pub const CHECK_LIMIT: u64 = 16 * MIB;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The path does not exist.
    #[error("`{path}` does not exist")]
    NotFound {
        /// The path.
        path: PathBuf,
    },
    /// Opening, inspecting or reading the file failed.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The path is a directory, device, FIFO, socket or (when not followed) a symbolic link.
    #[error("`{path}` is {kind}, not a regular file")]
    NotARegularFile {
        /// The path.
        path: PathBuf,
        /// What it is instead, with its article ("a directory").
        kind: &'static str,
    },
    /// The file is larger than the limit.
    #[error("`{path}` is larger than the {} MiB limit", limit / MIB)]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
}

impl InputError {
    /// The stable diagnostic code for this error.
    pub fn code(&self) -> Code {
        match self {
            InputError::NotFound { .. } | InputError::Io { .. } => Code::IoError,
            InputError::NotARegularFile { .. } => Code::NotARegularFile,
            InputError::TooLarge { .. } => Code::InputTooLarge,
        }
    }

    /// A diagnostic naming the file, with a help line saying what to do.
    pub fn diagnostic(&self) -> Diagnostic {
        let help = match self {
            InputError::NotFound { .. } => "check the path given on the command line",
            InputError::Io { .. } => "check the path and its permissions",
            InputError::NotARegularFile { .. } => {
                "pass a regular file (not a directory, device, FIFO or socket)"
            }
            InputError::TooLarge { .. } => "split the input, or check that this is the right file",
        };
        Diagnostic::new(self.code(), self.to_string()).with_help(help)
    }
}

impl From<InputError> for std::io::Error {
    fn from(e: InputError) -> Self {
        let kind = match &e {
            InputError::NotFound { .. } => std::io::ErrorKind::NotFound,
            InputError::Io { source, .. } => source.kind(),
            InputError::NotARegularFile { .. } | InputError::TooLarge { .. } => {
                std::io::ErrorKind::InvalidInput
            }
        };
        std::io::Error::new(kind, e)
    }
}

/// Read a whole regular file of at most `limit` bytes, following symbolic links.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    read_impl(path, limit, true)
}

/// Like [`read`], but a symbolic link at `path` itself is refused as "a symbolic link" (its
/// target is never opened).
pub fn read_no_follow(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    read_impl(path, limit, false)
}

/// Like [`read`], for text: invalid UTF-8 is an [`InputError::Io`] of kind `InvalidData`.
pub fn read_to_string(path: &Path, limit: u64) -> Result<String, InputError> {
    let bytes = read(path, limit)?;
    String::from_utf8(bytes).map_err(|e| InputError::Io {
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })
}

/// What a non-regular file is, with its article.
pub fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

fn read_impl(path: &Path, limit: u64, follow: bool) -> Result<Vec<u8>, InputError> {
    let io = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            InputError::NotFound {
                path: path.to_owned(),
            }
        } else {
            InputError::Io {
                path: path.to_owned(),
                source,
            }
        }
    };
    let not_regular = |ft: &std::fs::FileType| InputError::NotARegularFile {
        path: path.to_owned(),
        kind: kind_of(ft),
    };
    // Refuse what is visibly not a regular file before opening it: opening a FIFO blocks.
    let meta = if follow {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    }
    .map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular(&meta.file_type()));
    }
    // The path may have changed since: open without blocking and without following a final
    // symlink when asked, and decide on what was opened.
    let file = open(path, follow).map_err(|e| {
        if !follow && is_symlink_refusal(&e) {
            InputError::NotARegularFile {
                path: path.to_owned(),
                kind: "a symbolic link",
            }
        } else {
            io(e)
        }
    })?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular(&meta.file_type()));
    }
    let too_large = || InputError::TooLarge {
        path: path.to_owned(),
        limit,
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open(path: &Path, follow: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO swapped in after the check returns at once instead of waiting
    // for a writer; it changes nothing for regular files. O_NOFOLLOW: a final symlink fails.
    let mut flags = nix_flags::NONBLOCK;
    if !follow {
        flags |= nix_flags::NOFOLLOW;
    }
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path, _follow: bool) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

#[cfg(unix)]
fn is_symlink_refusal(e: &std::io::Error) -> bool {
    // O_NOFOLLOW on a symlink fails with ELOOP (EMLINK on some BSDs).
    e.raw_os_error() == Some(nix_flags::ELOOP) || e.raw_os_error() == Some(nix_flags::EMLINK)
}

#[cfg(not(unix))]
fn is_symlink_refusal(_e: &std::io::Error) -> bool {
    false
}

/// The open flags and error numbers used above.
#[cfg(unix)]
mod nix_flags {
    pub const NONBLOCK: i32 = rustix::fs::OFlags::NONBLOCK.bits() as i32;
    pub const NOFOLLOW: i32 = rustix::fs::OFlags::NOFOLLOW.bits() as i32;
    pub const ELOOP: i32 = rustix::io::Errno::LOOP.raw_os_error();
    pub const EMLINK: i32 = rustix::io::Errno::MLINK.raw_os_error();
}
