//! The record of accepted mutating requests, one hex-encoded generic netlink payload a line,
//! and its replay: resent in order into a fresh namespace, the records must rebuild the
//! configuration the fuzzer left, which shows that no rejected request changed anything.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use super::generate::command_name;
use super::message::flags;
use super::socket::{GenlSocket, Outcome};
use crate::report::{errno_name, ReplayReport};

/// Most error lines a replay report lists; `failed` counts them all.
const MAX_LISTED_ERRORS: usize = 100;

/// Lower-case hex of `bytes`, two digits a byte.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    text
}

/// The bytes of a hex string (either case, no separators).
pub fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", text.len()));
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).map_err(|_| "not ASCII".to_owned())?;
            u8::from_str_radix(pair, 16).map_err(|_| format!("'{pair}' is not a hex byte"))
        })
        .collect()
}

/// Appends accepted requests to a record file.
pub struct Recorder {
    writer: BufWriter<File>,
}

impl Recorder {
    /// Opens `path` for appending, creating it if needed.
    pub fn append_to(path: &Path) -> io::Result<Recorder> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Recorder {
            writer: BufWriter::new(file),
        })
    }

    /// Records one request payload (generic netlink header and attributes).
    pub fn record(&mut self, payload: &[u8]) -> io::Result<()> {
        writeln!(self.writer, "{}", to_hex(payload))
    }

    /// Writes out what is buffered.
    pub fn finish(mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// One line of a record file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its line number, from 1.
    pub line: usize,
    /// The request payload, or why the line is not one.
    pub payload: Result<Vec<u8>, String>,
}

/// The records of a record file; blank lines are skipped.
pub fn read_records(path: &Path) -> io::Result<Vec<Record>> {
    let reader = BufReader::new(File::open(path)?);
    let mut records = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line?;
        let line = line.trim();
        if !line.is_empty() {
            records.push(Record {
                line: index + 1,
                payload: from_hex(line),
            });
        }
    }
    Ok(records)
}

/// Resends `records` to family `family`, each with `NLM_F_ACK` and in order, and reports
/// those the kernel did not acknowledge.
pub fn replay(
    records: Vec<Record>,
    family: u16,
    timeout: Duration,
) -> Result<ReplayReport, String> {
    let open = || GenlSocket::open(family, timeout).map_err(|e| format!("netlink socket: {e}"));
    let mut socket = open()?;
    let mut report = ReplayReport::default();
    for Record { line, payload } in records {
        report.replayed += 1;
        let failure = match payload {
            Err(error) => Some(format!("line {line}: {error}")),
            Ok(payload) => {
                let what = format!(
                    "line {line}: {}",
                    command_name(payload.first().copied().unwrap_or(0))
                );
                match socket.exchange(flags::REQUEST | flags::ACK, &payload, false) {
                    Ok(exchange) => match exchange.outcome {
                        Outcome::Accepted => None,
                        Outcome::Rejected(errno) => Some(format!(
                            "{what}: {} ({})",
                            errno_name(errno),
                            io::Error::from_raw_os_error(errno)
                        )),
                        Outcome::TimedOut | Outcome::Abandoned => {
                            socket = open()?;
                            Some(format!("{what}: no acknowledgement"))
                        }
                    },
                    Err(error) => {
                        socket = open()?;
                        Some(format!("{what}: {error}"))
                    }
                }
            }
        };
        if let Some(failure) = failure {
            report.failed += 1;
            if report.errors.len() < MAX_LISTED_ERRORS {
                report.errors.push(failure);
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let bytes: Vec<u8> = (0..=255).collect();
        let text = to_hex(&bytes);
        assert_eq!(&text[..8], "00010203");
        assert_eq!(&text[text.len() - 4..], "feff");
        assert_eq!(from_hex(&text).unwrap(), bytes);
        assert_eq!(from_hex("0A0b").unwrap(), [10, 11]);
        assert!(from_hex("abc").is_err());
        assert!(from_hex("zz").is_err());
        assert!(from_hex("é0").is_err());
        assert_eq!(from_hex("").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn records_round_trip_through_the_file_in_order() {
        let path = std::env::temp_dir().join(format!("ndtest-record-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let payloads = [
            vec![1u8, 1, 0, 0, 8, 0, 1, 0, 10, 0, 0, 100],
            vec![15, 1, 0, 0],
        ];
        let mut recorder = Recorder::append_to(&path).unwrap();
        recorder.record(&payloads[0]).unwrap();
        recorder.finish().unwrap();
        // A second run appends rather than replaces.
        let mut recorder = Recorder::append_to(&path).unwrap();
        recorder.record(&payloads[1]).unwrap();
        recorder.finish().unwrap();
        std::fs::write(
            &path,
            std::fs::read_to_string(&path).unwrap() + "\nnot hex\n",
        )
        .unwrap();

        let records = read_records(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].line, 1);
        assert_eq!(records[0].payload, Ok(payloads[0].clone()));
        assert_eq!(records[1].line, 2);
        assert_eq!(records[1].payload, Ok(payloads[1].clone()));
        assert_eq!(records[2].line, 4, "the blank line is skipped but counted");
        assert!(records[2].payload.is_err());
    }
}
