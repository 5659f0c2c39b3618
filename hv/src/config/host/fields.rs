//! Reading typed fields out of the spanned TOML tree: every value keeps its byte range so an
//! error can name its line; unknown keys, wrong types and missing fields become errors here.

use super::error::{ConfigError, ConfigErrorKind};
use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Byte range of the value in the file.
    pub span: Range<usize>,
    /// The field path (`cores[1]`, `system.console`).
    pub field: String,
}

impl<T> Located<T> {
    /// The same place with another value.
    pub fn with<U>(&self, value: U) -> Located<U> {
        Located { value, span: self.span.clone(), field: self.field.clone() }
    }
}

/// Collects errors, turning byte offsets into lines and columns.
pub struct Diagnostics<'s> {
    file: String,
    source: &'s str,
    line_starts: Vec<usize>,
    /// The errors so far.
    pub errors: Vec<ConfigError>,
}

impl<'s> Diagnostics<'s> {
    /// Errors in `source`, reported under the name `file`.
    pub fn new(file: &str, source: &'s str) -> Self {
        let line_starts =
            core::iter::once(0).chain(source.match_indices('\n').map(|(at, _)| at + 1)).collect();
        Self { file: file.to_string(), source, line_starts, errors: Vec::new() }
    }

    /// Line (from 1) and column (in characters, from 1) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&start| start <= offset).max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let column = self.source.get(start..offset.min(self.source.len())).map_or(0, |s| s.chars().count());
        (line, column + 1)
    }

    /// Line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.position(offset).0
    }

    /// Records an error at `span` in `field` of `lpar`.
    pub fn report(&mut self, span: &Range<usize>, field: &str, lpar: Option<&str>, kind: ConfigErrorKind) {
        let (line, column) = self.position(span.start);
        self.errors.push(ConfigError {
            file: self.file.clone(),
            line,
            column,
            field: field.to_string(),
            lpar: lpar.map(ToOwned::to_owned),
            kind,
        });
    }

    /// Records an error at a located value.
    pub fn at<T>(&mut self, located: &Located<T>, lpar: Option<&str>, kind: ConfigErrorKind) {
        self.report(&located.span, &located.field, lpar, kind);
    }
}

/// One TOML table being read: known keys are taken one by one, the rest are unknown fields.
pub struct TableReader<'t, 'i> {
    table: &'t DeTable<'i>,
    /// The table's own span (its `[header]`), where missing fields are reported.
    pub span: Range<usize>,
    /// Prefix for field paths (`system.`, `boot.`, or empty).
    prefix: String,
    /// The LPAR the table belongs to, for messages.
    pub lpar: Option<String>,
    known: &'static [&'static str],
}

impl<'t, 'i> TableReader<'t, 'i> {
    /// Reads `table` (written at `span`), which may hold the `known` keys.
    pub fn new(
        table: &'t DeTable<'i>,
        span: Range<usize>,
        prefix: &str,
        lpar: Option<String>,
        known: &'static [&'static str],
    ) -> Self {
        Self { table, span, prefix: prefix.to_string(), lpar, known }
    }

    /// The field path of `key`.
    pub fn field(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The raw value of `key`.
    pub fn raw(&self, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
        self.table.get(key)
    }

    /// Reports every key that is not known.
    pub fn finish(&self, diag: &mut Diagnostics<'_>) {
        for (key, _) in self.table.iter() {
            let name: &str = key.get_ref();
            if !self.known.contains(&name) {
                let suggestion = closest(name, self.known);
                diag.report(
                    &key.span(),
                    &self.field(name),
                    self.lpar.as_deref(),
                    ConfigErrorKind::UnknownField { suggestion },
                );
            }
        }
    }

    /// Reports `key` missing.
    pub fn missing(&self, key: &str, diag: &mut Diagnostics<'_>) {
        diag.report(&self.span, &self.field(key), self.lpar.as_deref(), ConfigErrorKind::MissingField);
    }

    /// Reports a wrong type for `key`.
    pub fn wrong_type(
        &self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
        expected: &'static str,
        diag: &mut Diagnostics<'_>,
    ) {
        let found = value.get_ref().type_str();
        diag.report(
            &value.span(),
            &self.field(key),
            self.lpar.as_deref(),
            ConfigErrorKind::WrongType { expected, found },
        );
    }

    /// `key` located, if present.
    pub fn locate<T>(&self, key: &str, value: T, span: Range<usize>) -> Located<T> {
        Located { value, span, field: self.field(key) }
    }

    /// A string field.
    pub fn string(&self, key: &str, diag: &mut Diagnostics<'_>) -> Option<Located<String>> {
        let raw = self.raw(key)?;
        match raw.get_ref().as_str() {
            Some(text) => Some(self.locate(key, text.to_string(), raw.span())),
            None => {
                self.wrong_type(key, raw, "a string", diag);
                None
            }
        }
    }

    /// A boolean field.
    pub fn boolean(&self, key: &str, diag: &mut Diagnostics<'_>) -> Option<Located<bool>> {
        let raw = self.raw(key)?;
        match raw.get_ref().as_bool() {
            Some(value) => Some(self.locate(key, value, raw.span())),
            None => {
                self.wrong_type(key, raw, "true or false", diag);
                None
            }
        }
    }

    /// An integer field within `min..=max`.
    pub fn integer(&self, key: &str, min: u64, max: u64, diag: &mut Diagnostics<'_>) -> Option<Located<u64>> {
        let raw = self.raw(key)?;
        let Some(value) = integer_value(raw.get_ref()) else {
            self.wrong_type(key, raw, "an integer", diag);
            return None;
        };
        self.in_range(self.locate(key, value, raw.span()), min, max, diag)
    }

    /// Checks a located integer against `min..=max`.
    pub fn in_range(
        &self,
        at: Located<i128>,
        min: u64,
        max: u64,
        diag: &mut Diagnostics<'_>,
    ) -> Option<Located<u64>> {
        match u64::try_from(at.value) {
            Ok(value) if (min..=max).contains(&value) => Some(at.with(value)),
            _ => {
                diag.at(&at, self.lpar.as_deref(), ConfigErrorKind::OutOfRange { value: at.value, min, max });
                None
            }
        }
    }

    /// A size field: an integer of bytes, or a string like `"256M"`, `"2 GiB"`, `"0x40000000"`.
    pub fn size(&self, key: &str, diag: &mut Diagnostics<'_>) -> Option<Located<u64>> {
        let raw = self.raw(key)?;
        let located = |value| self.locate(key, value, raw.span());
        let here = self.locate(key, (), raw.span());
        match raw.get_ref() {
            DeValue::Integer(_) => match integer_value(raw.get_ref()).map(u64::try_from) {
                Some(Ok(bytes)) => Some(located(bytes)),
                _ => {
                    diag.at(&here, self.lpar.as_deref(), ConfigErrorKind::BadSize { text: raw_text(raw) });
                    None
                }
            },
            DeValue::String(text) => match parse_size(text) {
                Some(bytes) => Some(located(bytes)),
                None => {
                    diag.at(&here, self.lpar.as_deref(), ConfigErrorKind::BadSize { text: text.to_string() });
                    None
                }
            },
            _ => {
                self.wrong_type(key, raw, "a size (bytes, or a string like \"2G\")", diag);
                None
            }
        }
    }

    /// A keyword field: one of `allowed`, mapped through `choose`.
    pub fn choice<T>(
        &self,
        key: &str,
        allowed: &'static [&'static str],
        choose: impl Fn(&str) -> Option<T>,
        diag: &mut Diagnostics<'_>,
    ) -> Option<Located<T>> {
        let text = self.string(key, diag)?;
        match choose(&text.value) {
            Some(value) => Some(text.with(value)),
            None => {
                let kind = ConfigErrorKind::UnknownChoice { value: text.value.clone(), allowed };
                diag.at(&text, self.lpar.as_deref(), kind);
                None
            }
        }
    }
}

/// The integer a TOML value holds, if it is one.
pub fn integer_value(value: &DeValue<'_>) -> Option<i128> {
    let integer = value.as_integer()?;
    i128::from_str_radix(integer.as_str(), integer.radix()).ok()
}

/// The value as written, for messages.
fn raw_text(value: &Spanned<DeValue<'_>>) -> String {
    match integer_value(value.get_ref()) {
        Some(number) => number.to_string(),
        None => value.get_ref().type_str().to_string(),
    }
}

/// Reads `268435456`, `0x1000_0000`, `256M`, `256 MiB`, `256MB`, `2G`, `1T`: binary units
/// (`MB` means MiB, as on PowerVM), underscores allowed between digits.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits_end = if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        2 + hex.find(|c: char| !c.is_ascii_hexdigit() && c != '_').unwrap_or(hex.len())
    } else {
        text.find(|c: char| !c.is_ascii_digit() && c != '_').unwrap_or(text.len())
    };
    let (number, unit) = text.split_at(digits_end);
    let number: String = number.chars().filter(|&c| c != '_').collect();
    let value = match number.strip_prefix("0x").or_else(|| number.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => number.parse::<u64>().ok()?,
    };
    let shift = match unit.trim() {
        "" | "B" => 0,
        "K" | "KB" | "KiB" | "k" => 10,
        "M" | "MB" | "MiB" => 20,
        "G" | "GB" | "GiB" => 30,
        "T" | "TB" | "TiB" => 40,
        _ => return None,
    };
    value.checked_mul(1u64 << shift)
}

/// The known key closest to a mistyped one (edit distance at most 2), if any.
pub fn closest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    known
        .iter()
        .map(|&candidate| (edit_distance(key, candidate), candidate))
        .filter(|&(d, _)| d <= 2)
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_every_spelling() {
        assert_eq!(parse_size("256M"), Some(256 << 20));
        assert_eq!(parse_size("256 MiB"), Some(256 << 20));
        assert_eq!(parse_size("2GB"), Some(2 << 30));
        assert_eq!(parse_size("0x4000_0000"), Some(1 << 30));
        assert_eq!(parse_size("1_024"), Some(1024));
        assert_eq!(parse_size("1T"), Some(1 << 40));
        assert_eq!(parse_size("2 GiB "), Some(2 << 30));
        for bad in ["", "M", "2X", "0x", "-1G", "99999999999T", "1.5G"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn suggestions_for_typos() {
        assert_eq!(closest("memroy", &["memory", "name"]), Some("memory"));
        assert_eq!(closest("cpus", &["cores", "threads"]), None);
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let diag = Diagnostics::new("f", "ab\nçd\n");
        assert_eq!(diag.position(0), (1, 1));
        assert_eq!(diag.position(3), (2, 1));
        assert_eq!(diag.position(5), (2, 2));
    }
}
