//! Errors of the client, and the kernel's error replies with their extended acks.

use std::fmt;
use std::io;
use std::time::Duration;

use nd_netlink_proto::attr::top;
use nd_netlink_proto::nla::{align, Attr, Attrs, HEADER_LEN};

use super::decode::DecodeError;
use super::names::AttrSpace;

/// Extended-ack attribute numbers (`enum nlmsgerr_attrs` in `linux/netlink.h`).
pub mod ext_ack {
    /// Human-readable error message (NUL-terminated string).
    pub const MSG: u16 = 1;
    /// Offset of the offending attribute from the start of the request's netlink header (u32).
    pub const OFFS: u16 = 2;
    /// Type of a missing required attribute (u32).
    pub const MISS_TYPE: u16 = 5;
    /// Offset of the nest the missing attribute should have been in (u32).
    pub const MISS_NEST: u16 = 6;
}

/// Size of `struct nlmsghdr`, where extended-ack offsets start counting.
const NLMSG_HEADER_LEN: usize = 16;
/// Size of `struct genlmsghdr`, between the netlink header and the attributes.
const GENL_HEADER_LEN: usize = 4;

/// An error the kernel returned for a request, with what its extended ack explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelError {
    /// The errno, positive (`EEXIST`, ...).
    pub errno: i32,
    /// The extended-ack message (`NLMSGERR_ATTR_MSG`).
    pub message: Option<String>,
    /// The request attribute the kernel pointed at (`NLMSGERR_ATTR_OFFS`), by name.
    pub attribute: Option<String>,
    /// A required attribute the request lacked (`NLMSGERR_ATTR_MISS_TYPE`), by name.
    pub missing: Option<String>,
}

impl KernelError {
    /// Builds the error from the errno the kernel sent (negative or positive), the extended-ack
    /// attributes as `(type, payload)` pairs, and the generic netlink payload of the request
    /// (header and attributes), which offsets refer into.
    pub fn from_ext_ack<'a>(
        code: i32,
        ext_ack: impl IntoIterator<Item = (u16, &'a [u8])>,
        request: &[u8],
    ) -> KernelError {
        let mut error = KernelError {
            errno: code.saturating_abs(),
            message: None,
            attribute: None,
            missing: None,
        };
        let mut missing_type = None;
        let mut missing_nest = None;
        for (kind, payload) in ext_ack {
            let as_u32 = || payload.try_into().ok().map(u32::from_ne_bytes);
            match kind {
                ext_ack::MSG => {
                    let text = payload.split(|&b| b == 0).next().unwrap_or_default();
                    let text = String::from_utf8_lossy(text).trim().to_string();
                    error.message = (!text.is_empty()).then_some(text);
                }
                ext_ack::OFFS => {
                    error.attribute = as_u32().and_then(|offset| attribute_at(request, offset));
                }
                ext_ack::MISS_TYPE => missing_type = as_u32(),
                ext_ack::MISS_NEST => missing_nest = Some(as_u32()),
                _ => {}
            }
        }
        if let Some(kind) = missing_type.and_then(|kind| u16::try_from(kind).ok()) {
            let space = match missing_nest {
                None => AttrSpace::Top,
                // The nest the kernel points at says which numbering the attribute is in; a
                // request's nests are SYNC and the WEIGHTS elements.
                Some(offset) => match offset.and_then(|offset| top_level_at(request, offset)) {
                    Some(top::SYNC) => AttrSpace::Sync,
                    _ => AttrSpace::WeightEntry,
                },
            };
            error.missing = Some(space.describe(kind));
        }
        error
    }

    /// The errno's text, like `strerror` ("File exists").
    pub fn errno_text(&self) -> String {
        errno_text(self.errno)
    }
}

/// `strerror` of `errno`, without the "(os error N)" Rust appends.
pub fn errno_text(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error ") {
        Some(end) => text[..end].to_string(),
        None => text,
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.errno_text())?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(missing) = &self.missing {
            write!(f, ": missing attribute {missing}")?;
        }
        if let Some(attribute) = &self.attribute {
            write!(f, " (attribute {attribute})")?;
        }
        if self.errno == libc::EPERM {
            f.write_str(
                ": this operation needs CAP_NET_ADMIN in the dispatcher's network namespace",
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for KernelError {}

/// The top-level attribute of `request` that spans `offset` (from the start of the netlink
/// header), located: its kind, the attribute, and the offset within its payload.
fn top_level(request: &[u8], offset: u32) -> Option<(Attr<'_>, Option<usize>)> {
    let offset = usize::try_from(offset).ok()?;
    let attrs = request.get(GENL_HEADER_LEN..)?;
    let within = offset.checked_sub(NLMSG_HEADER_LEN + GENL_HEADER_LEN)?;
    let (_, attr, inner) = locate(attrs, within)?;
    Some((attr, inner))
}

/// The kind of the top-level attribute of `request` at `offset`.
fn top_level_at(request: &[u8], offset: u32) -> Option<u16> {
    top_level(request, offset).map(|(attr, _)| attr.kind)
}

/// Names the request attribute at `offset` (from the start of the netlink header), looking
/// into the `SYNC` nest and `WEIGHTS` entries; `None` if the offset points at no attribute
/// of `request`.
fn attribute_at(request: &[u8], offset: u32) -> Option<String> {
    let (attr, inner) = top_level(request, offset)?;
    let name = AttrSpace::Top.describe(attr.kind);
    if let (top::SYNC, Some(inner)) = (attr.kind, inner) {
        return match locate(attr.payload, inner) {
            Some((_, field, _)) => Some(AttrSpace::Sync.describe(field.kind)),
            None => Some(name),
        };
    }
    let (true, Some(inner)) = (attr.kind == top::WEIGHTS, inner) else {
        return Some(name);
    };
    let (index, element, inner) = locate(attr.payload, inner)?;
    let entry = format!("{name} entry {}", index + 1);
    match inner.and_then(|inner| locate(element.payload, inner)) {
        Some((_, field, _)) => Some(format!(
            "{entry} {}",
            AttrSpace::WeightEntry
                .name(field.kind)
                .unwrap_or("(unknown)")
        )),
        None => Some(entry),
    }
}

/// The attribute of `buf` that spans byte `offset`: its position in `buf`, the attribute, and
/// the offset within its payload when `offset` lies past the attribute's header.
fn locate(buf: &[u8], offset: usize) -> Option<(usize, Attr<'_>, Option<usize>)> {
    let mut start = 0;
    for (index, attr) in Attrs::new(buf).enumerate() {
        let len = HEADER_LEN + attr.payload.len();
        if (start..start + len).contains(&offset) {
            return Some((index, attr, offset.checked_sub(start + HEADER_LEN)));
        }
        start += align(len);
    }
    None
}

/// What went wrong, without the operation it happened in.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The generic netlink family is not registered where the tool runs.
    #[error("the nd module is not loaded in this namespace (no generic netlink family \"nd\")")]
    NotLoaded,
    /// The kernel refused the request.
    #[error("{0}")]
    Kernel(KernelError),
    /// The netlink socket failed.
    #[error("netlink socket: {0}")]
    Socket(String),
    /// The kernel sent nothing for too long.
    #[error("no reply from the kernel within {} s", .0.as_secs())]
    Timeout(Duration),
    /// The kernel's messages did not follow netlink's rules.
    #[error("unexpected netlink reply: {0}")]
    Protocol(String),
    /// A reply did not decode into the typed object.
    #[error("{0}")]
    Decode(#[from] DecodeError),
    /// Every attempt at a dump was interrupted by concurrent changes.
    #[error("the dump was interrupted by concurrent changes {0} times in a row")]
    Interrupted(u32),
}

/// A failed operation: what was attempted, and why it failed.
#[derive(Debug)]
pub struct Error {
    action: String,
    kind: ErrorKind,
}

impl Error {
    /// An error of `kind` while attempting `action`.
    pub fn new(action: impl Into<String>, kind: ErrorKind) -> Self {
        Error {
            action: action.into(),
            kind,
        }
    }

    /// What was attempted ("add VIP 10.0.0.1").
    pub fn action(&self) -> &str {
        &self.action
    }

    /// Why it failed.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Why it failed, taking the error apart.
    pub fn into_kind(self) -> ErrorKind {
        self.kind
    }

    /// The kernel's error, if the kernel refused the request.
    pub fn kernel(&self) -> Option<&KernelError> {
        match &self.kind {
            ErrorKind::Kernel(error) => Some(error),
            _ => None,
        }
    }

    /// The kernel's errno, if the kernel refused the request.
    pub fn errno(&self) -> Option<i32> {
        self.kernel().map(|error| error.errno)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.action, self.kind)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}

#[cfg(test)]
mod tests {
    use nd_netlink_proto::attr::sync;

    use super::*;

    #[test]
    fn errno_text_is_strerror_without_the_rust_suffix() {
        assert_eq!(errno_text(libc::EEXIST), "File exists");
        assert_eq!(errno_text(libc::ENOENT), "No such file or directory");
    }

    #[test]
    fn errors_read_action_errno_then_kernel_message() {
        let error = Error::new(
            "add VIP 10.0.0.1",
            ErrorKind::Kernel(KernelError::from_ext_ack(
                -libc::EEXIST,
                [(ext_ack::MSG, &b"VIP already configured\0"[..])],
                &[],
            )),
        );
        assert_eq!(
            error.to_string(),
            "add VIP 10.0.0.1: File exists: VIP already configured"
        );
        assert_eq!(error.errno(), Some(libc::EEXIST));
        assert_eq!(
            error.kernel().and_then(|k| k.message.as_deref()),
            Some("VIP already configured")
        );
    }

    #[test]
    fn an_unregistered_family_means_the_module_is_not_loaded() {
        let error = Error::new("connect to the nd module", ErrorKind::NotLoaded);
        assert_eq!(
            error.to_string(),
            "connect to the nd module: the nd module is not loaded in this namespace \
             (no generic netlink family \"nd\")"
        );
        assert_eq!(error.errno(), None);
    }

    #[test]
    fn names_attributes_of_the_sync_nest_by_offset_and_when_missing() {
        use std::net::Ipv4Addr;

        use crate::client::Request;
        use crate::model::SyncStatus;

        let request = Request::SetSyncStatus(SyncStatus {
            peer: Ipv4Addr::new(192, 168, 0, 2),
            connected: true,
            lag_records: 0,
            lag_ms: 0,
            sent: 0,
            received: 0,
        })
        .encode();
        // Netlink and generic netlink headers, the SYNC header, PEER (8), CONNECTED (8).
        let lag_records = (16 + 4 + 4 + 8 + 8) as u32;
        let error = KernelError::from_ext_ack(
            -libc::ERANGE,
            [(ext_ack::OFFS, &lag_records.to_ne_bytes()[..])],
            &request,
        );
        assert_eq!(error.attribute.as_deref(), Some("SYNC LAG_RECORDS"));
        let sync_nest = (16 + 4) as u32;
        let error = KernelError::from_ext_ack(
            -libc::EINVAL,
            [
                (
                    ext_ack::MISS_TYPE,
                    &u32::from(sync::LAG_MS).to_ne_bytes()[..],
                ),
                (ext_ack::MISS_NEST, &sync_nest.to_ne_bytes()[..]),
            ],
            &request,
        );
        assert_eq!(error.missing.as_deref(), Some("SYNC LAG_MS"));
    }

    #[test]
    fn ignores_offsets_outside_the_request_and_unknown_ext_ack_attributes() {
        let error = KernelError::from_ext_ack(
            -libc::EINVAL,
            [
                (ext_ack::OFFS, &999u32.to_ne_bytes()[..]),
                (ext_ack::OFFS + 40, &[1, 2][..]),
                (ext_ack::MSG, &b"\0"[..]),
            ],
            &[1, 1, 0, 0],
        );
        assert_eq!(
            error,
            KernelError {
                errno: libc::EINVAL,
                message: None,
                attribute: None,
                missing: None,
            }
        );
    }
}
