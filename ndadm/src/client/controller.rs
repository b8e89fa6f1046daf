//! The generic netlink controller: a family's id and its multicast groups, by name.

use nd_netlink_proto::nla::Attrs;
use neli::types::GenlBuffer;

use super::error::ErrorKind;
use super::request::{attr, genl_message};
use super::transport::Transport;

/// The controller's family id and its `CTRL_CMD_GETFAMILY` vocabulary (`linux/genetlink.h`).
pub mod ctrl {
    /// The controller's own, fixed, family id.
    pub const ID: u16 = 0x10;
    /// The controller's protocol version.
    pub const VERSION: u8 = 2;
    /// Asks for one family by name.
    pub const CMD_GETFAMILY: u8 = 3;
    /// The family's id (u16).
    pub const ATTR_FAMILY_ID: u16 = 1;
    /// The family's name (NUL-terminated).
    pub const ATTR_FAMILY_NAME: u16 = 2;
    /// The family's multicast groups: a nest of one nest per group.
    pub const ATTR_MCAST_GROUPS: u16 = 7;
    /// A group's name (NUL-terminated).
    pub const ATTR_MCAST_GRP_NAME: u16 = 1;
    /// A group's id (u32), what a socket joins.
    pub const ATTR_MCAST_GRP_ID: u16 = 2;
}

/// What the controller tells of a family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Family {
    /// The id requests are addressed to.
    pub id: u16,
    /// Its multicast groups: name and id.
    pub groups: Vec<(String, u32)>,
}

impl Family {
    /// The id of multicast group `name`.
    pub fn group(&self, name: &str) -> Option<u32> {
        self.groups
            .iter()
            .find(|(group, _)| group == name)
            .map(|&(_, id)| id)
    }
}

/// Asks the controller about family `name`.
pub fn resolve(transport: &Transport, name: &str) -> Result<Family, ErrorKind> {
    let mut attrs = GenlBuffer::new();
    let mut name_nul = name.as_bytes().to_vec();
    name_nul.push(0);
    attrs.push(attr(ctrl::ATTR_FAMILY_NAME, &name_nul));
    let message = genl_message(ctrl::CMD_GETFAMILY, ctrl::VERSION, attrs);
    let replies = match transport.exchange(ctrl::ID, false, message) {
        Err(ErrorKind::Kernel(error)) if error.errno == libc::ENOENT => {
            return Err(ErrorKind::NotLoaded)
        }
        other => other?,
    };
    replies
        .payloads
        .iter()
        .find_map(|reply| parse_family(reply))
        .ok_or_else(|| {
            ErrorKind::Protocol(format!(
                "the controller's reply about family \"{name}\" has no family id"
            ))
        })
}

/// The family id and groups of one `CTRL_CMD_GETFAMILY` reply; groups that do not parse are
/// left out, since only the one asked for matters.
fn parse_family(reply: &[u8]) -> Option<Family> {
    let id = Attrs::new(reply)
        .find(|attr| attr.kind == ctrl::ATTR_FAMILY_ID)
        .and_then(|attr| attr.u16())?;
    let groups = Attrs::new(reply)
        .filter(|attr| attr.kind == ctrl::ATTR_MCAST_GROUPS)
        .flat_map(|groups| groups.nested())
        .filter_map(|group| {
            let mut name = None;
            let mut id = None;
            for field in group.nested() {
                match field.kind {
                    ctrl::ATTR_MCAST_GRP_NAME => {
                        let text = field.payload.split(|&b| b == 0).next()?;
                        name = Some(String::from_utf8(text.to_vec()).ok()?);
                    }
                    ctrl::ATTR_MCAST_GRP_ID => id = field.u32(),
                    _ => {}
                }
            }
            Some((name?, id?))
        })
        .collect();
    Some(Family { id, groups })
}

/// These talk to the running kernel's generic netlink controller, which every Linux kernel
/// has; they need no privilege and not the nd module.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use nd_netlink_proto::nla::{align, HEADER_LEN};

    use super::*;

    fn transport() -> Transport {
        Transport::open(Duration::from_secs(5)).expect("a generic netlink socket opens")
    }

    #[test]
    fn resolves_the_controller_itself_with_its_notify_group() {
        let family = resolve(&transport(), "nlctrl").unwrap();
        assert_eq!(family.id, ctrl::ID);
        // The controller announces families coming and going on its "notify" group.
        assert!(family.group("notify").is_some(), "{family:?}");
        assert_eq!(family.group("sync"), None);
    }

    #[test]
    fn an_unregistered_family_reads_as_module_not_loaded() {
        let error = resolve(&transport(), "nd-nosuch").unwrap_err();
        assert!(matches!(error, ErrorKind::NotLoaded), "{error:?}");
    }

    fn put(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
        let len = u16::try_from(HEADER_LEN + payload.len()).unwrap();
        buf.extend_from_slice(&len.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(payload);
        buf.resize(align(buf.len()), 0);
    }

    #[test]
    fn reads_every_group_and_skips_broken_ones() {
        let group = |name: &[u8], id: Option<u32>| {
            let mut nest = Vec::new();
            put(&mut nest, ctrl::ATTR_MCAST_GRP_NAME, name);
            if let Some(id) = id {
                put(&mut nest, ctrl::ATTR_MCAST_GRP_ID, &id.to_ne_bytes());
            }
            nest
        };
        let mut groups = Vec::new();
        put(&mut groups, 0x8000 | 1, &group(b"config\0", Some(7)));
        put(&mut groups, 0x8000 | 2, &group(b"broken\0", None));
        put(&mut groups, 0x8000 | 3, &group(b"sync\0", Some(9)));
        let mut reply = Vec::new();
        put(&mut reply, ctrl::ATTR_FAMILY_NAME, b"nd\0");
        put(&mut reply, ctrl::ATTR_FAMILY_ID, &0x1du16.to_ne_bytes());
        put(&mut reply, 0x8000 | ctrl::ATTR_MCAST_GROUPS, &groups);
        let family = parse_family(&reply).unwrap();
        assert_eq!(family.id, 0x1d);
        assert_eq!(
            family.groups,
            [("config".to_string(), 7), ("sync".to_string(), 9)]
        );
        assert_eq!(family.group("sync"), Some(9));

        let mut without_id = Vec::new();
        put(&mut without_id, ctrl::ATTR_FAMILY_NAME, b"nd\0");
        assert_eq!(parse_family(&without_id), None);
    }
}
