//! The store of source files that diagnostics point into.
//!
//! Every file a command reads (spec, manifests) is registered once and gets a [`FileId`]. Labels
//! carry byte ranges; this store turns them into 1-based line and column numbers and feeds the
//! human renderer.

use codespan_reporting::files::{Error as FilesError, Files as CsFiles, SimpleFile};
use std::ops::Range;

/// Handle to a file in [`Files`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub(crate) usize);

/// 1-based line and column (column counted in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct LineCol {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// Source files by id.
#[derive(Default, Debug)]
pub struct Files {
    files: Vec<SimpleFile<String, String>>,
}

impl Files {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register a file and return its id.
    pub fn add(&mut self, name: impl Into<String>, source: impl Into<String>) -> FileId {
        self.files.push(SimpleFile::new(name.into(), source.into()));
        FileId(self.files.len() - 1)
    }

    /// The display name of a file.
    pub fn name(&self, id: FileId) -> &str {
        self.files[id.0].name()
    }

    /// The text of a file.
    pub fn source(&self, id: FileId) -> &str {
        self.files[id.0].source()
    }

    /// 1-based line and column of a byte offset (clamped to the file). Finds the line with a
    /// binary search over the line starts, so locating many diagnostics in a large file stays
    /// linear in their number.
    pub fn line_col(&self, id: FileId, offset: usize) -> LineCol {
        let src = self.source(id);
        let at = floor_char_boundary(src, offset.min(src.len()));
        let line = CsFiles::line_index(self, id, at).unwrap_or(0);
        let start = CsFiles::line_range(self, id, line)
            .map_or(0, |r| r.start)
            .min(at);
        let column = src[start..at].chars().count() + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }

    /// Byte offset of a 1-based line and column (column in characters), clamped to the file.
    pub fn offset_of(&self, id: FileId, line: usize, column: usize) -> usize {
        let src = self.source(id);
        let mut start = 0;
        for _ in 1..line.max(1) {
            match src[start..].find('\n') {
                Some(i) => start += i + 1,
                None => return src.len(),
            }
        }
        let rest = &src[start..];
        let end_of_line = rest.find('\n').unwrap_or(rest.len());
        let col_bytes = rest[..end_of_line]
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(end_of_line, |(i, _)| i);
        start + col_bytes
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl<'a> CsFiles<'a> for Files {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.files
            .get(id.0)
            .map(|f| f.name().as_str())
            .ok_or(FilesError::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.files
            .get(id.0)
            .map(|f| f.source().as_str())
            .ok_or(FilesError::FileMissing)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        self.files
            .get(id.0)
            .ok_or(FilesError::FileMissing)?
            .line_index((), byte_index)
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, FilesError> {
        self.files
            .get(id.0)
            .ok_or(FilesError::FileMissing)?
            .line_range((), line_index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_agrees_with_counting_from_the_start() {
        let mut files = Files::new();
        let text = "a: 1\nb: \"é—x\"\r\n\nlast line without newline";
        let id = files.add("t.yaml", text);
        for offset in 0..=text.len() + 2 {
            let before = &text[..floor_char_boundary(text, offset.min(text.len()))];
            let line = before.matches('\n').count() + 1;
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = before[start..].chars().count() + 1;
            assert_eq!(
                files.line_col(id, offset),
                LineCol { line, column },
                "offset {offset}"
            );
        }
    }
}
