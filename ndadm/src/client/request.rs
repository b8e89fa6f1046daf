//! Requests of the `nd` family and their encoding into generic netlink messages.

use std::io::Cursor;
use std::net::Ipv4Addr;

use nd_netlink_proto::attr::{sync, top, weight_entry};
use nd_netlink_proto::cmd::Cmd;
use nd_netlink_proto::family::FAMILY_VERSION;
use nd_netlink_proto::sync_record::{SyncRecord, RECORD_LEN};
use neli::genl::{AttrTypeBuilder, Genlmsghdr, GenlmsghdrBuilder, Nlattr, NlattrBuilder};
use neli::types::{Buffer, GenlBuffer};
use neli::ToBytes;

use crate::model::{
    ConfigChange, HaRole, PortOptions, SchedulerKind, ServerOptions, Service, SyncStatus,
    WeightEntry,
};

/// The element type of every `WEIGHTS` entry; the module reads the entries in order and
/// ignores their type.
pub const WEIGHTS_ELEMENT: u16 = 1;

/// One request to the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Add a cluster address.
    NewVip(Ipv4Addr),
    /// Remove a cluster address with everything under it.
    DelVip(Ipv4Addr),
    /// Dump cluster addresses.
    GetVips,
    /// Add a port to a cluster address, with the scheduler and affinity settings given (the
    /// module's defaults for those left out).
    NewPort(Service, PortOptions),
    /// Change a port's scheduler and/or affinity settings.
    SetPort(Service, PortOptions),
    /// Remove a port with its servers and connections.
    DelPort(Service),
    /// Dump ports.
    GetPorts,
    /// Add a server behind a port.
    NewServer {
        /// The port.
        service: Service,
        /// The server's address.
        server: Ipv4Addr,
        /// Weight (the module defaults it to 1) and static MAC.
        options: ServerOptions,
    },
    /// Change a server's weight and/or MAC.
    SetServer {
        /// The port.
        service: Service,
        /// The server's address.
        server: Ipv4Addr,
        /// What to change.
        options: ServerOptions,
    },
    /// Remove a server and end its connections.
    DelServer {
        /// The port.
        service: Service,
        /// The server's address.
        server: Ipv4Addr,
    },
    /// Dump servers.
    GetServers,
    /// Replace the weights of every server of a port at once.
    SetWeights {
        /// The port.
        service: Service,
        /// One entry per server of the port.
        weights: Vec<WeightEntry>,
    },
    /// Dump the connection table.
    GetConns,
    /// Read timeouts and limits.
    GetConfig,
    /// Change timeouts and limits.
    SetConfig(ConfigChange),
    /// Remove every cluster address and connection of the namespace.
    Flush,
    /// Read global figures.
    GetInfo,
    /// Set the Executor's high-availability role.
    SetHa(HaRole),
    /// Read the role and the synchronisation figures.
    GetHa,
    /// Install records of the peer's table (at most `MAX_SYNC_BATCH`).
    SyncInstall(Vec<SyncRecord>),
    /// Report the sync daemon's link to the peer.
    SetSyncStatus(SyncStatus),
    /// Dump the affinity records.
    GetAffinity,
}

impl Request {
    /// The command number the request travels under.
    pub fn cmd(&self) -> Cmd {
        match self {
            Request::NewVip(_) => Cmd::NewVip,
            Request::DelVip(_) => Cmd::DelVip,
            Request::GetVips => Cmd::GetVip,
            Request::NewPort(..) => Cmd::NewPort,
            Request::SetPort(..) => Cmd::SetPort,
            Request::DelPort(_) => Cmd::DelPort,
            Request::GetPorts => Cmd::GetPort,
            Request::NewServer { .. } => Cmd::NewServer,
            Request::SetServer { .. } => Cmd::SetServer,
            Request::DelServer { .. } => Cmd::DelServer,
            Request::GetServers => Cmd::GetServer,
            Request::SetWeights { .. } => Cmd::SetWeights,
            Request::GetConns => Cmd::GetConn,
            Request::GetConfig => Cmd::GetConfig,
            Request::SetConfig(_) => Cmd::SetConfig,
            Request::Flush => Cmd::Flush,
            Request::GetInfo => Cmd::GetInfo,
            Request::SetHa(_) => Cmd::SetHa,
            Request::GetHa => Cmd::GetHa,
            Request::SyncInstall(_) => Cmd::SyncInstall,
            Request::SetSyncStatus(_) => Cmd::SetSyncStatus,
            Request::GetAffinity => Cmd::GetAffinity,
        }
    }

    /// Whether the request is a dump sent with `NLM_F_DUMP`; the others (mutations and the
    /// single-reply `GetConfig`, `GetInfo` and `GetHa`) are sent with `NLM_F_ACK`.
    pub fn is_dump(&self) -> bool {
        matches!(
            self.cmd(),
            Cmd::GetVip | Cmd::GetPort | Cmd::GetServer | Cmd::GetConn | Cmd::GetAffinity
        )
    }

    /// What the request attempts, as error messages name it.
    pub fn describe(&self) -> String {
        match self {
            Request::NewVip(vip) => format!("add VIP {vip}"),
            Request::DelVip(vip) => format!("delete VIP {vip}"),
            Request::GetVips => "list VIPs".into(),
            Request::NewPort(service, _) => format!("add port {service}"),
            Request::SetPort(service, _) => format!("change port {service}"),
            Request::DelPort(service) => format!("delete port {service}"),
            Request::GetPorts => "list ports".into(),
            Request::NewServer {
                service, server, ..
            } => format!("add server {server} to {service}"),
            Request::SetServer {
                service, server, ..
            } => format!("change server {server} of {service}"),
            Request::DelServer { service, server } => {
                format!("delete server {server} from {service}")
            }
            Request::GetServers => "list servers".into(),
            Request::SetWeights { service, .. } => format!("set the weights of {service}"),
            Request::GetConns => "list connections".into(),
            Request::GetConfig => "read the config".into(),
            Request::SetConfig(_) => "change the config".into(),
            Request::Flush => "flush".into(),
            Request::GetInfo => "read the module info".into(),
            Request::SetHa(role) => format!("set the role to {}", role.name()),
            Request::GetHa => "read the high-availability status".into(),
            Request::SyncInstall(records) => format!("install {} sync records", records.len()),
            Request::SetSyncStatus(_) => "report the sync status".into(),
            Request::GetAffinity => "list affinity records".into(),
        }
    }

    /// The request's top-level attributes.
    pub fn attrs(&self) -> GenlBuffer<u16, Buffer> {
        let mut attrs = GenlBuffer::new();
        match self {
            Request::NewVip(vip) | Request::DelVip(vip) => attrs.push(ipv4_attr(top::VIP, *vip)),
            Request::NewPort(service, options) | Request::SetPort(service, options) => {
                push_service(&mut attrs, service);
                push_port_options(&mut attrs, options);
            }
            Request::DelPort(service) => push_service(&mut attrs, service),
            Request::NewServer {
                service,
                server,
                options,
            }
            | Request::SetServer {
                service,
                server,
                options,
            } => {
                push_service(&mut attrs, service);
                attrs.push(ipv4_attr(top::SERVER, *server));
                if let Some(weight) = options.weight {
                    attrs.push(attr(top::WEIGHT, &weight.to_ne_bytes()));
                }
                if let Some(mac) = options.mac {
                    attrs.push(attr(top::MAC, &mac.0));
                }
            }
            Request::DelServer { service, server } => {
                push_service(&mut attrs, service);
                attrs.push(ipv4_attr(top::SERVER, *server));
            }
            Request::SetWeights { service, weights } => {
                push_service(&mut attrs, service);
                let entries: Vec<_> = weights
                    .iter()
                    .map(|entry| {
                        nested(
                            WEIGHTS_ELEMENT,
                            &[
                                ipv4_attr(weight_entry::SERVER, entry.server),
                                attr(weight_entry::WEIGHT, &entry.weight.to_ne_bytes()),
                            ],
                        )
                    })
                    .collect();
                attrs.push(nested(top::WEIGHTS, &entries));
            }
            Request::SetConfig(change) => {
                let fields = [
                    (top::TIMEOUT_SYN, change.timeout_syn),
                    (top::TIMEOUT_ESTABLISHED, change.timeout_established),
                    (top::TIMEOUT_FIN, change.timeout_fin),
                    (top::TIMEOUT_CLOSE, change.timeout_close),
                    (top::CONN_LIMIT, change.conn_limit),
                    (top::TIMEOUT_SYN_PRESSURE, change.timeout_syn_pressure),
                    (top::AFFINITY_LIMIT, change.affinity_limit),
                ];
                for (kind, value) in fields {
                    if let Some(value) = value {
                        attrs.push(attr(kind, &value.to_ne_bytes()));
                    }
                }
            }
            Request::SetHa(role) => {
                attrs.push(attr(top::HA_ROLE, &u32::from(*role as u8).to_ne_bytes()))
            }
            Request::SyncInstall(records) => attrs.push(sync_batch_attr(records)),
            Request::SetSyncStatus(status) => attrs.push(sync_status_attr(status)),
            Request::GetVips
            | Request::GetPorts
            | Request::GetServers
            | Request::GetConns
            | Request::GetConfig
            | Request::Flush
            | Request::GetInfo
            | Request::GetHa
            | Request::GetAffinity => {}
        }
        attrs
    }

    /// The generic netlink message: command, `FAMILY_VERSION` and attributes.
    pub fn message(&self) -> Genlmsghdr<u8, u16> {
        genl_message(self.cmd() as u8, FAMILY_VERSION, self.attrs())
    }

    /// The generic netlink header and attributes as they go on the wire, without the
    /// netlink header.
    pub fn encode(&self) -> Vec<u8> {
        encode_message(&self.message())
    }
}

/// A `SCHEDULER` attribute: the name, NUL-terminated.
fn scheduler_attr(scheduler: SchedulerKind) -> Nlattr<u16, Buffer> {
    let mut name = scheduler.name().as_bytes().to_vec();
    name.push(0);
    attr(top::SCHEDULER, &name)
}

/// The `SCHEDULER` and `AFFINITY_*` attributes of the options given.
fn push_port_options(attrs: &mut GenlBuffer<u16, Buffer>, options: &PortOptions) {
    if let Some(scheduler) = options.scheduler {
        attrs.push(scheduler_attr(scheduler));
    }
    let affinity = [
        (top::AFFINITY_TIMEOUT, options.affinity_timeout),
        (top::AFFINITY_PREFIX, options.affinity_prefix.map(u32::from)),
        (
            top::AFFINITY_QUIESCED,
            options.affinity_quiesced.map(|q| u32::from(q as u8)),
        ),
    ];
    for (kind, value) in affinity {
        if let Some(value) = value {
            attrs.push(attr(kind, &value.to_ne_bytes()));
        }
    }
}

/// A `SYNC_BATCH` attribute: the records' wire forms, concatenated.
fn sync_batch_attr(records: &[SyncRecord]) -> Nlattr<u16, Buffer> {
    let mut batch = Vec::with_capacity(records.len() * RECORD_LEN);
    for record in records {
        batch.extend_from_slice(&record.encode());
    }
    attr(top::SYNC_BATCH, &batch)
}

/// The `SYNC` nest of a `SetSyncStatus`: every figure the daemon reports.
fn sync_status_attr(status: &SyncStatus) -> Nlattr<u16, Buffer> {
    nested(
        top::SYNC,
        &[
            ipv4_attr(sync::PEER, status.peer),
            attr(sync::CONNECTED, &u32::from(status.connected).to_ne_bytes()),
            attr(sync::LAG_RECORDS, &status.lag_records.to_ne_bytes()),
            attr(sync::LAG_MS, &status.lag_ms.to_ne_bytes()),
            attr(sync::SENT, &status.sent.to_ne_bytes()),
            attr(sync::RECEIVED, &status.received.to_ne_bytes()),
        ],
    )
}

/// The `VIP` and `PORT` attributes naming `service`.
fn push_service(attrs: &mut GenlBuffer<u16, Buffer>, service: &Service) {
    attrs.push(ipv4_attr(top::VIP, service.vip));
    attrs.push(attr(top::PORT, &service.port.to_ne_bytes()));
}

/// A generic netlink message with `cmd`, `version` and `attrs`.
pub(crate) fn genl_message(
    cmd: u8,
    version: u8,
    attrs: GenlBuffer<u16, Buffer>,
) -> Genlmsghdr<u8, u16> {
    GenlmsghdrBuilder::default()
        .cmd(cmd)
        .version(version)
        .attrs(attrs)
        .build()
        .expect("command, version and attributes are all set")
}

/// The wire bytes of a generic netlink message.
pub(crate) fn encode_message(message: &Genlmsghdr<u8, u16>) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    message
        .to_bytes(&mut bytes)
        .expect("serializing into a growable buffer cannot fail");
    bytes.into_inner()
}

/// An attribute with a raw payload.
pub fn attr(kind: u16, payload: &[u8]) -> Nlattr<u16, Buffer> {
    NlattrBuilder::default()
        .nla_type(
            AttrTypeBuilder::default()
                .nla_type(kind)
                .build()
                .expect("type is set"),
        )
        .nla_payload(Buffer::from(payload))
        .build()
        .expect("type and payload are set")
}

/// An IPv4 address attribute: a `u32` whose wire bytes are the address's octets.
pub fn ipv4_attr(kind: u16, addr: Ipv4Addr) -> Nlattr<u16, Buffer> {
    attr(kind, &addr.octets())
}

/// A nested attribute, flagged `NLA_F_NESTED` as strict kernel validation requires.
pub fn nested(kind: u16, children: &[Nlattr<u16, Buffer>]) -> Nlattr<u16, Buffer> {
    let outer = NlattrBuilder::default()
        .nla_type(
            AttrTypeBuilder::default()
                .nla_type(kind)
                .nla_nested(true)
                .build()
                .expect("type is set"),
        )
        .nla_payload(Buffer::new())
        .build()
        .expect("type and payload are set");
    children.iter().fold(outer, |outer, child| {
        outer
            .nest(child)
            .expect("serializing into a growable buffer cannot fail")
    })
}

#[cfg(test)]
mod tests {
    use nd_netlink_proto::nla::{Attr, Attrs};

    use nd_netlink_proto::attr::ConnState;
    use nd_netlink_proto::sync_record::RecordKind;

    use super::*;
    use crate::model::{AffinityQuiesced, MacAddr};

    const SERVICE: Service = Service {
        vip: Ipv4Addr::new(10, 0, 0, 1),
        port: 8080,
    };
    const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
    const NLA_F_NESTED: u16 = 0x8000;

    /// The command, version and attributes of an encoded request.
    fn decode(request: &Request) -> (u8, u8, Vec<u8>) {
        let bytes = request.encode();
        assert_eq!(&bytes[2..4], &[0, 0], "reserved field");
        (bytes[0], bytes[1], bytes[4..].to_vec())
    }

    fn kinds(attrs: &[u8]) -> Vec<u16> {
        Attrs::new(attrs).map(|a| a.kind).collect()
    }

    fn find<'a>(attrs: &'a [u8], kind: u16) -> Attr<'a> {
        Attrs::new(attrs).find(|a| a.kind == kind).unwrap()
    }

    /// The raw type field of the first attribute, flags included.
    fn raw_type(attrs: &[u8]) -> u16 {
        u16::from_ne_bytes([attrs[2], attrs[3]])
    }

    #[test]
    fn new_server_carries_service_server_weight_and_mac() {
        let request = Request::NewServer {
            service: SERVICE,
            server: SERVER,
            options: ServerOptions {
                weight: Some(7),
                mac: Some(MacAddr([2, 0, 0, 0, 0, 0x0a])),
            },
        };
        let (cmd, version, attrs) = decode(&request);
        assert_eq!(cmd, Cmd::NewServer as u8);
        assert_eq!(version, FAMILY_VERSION);
        assert_eq!(
            kinds(&attrs),
            [top::VIP, top::PORT, top::SERVER, top::WEIGHT, top::MAC]
        );
        assert_eq!(find(&attrs, top::VIP).payload, [10, 0, 0, 1]);
        assert_eq!(
            find(&attrs, top::VIP).u32(),
            Some(u32::from_ne_bytes(SERVICE.vip.octets()))
        );
        assert_eq!(find(&attrs, top::PORT).u16(), Some(8080));
        assert_eq!(find(&attrs, top::SERVER).payload, [192, 168, 1, 10]);
        assert_eq!(find(&attrs, top::WEIGHT).u32(), Some(7));
        assert_eq!(find(&attrs, top::MAC).payload, [2, 0, 0, 0, 0, 0x0a]);
        assert!(!request.is_dump());
        assert_eq!(
            request.describe(),
            "add server 192.168.1.10 to 10.0.0.1:8080"
        );
    }

    #[test]
    fn server_options_left_out_are_not_sent() {
        let request = Request::SetServer {
            service: SERVICE,
            server: SERVER,
            options: ServerOptions {
                weight: None,
                mac: Some(MacAddr([2, 0, 0, 0, 0, 1])),
            },
        };
        let (cmd, _, attrs) = decode(&request);
        assert_eq!(cmd, Cmd::SetServer as u8);
        assert_eq!(kinds(&attrs), [top::VIP, top::PORT, top::SERVER, top::MAC]);

        let bare = Request::NewServer {
            service: SERVICE,
            server: SERVER,
            options: ServerOptions::default(),
        };
        assert_eq!(kinds(&decode(&bare).2), [top::VIP, top::PORT, top::SERVER]);
    }

    #[test]
    fn set_weights_nests_one_flagged_element_per_server() {
        let weights = vec![
            WeightEntry {
                server: SERVER,
                weight: 5,
            },
            WeightEntry {
                server: Ipv4Addr::new(192, 168, 1, 11),
                weight: 0,
            },
        ];
        let (cmd, _, attrs) = decode(&Request::SetWeights {
            service: SERVICE,
            weights,
        });
        assert_eq!(cmd, Cmd::SetWeights as u8);
        assert_eq!(kinds(&attrs), [top::VIP, top::PORT, top::WEIGHTS]);
        let outer = find(&attrs, top::WEIGHTS);
        let weights_start = attrs.len() - (outer.payload.len() + 4);
        assert_eq!(
            raw_type(&attrs[weights_start..]),
            NLA_F_NESTED | top::WEIGHTS
        );
        assert_eq!(raw_type(outer.payload), NLA_F_NESTED | WEIGHTS_ELEMENT);

        let elements: Vec<Attr> = outer.nested().collect();
        assert_eq!(elements.len(), 2);
        let mut walk = outer.nested();
        assert!(walk.by_ref().count() == 2 && !walk.malformed());
        let pairs: Vec<(Vec<u8>, Option<u32>)> = elements
            .iter()
            .map(|element| {
                assert_eq!(element.kind, WEIGHTS_ELEMENT);
                let inner: Vec<Attr> = element.nested().collect();
                assert_eq!(
                    inner.iter().map(|a| a.kind).collect::<Vec<_>>(),
                    [weight_entry::SERVER, weight_entry::WEIGHT]
                );
                (inner[0].payload.to_vec(), inner[1].u32())
            })
            .collect();
        assert_eq!(
            pairs,
            [
                (vec![192, 168, 1, 10], Some(5)),
                (vec![192, 168, 1, 11], Some(0))
            ]
        );
    }

    #[test]
    fn set_config_sends_only_the_changed_settings() {
        let change = ConfigChange {
            timeout_fin: Some(30),
            conn_limit: Some(1000),
            ..ConfigChange::default()
        };
        let (cmd, _, attrs) = decode(&Request::SetConfig(change));
        assert_eq!(cmd, Cmd::SetConfig as u8);
        assert_eq!(kinds(&attrs), [top::TIMEOUT_FIN, top::CONN_LIMIT]);
        assert_eq!(find(&attrs, top::TIMEOUT_FIN).u32(), Some(30));
        assert_eq!(find(&attrs, top::CONN_LIMIT).u32(), Some(1000));
    }

    #[test]
    fn set_config_sends_a_syn_pressure_timeout_of_zero() {
        let change = ConfigChange {
            timeout_syn: Some(30),
            timeout_syn_pressure: Some(0),
            ..ConfigChange::default()
        };
        let (cmd, _, attrs) = decode(&Request::SetConfig(change));
        assert_eq!(cmd, Cmd::SetConfig as u8);
        assert_eq!(kinds(&attrs), [top::TIMEOUT_SYN, top::TIMEOUT_SYN_PRESSURE]);
        assert_eq!(find(&attrs, top::TIMEOUT_SYN_PRESSURE).u32(), Some(0));
    }

    #[test]
    fn vip_and_port_requests_carry_their_keys() {
        let (cmd, _, attrs) = decode(&Request::DelVip(SERVICE.vip));
        assert_eq!(cmd, Cmd::DelVip as u8);
        assert_eq!(kinds(&attrs), [top::VIP]);
        let (cmd, _, attrs) = decode(&Request::NewPort(SERVICE, PortOptions::default()));
        assert_eq!(cmd, Cmd::NewPort as u8);
        assert_eq!(kinds(&attrs), [top::VIP, top::PORT]);
        let wlc = PortOptions::scheduled(SchedulerKind::Wlc);
        let (cmd, _, attrs) = decode(&Request::NewPort(SERVICE, wlc));
        assert_eq!(cmd, Cmd::NewPort as u8);
        assert_eq!(kinds(&attrs), [top::VIP, top::PORT, top::SCHEDULER]);
        assert_eq!(find(&attrs, top::SCHEDULER).payload, b"wlc\0");
        let sed = PortOptions::scheduled(SchedulerKind::Sed);
        let (cmd, _, attrs) = decode(&Request::SetPort(SERVICE, sed));
        assert_eq!(cmd, Cmd::SetPort as u8);
        assert_eq!(find(&attrs, top::SCHEDULER).payload, b"sed\0");
        let (cmd, _, attrs) = decode(&Request::DelServer {
            service: SERVICE,
            server: SERVER,
        });
        assert_eq!(cmd, Cmd::DelServer as u8);
        assert_eq!(kinds(&attrs), [top::VIP, top::PORT, top::SERVER]);
    }

    #[test]
    fn port_options_carry_only_the_affinity_settings_given() {
        let options = PortOptions {
            affinity_timeout: Some(300),
            affinity_prefix: Some(24),
            affinity_quiesced: Some(AffinityQuiesced::Rebalance),
            ..PortOptions::default()
        };
        let (cmd, _, attrs) = decode(&Request::NewPort(SERVICE, options));
        assert_eq!(cmd, Cmd::NewPort as u8);
        assert_eq!(
            kinds(&attrs),
            [
                top::VIP,
                top::PORT,
                top::AFFINITY_TIMEOUT,
                top::AFFINITY_PREFIX,
                top::AFFINITY_QUIESCED
            ]
        );
        assert_eq!(find(&attrs, top::AFFINITY_TIMEOUT).u32(), Some(300));
        assert_eq!(find(&attrs, top::AFFINITY_PREFIX).u32(), Some(24));
        assert_eq!(
            find(&attrs, top::AFFINITY_QUIESCED).u32(),
            Some(AffinityQuiesced::Rebalance as u32)
        );
        let off = PortOptions {
            scheduler: Some(SchedulerKind::Wrr),
            affinity_timeout: Some(0),
            ..PortOptions::default()
        };
        let (cmd, _, attrs) = decode(&Request::SetPort(SERVICE, off));
        assert_eq!(cmd, Cmd::SetPort as u8);
        assert_eq!(
            kinds(&attrs),
            [top::VIP, top::PORT, top::SCHEDULER, top::AFFINITY_TIMEOUT]
        );
        assert_eq!(find(&attrs, top::AFFINITY_TIMEOUT).u32(), Some(0));
    }

    #[test]
    fn set_config_carries_an_affinity_limit() {
        let change = ConfigChange {
            affinity_limit: Some(65_536),
            ..ConfigChange::default()
        };
        let (_, _, attrs) = decode(&Request::SetConfig(change));
        assert_eq!(kinds(&attrs), [top::AFFINITY_LIMIT]);
        assert_eq!(find(&attrs, top::AFFINITY_LIMIT).u32(), Some(65_536));
    }

    #[test]
    fn set_ha_carries_the_role_as_a_u32() {
        for (role, value) in [(HaRole::Active, 1u32), (HaRole::Standby, 2)] {
            let (cmd, _, attrs) = decode(&Request::SetHa(role));
            assert_eq!(cmd, Cmd::SetHa as u8);
            assert_eq!(kinds(&attrs), [top::HA_ROLE]);
            assert_eq!(find(&attrs, top::HA_ROLE).u32(), Some(value));
        }
        assert_eq!(
            Request::SetHa(HaRole::Standby).describe(),
            "set the role to standby"
        );
    }

    #[test]
    fn sync_install_concatenates_whole_records() {
        let record = |client_port| SyncRecord {
            kind: RecordKind::Conn,
            state: Some(ConnState::Established),
            prefix: 0,
            client: u32::from_ne_bytes([203, 0, 113, 7]),
            vip: u32::from_ne_bytes(SERVICE.vip.octets()),
            server: u32::from_ne_bytes(SERVER.octets()),
            client_port,
            port: SERVICE.port,
            expires_ms: 900_000,
        };
        let records = vec![record(40_000), record(40_001)];
        let request = Request::SyncInstall(records.clone());
        let (cmd, _, attrs) = decode(&request);
        assert_eq!(cmd, Cmd::SyncInstall as u8);
        assert_eq!(kinds(&attrs), [top::SYNC_BATCH]);
        let batch = find(&attrs, top::SYNC_BATCH).payload;
        assert_eq!(batch.len(), 2 * RECORD_LEN);
        let decoded: Vec<SyncRecord> = nd_netlink_proto::sync_record::records(batch)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(decoded, records);
        assert!(!request.is_dump());
        assert_eq!(request.describe(), "install 2 sync records");
    }

    #[test]
    fn set_sync_status_nests_every_figure() {
        let status = SyncStatus {
            peer: Ipv4Addr::new(192, 168, 0, 2),
            connected: true,
            lag_records: 12,
            lag_ms: 40,
            sent: 1_000_000,
            received: 3,
        };
        let (cmd, _, attrs) = decode(&Request::SetSyncStatus(status));
        assert_eq!(cmd, Cmd::SetSyncStatus as u8);
        assert_eq!(kinds(&attrs), [top::SYNC]);
        assert_eq!(raw_type(&attrs), NLA_F_NESTED | top::SYNC);
        let nest = find(&attrs, top::SYNC);
        assert_eq!(
            nest.nested().map(|a| a.kind).collect::<Vec<_>>(),
            [
                sync::PEER,
                sync::CONNECTED,
                sync::LAG_RECORDS,
                sync::LAG_MS,
                sync::SENT,
                sync::RECEIVED
            ]
        );
        let field = |kind| nest.nested().find(|a: &Attr| a.kind == kind).unwrap();
        assert_eq!(field(sync::PEER).payload, [192, 168, 0, 2]);
        assert_eq!(field(sync::CONNECTED).u32(), Some(1));
        assert_eq!(field(sync::LAG_RECORDS).u64(), Some(12));
        assert_eq!(field(sync::LAG_MS).u32(), Some(40));
        assert_eq!(field(sync::SENT).u64(), Some(1_000_000));
        assert_eq!(field(sync::RECEIVED).u64(), Some(3));
    }

    #[test]
    fn gets_carry_no_attributes_and_only_lists_are_dumps() {
        for (request, cmd, dump) in [
            (Request::GetVips, Cmd::GetVip, true),
            (Request::GetPorts, Cmd::GetPort, true),
            (Request::GetServers, Cmd::GetServer, true),
            (Request::GetConns, Cmd::GetConn, true),
            (Request::GetAffinity, Cmd::GetAffinity, true),
            (Request::GetConfig, Cmd::GetConfig, false),
            (Request::GetInfo, Cmd::GetInfo, false),
            (Request::GetHa, Cmd::GetHa, false),
        ] {
            assert_eq!(request.is_dump(), dump, "{request:?}");
            assert_eq!(request.encode(), [cmd as u8, FAMILY_VERSION, 0, 0]);
        }
        assert!(!Request::Flush.is_dump());
        assert_eq!(
            Request::Flush.encode(),
            [Cmd::Flush as u8, FAMILY_VERSION, 0, 0]
        );
    }
}
