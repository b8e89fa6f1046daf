//! Reading a TOML file so that every error names the file, the line and the field.
//!
//! Syntax and type errors come from `toml` with the byte span of the offending key or value;
//! semantic errors found later are reported against the span `toml::Spanned` kept for the
//! value. Either way the span becomes a line number and the key it belongs to.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

/// A configuration that cannot be used, and where the problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file as named on the command line.
    pub file: String,
    /// The 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// The field whose value is wrong, when known (`advisor.timeout`, `metrics.load`).
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ": line {line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The text of a configuration file and the name errors give it.
pub struct Source<'a> {
    /// The file as named on the command line.
    pub file: &'a str,
    /// Its contents.
    pub text: &'a str,
}

impl<'a> Source<'a> {
    /// Reads the whole of `path`; the error names the file.
    pub fn read(path: &Path) -> Result<String, ConfigError> {
        std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            line: None,
            field: None,
            message: format!("cannot read the file: {e}"),
        })
    }

    /// Deserializes the text, turning a `toml` error into one with a line and a field.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        toml::from_str(self.text).map_err(|e| {
            let (line, field) = match e.span() {
                Some(span) => (Some(self.line_of(span.start)), self.key_at(span)),
                None => (None, None),
            };
            ConfigError {
                file: self.file.to_string(),
                line,
                field,
                message: e.message().trim_end().to_string(),
            }
        })
    }

    /// An error about the value at `span` of field `field`.
    pub fn error(
        &self,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            line: Some(self.line_of(span.start)),
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// The 1-based line of byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.text.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// The key `span` names: the key itself when the span covers one (`key = ...` follows),
    /// or the key of the `key = value` whose value starts there.
    fn key_at(&self, span: Range<usize>) -> Option<String> {
        let text = self.text;
        let start = span.start.min(text.len());
        let end = span.end.clamp(start, text.len());
        let is_key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        let spanned = &text[start..end];
        if !spanned.is_empty()
            && spanned.chars().all(is_key_char)
            && text[end..].trim_start_matches([' ', '\t']).starts_with('=')
        {
            return Some(spanned.to_string());
        }
        let before = &text[..start];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let head = before[line_start..]
            .trim_end()
            .strip_suffix('=')?
            .trim_end();
        let key_start = head.rfind(|c: char| !is_key_char(c)).map_or(0, |i| i + 1);
        let key = &head[key_start..];
        (!key.is_empty()).then(|| key.to_string())
    }
}

/// The longest interval, period, timeout or staleness a file may set: far more than any
/// sensible setting, and small enough that timer arithmetic cannot overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// A duration written like `"5s"`, `"500ms"` or `"1m 30s"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text)
            .map(DurationValue)
            .map_err(|e| {
                D::Error::custom(format!(
                    "\"{text}\" is not a duration like \"5s\" or \"500ms\" ({e})"
                ))
            })
    }
}

/// Formats a duration the way the files write them ("5s", "1m 30s").
pub fn show_duration(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

/// Checks a value: `check` turns it into the configured one or says what is wrong.
pub(crate) fn required<T, U>(
    source: &Source<'_>,
    field: &str,
    value: &Spanned<T>,
    check: impl FnOnce(&T) -> Result<U, String>,
) -> Result<U, ConfigError> {
    check(value.get_ref()).map_err(|e| source.error(value.span(), field, e))
}

/// Checks an optional value as [`required`] does; a missing value takes `default`.
pub(crate) fn checked<T, U>(
    source: &Source<'_>,
    field: &str,
    value: Option<&Spanned<T>>,
    default: U,
    check: impl FnOnce(&T) -> Result<U, String>,
) -> Result<U, ConfigError> {
    match value {
        Some(value) => required(source, field, value, check),
        None => Ok(default),
    }
}

/// Checks a name with `check` and that `seen` does not hold it yet, then adds it there.
pub(crate) fn unique_name(
    source: &Source<'_>,
    seen: &mut BTreeMap<String, usize>,
    field: &str,
    name: &Spanned<String>,
    check: impl FnOnce(&String) -> Result<String, String>,
) -> Result<String, ConfigError> {
    let checked = required(source, field, name, check)?;
    first_seen(
        source,
        seen,
        checked.clone(),
        name,
        field,
        format!("name \"{checked}\""),
    )?;
    Ok(checked)
}

/// A check that `key` was not seen before, remembering the line it is on; `what` names it in
/// the error.
pub(crate) fn first_seen<K: Ord>(
    source: &Source<'_>,
    seen: &mut BTreeMap<K, usize>,
    key: K,
    spanned: &Spanned<impl Sized>,
    field: &str,
    what: impl std::fmt::Display,
) -> Result<(), ConfigError> {
    let line = source.line_of(spanned.span().start);
    if let Some(first) = seen.get(&key) {
        return Err(source.error(
            spanned.span(),
            field,
            format!("{what} is listed twice (first on line {first})"),
        ));
    }
    seen.insert(key, line);
    Ok(())
}

/// A duration above 0 and at most [`MAX_DURATION`].
pub(crate) fn positive_duration(value: &DurationValue) -> Result<Duration, String> {
    if value.0.is_zero() {
        Err("must be longer than 0".into())
    } else if value.0 > MAX_DURATION {
        Err(format!("must be at most {}", show_duration(MAX_DURATION)))
    } else {
        Ok(value.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        period: Option<DurationValue>,
        count: Option<u32>,
    }

    fn error_of(text: &str) -> ConfigError {
        Source {
            file: "sample.toml",
            text,
        }
        .deserialize::<Sample>()
        .unwrap_err()
    }

    #[test]
    fn a_bad_value_names_its_line_and_key() {
        let error = error_of("count = 1\nperiod = \"5 parsecs\"\n");
        assert_eq!(error.file, "sample.toml");
        assert_eq!(error.line, Some(2));
        assert_eq!(error.field.as_deref(), Some("period"));
        assert!(error.message.contains("is not a duration"), "{error}");
    }

    #[test]
    fn an_unknown_key_is_named_as_the_field() {
        let error = error_of("\ncount = 1\ncuont = 2\n");
        assert_eq!(error.line, Some(3));
        assert_eq!(error.field.as_deref(), Some("cuont"));
        assert_eq!(
            error.to_string(),
            "sample.toml: line 3: field `cuont`: unknown field `cuont`, expected `period` or \
             `count`"
        );
    }

    #[test]
    fn durations_read_as_written() {
        let parsed: Sample = Source {
            file: "sample.toml",
            text: "period = \"1m 30s\"\ncount = 3",
        }
        .deserialize()
        .unwrap();
        assert_eq!(parsed.period, Some(DurationValue(Duration::from_secs(90))));
        assert_eq!(parsed.count, Some(3));
        assert_eq!(show_duration(Duration::from_millis(1500)), "1s 500ms");
    }
}
