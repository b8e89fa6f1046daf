//! The requests the fuzzer sends: purely random ones, valid requests of every command built
//! by ndadm's own encoder, and those valid requests after a few mutations.

use std::net::Ipv4Addr;

use nd_netlink_proto::attr::top;
use nd_netlink_proto::attr::AffinityQuiesced;
use nd_netlink_proto::cmd::Cmd;
use nd_netlink_proto::family::{
    FAMILY_VERSION, MAX_AFFINITY_TIMEOUT_SECS, MAX_CONN_LIMIT, MAX_TIMEOUT_SECS,
};
use ndadm::client::Request;
use ndadm::model::{
    ConfigChange, MacAddr, PortOptions, SchedulerKind, ServerOptions, Service, WeightEntry,
};

use super::message::{flags, Attribute, Body, GenlRequest, NLA_F_NESTED};
use super::mutate::{mutate, Mutation};
use crate::prng::Prng;

/// Cluster addresses the templates use: 10.0.0.100 to 10.0.0.103.
pub const VIPS: [Ipv4Addr; 4] = [
    Ipv4Addr::new(10, 0, 0, 100),
    Ipv4Addr::new(10, 0, 0, 101),
    Ipv4Addr::new(10, 0, 0, 102),
    Ipv4Addr::new(10, 0, 0, 103),
];
/// Ports the templates use.
pub const PORTS: [u16; 4] = [80, 81, 82, 83];
/// Servers the templates use: 10.0.0.11 to 10.0.0.14.
pub const SERVERS: [Ipv4Addr; 4] = [
    Ipv4Addr::new(10, 0, 0, 11),
    Ipv4Addr::new(10, 0, 0, 12),
    Ipv4Addr::new(10, 0, 0, 13),
    Ipv4Addr::new(10, 0, 0, 14),
];
/// Largest weight the templates set.
pub const MAX_TEMPLATE_WEIGHT: u32 = 10;

/// Every command the module knows, with how often a template of it is drawn. Additions are
/// favoured so that the configuration grows between the removals and flushes.
const COMMAND_WEIGHTS: [(Cmd, u32); 18] = [
    (Cmd::Unspec, 1),
    (Cmd::NewVip, 10),
    (Cmd::DelVip, 2),
    (Cmd::GetVip, 4),
    (Cmd::NewPort, 12),
    (Cmd::DelPort, 3),
    (Cmd::GetPort, 3),
    (Cmd::NewServer, 15),
    (Cmd::SetServer, 10),
    (Cmd::DelServer, 4),
    (Cmd::GetServer, 4),
    (Cmd::SetWeights, 10),
    (Cmd::GetConn, 3),
    (Cmd::GetConfig, 3),
    (Cmd::SetConfig, 6),
    (Cmd::Flush, 1),
    (Cmd::GetInfo, 3),
    (Cmd::SetPort, 4),
];

/// How a request came about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Random command, flags and bytes.
    Random,
    /// A valid request, unchanged.
    Template,
    /// A valid request after one or more mutations.
    Mutated,
}

impl Origin {
    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Origin::Random => "random",
            Origin::Template => "template",
            Origin::Mutated => "mutated",
        }
    }
}

/// A request to send and how it was made.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The request.
    pub request: GenlRequest,
    /// Random, template or mutated.
    pub origin: Origin,
    /// The mutations applied to the template, in order.
    pub mutations: Vec<Mutation>,
}

/// Draws the next request: a fifth purely random, two fifths valid, the rest valid requests
/// with one to three mutations.
pub fn generate(rng: &mut Prng) -> Generated {
    if rng.chance(20) {
        return Generated {
            request: random_request(rng),
            origin: Origin::Random,
            mutations: Vec::new(),
        };
    }
    let cmd = rng.pick_weighted(&COMMAND_WEIGHTS);
    let mut request = template(cmd, rng);
    let wanted = if rng.chance(50) { 0 } else { rng.between(1, 3) };
    let mutations = mutate(&mut request, rng, wanted as usize);
    let origin = if mutations.is_empty() {
        Origin::Template
    } else {
        Origin::Mutated
    };
    Generated {
        request,
        origin,
        mutations,
    }
}

/// Whether `cmd` is answered by a dump.
pub fn is_dump_command(cmd: u8) -> bool {
    [
        Cmd::GetVip,
        Cmd::GetPort,
        Cmd::GetServer,
        Cmd::GetConn,
        Cmd::GetAffinity,
    ]
    .iter()
    .any(|&dump| dump as u8 == cmd)
}

/// Whether `cmd` is a command the module knows that changes its state: anything but `Get*`
/// (and the unused number 0).
pub fn is_mutating_command(cmd: u8) -> bool {
    match Cmd::from_u8(cmd) {
        None | Some(Cmd::Unspec) => false,
        Some(
            Cmd::GetVip
            | Cmd::GetPort
            | Cmd::GetServer
            | Cmd::GetConn
            | Cmd::GetConfig
            | Cmd::GetInfo
            | Cmd::GetHa
            | Cmd::GetAffinity,
        ) => false,
        Some(_) => true,
    }
}

/// The name reports give command number `cmd`.
pub fn command_name(cmd: u8) -> String {
    match Cmd::from_u8(cmd) {
        Some(known) => format!("{known:?}"),
        None => format!("cmd{cmd}"),
    }
}

/// A valid request of `cmd` over the template addresses, with the flags a careful client
/// sends: `NLM_F_DUMP` for the dumps, mostly `NLM_F_ACK` for the others.
pub fn template(cmd: Cmd, rng: &mut Prng) -> GenlRequest {
    let request = match typed_request(cmd, rng) {
        Some(request) => request,
        // No typed request exists for the unused number 0; give it a plausible body.
        None => {
            return GenlRequest {
                netlink_flags: flags::REQUEST | flags::ACK,
                cmd: cmd as u8,
                version: FAMILY_VERSION,
                reserved: 0,
                attrs: vec![Attribute::bytes(top::VIP, &rng.pick(&VIPS).octets())],
                trailer: Vec::new(),
            }
        }
    };
    let netlink_flags = if request.is_dump() {
        flags::REQUEST | flags::DUMP | if rng.chance(20) { flags::ACK } else { 0 }
    } else if rng.chance(90) {
        flags::REQUEST | flags::ACK
    } else {
        flags::REQUEST
    };
    GenlRequest::parse(netlink_flags, &request.encode())
        .expect("ndadm encodes a clean attribute stream")
}

fn typed_request(cmd: Cmd, rng: &mut Prng) -> Option<Request> {
    let vip = *rng.pick(&VIPS);
    let service = Service::new(vip, *rng.pick(&PORTS));
    let server = *rng.pick(&SERVERS);
    Some(match cmd {
        Cmd::Unspec => return None,
        Cmd::NewVip => Request::NewVip(vip),
        Cmd::DelVip => Request::DelVip(vip),
        Cmd::GetVip => Request::GetVips,
        Cmd::NewPort => Request::NewPort(service, port_options(rng, false)),
        Cmd::SetPort => Request::SetPort(service, port_options(rng, true)),
        Cmd::DelPort => Request::DelPort(service),
        Cmd::GetPort => Request::GetPorts,
        Cmd::NewServer => Request::NewServer {
            service,
            server,
            options: server_options(rng, false),
        },
        Cmd::SetServer => Request::SetServer {
            service,
            server,
            options: server_options(rng, true),
        },
        Cmd::DelServer => Request::DelServer { service, server },
        Cmd::GetServer => Request::GetServers,
        Cmd::SetWeights => Request::SetWeights {
            service,
            weights: weight_list(rng),
        },
        Cmd::GetConn => Request::GetConns,
        Cmd::GetConfig => Request::GetConfig,
        Cmd::SetConfig => Request::SetConfig(config_change(rng)),
        Cmd::Flush => Request::Flush,
        Cmd::GetInfo => Request::GetInfo,
        // Not templated: high availability is driven by its own daemon, and its records
        // are fuzzed as raw requests; the publication is never a request.
        Cmd::SetHa
        | Cmd::GetHa
        | Cmd::SyncInstall
        | Cmd::SetSyncStatus
        | Cmd::GetAffinity
        | Cmd::SyncRecords => return None,
    })
}

/// A scheduler half the time and each affinity setting a third of the time, the module's
/// defaults otherwise; a change names at least one.
fn port_options(rng: &mut Prng, change: bool) -> PortOptions {
    const TIMEOUTS: [u32; 4] = [0, 1, 300, MAX_AFFINITY_TIMEOUT_SECS];
    const PREFIXES: [u8; 4] = [0, 16, 24, 32];
    const QUIESCED: [AffinityQuiesced; 2] = [AffinityQuiesced::Keep, AffinityQuiesced::Rebalance];
    let mut options = PortOptions {
        scheduler: rng.chance(50).then(|| *rng.pick(&SchedulerKind::ALL)),
        affinity_timeout: rng.chance(33).then(|| *rng.pick(&TIMEOUTS)),
        affinity_prefix: rng.chance(33).then(|| *rng.pick(&PREFIXES)),
        affinity_quiesced: rng.chance(33).then(|| *rng.pick(&QUIESCED)),
    };
    if change && options.is_empty() {
        options.scheduler = Some(*rng.pick(&SchedulerKind::ALL));
    }
    options
}

fn weight(rng: &mut Prng) -> u32 {
    rng.between(0, u64::from(MAX_TEMPLATE_WEIGHT)) as u32
}

/// A locally administered unicast MAC.
fn mac(rng: &mut Prng) -> MacAddr {
    MacAddr([0x02, 0, 0, 0, 0, 0x11 + rng.below(4) as u8])
}

/// Weight and MAC, each present or not; a change names at least one.
fn server_options(rng: &mut Prng, change: bool) -> ServerOptions {
    let mut options = ServerOptions {
        weight: rng.chance(70).then(|| weight(rng)),
        mac: rng.chance(30).then(|| mac(rng)),
    };
    if change && options.weight.is_none() && options.mac.is_none() {
        options.weight = Some(weight(rng));
    }
    options
}

/// One to four distinct template servers in random order, each with a weight: the whole
/// list of a port's servers often enough for the module to accept it.
fn weight_list(rng: &mut Prng) -> Vec<WeightEntry> {
    let mut servers = SERVERS.to_vec();
    for i in (1..servers.len()).rev() {
        servers.swap(i, rng.index(i + 1));
    }
    servers.truncate(rng.between(1, SERVERS.len() as u64) as usize);
    servers
        .into_iter()
        .map(|server| WeightEntry {
            server,
            weight: weight(rng),
        })
        .collect()
}

/// A non-empty set of valid timeouts and limit.
fn config_change(rng: &mut Prng) -> ConfigChange {
    const TIMEOUTS: [u32; 8] = [1, 5, 30, 60, 120, 900, 3600, MAX_TIMEOUT_SECS];
    const LIMITS: [u32; 5] = [16, 1024, 65_536, 1 << 20, MAX_CONN_LIMIT];
    let timeout = |rng: &mut Prng| rng.chance(50).then(|| *rng.pick(&TIMEOUTS));
    let mut change = ConfigChange {
        timeout_syn: timeout(rng),
        timeout_established: timeout(rng),
        timeout_fin: timeout(rng),
        timeout_close: timeout(rng),
        conn_limit: rng.chance(50).then(|| *rng.pick(&LIMITS)),
        affinity_limit: rng.chance(20).then(|| *rng.pick(&LIMITS)),
        ..ConfigChange::default()
    };
    if change.is_empty() {
        change.timeout_established = Some(*rng.pick(&TIMEOUTS));
    }
    change
}

/// Random command 0..=255, version, flags and body: raw bytes, or attributes of random
/// types and payloads.
pub fn random_request(rng: &mut Prng) -> GenlRequest {
    let mut netlink_flags = flags::REQUEST;
    if rng.chance(50) {
        netlink_flags |= flags::ACK;
    }
    if rng.chance(30) {
        netlink_flags |= flags::DUMP;
    }
    if rng.chance(10) {
        netlink_flags |= *rng.pick(&[flags::ROOT, flags::MATCH, flags::ECHO, flags::ATOMIC]);
    }
    let (attrs, trailer) = if rng.chance(50) {
        let len = rng.below(129) as usize;
        (Vec::new(), rng.bytes(len))
    } else {
        let count = rng.between(1, 6);
        (
            (0..count).map(|_| random_attribute(rng, 2)).collect(),
            Vec::new(),
        )
    };
    GenlRequest {
        netlink_flags,
        cmd: rng.next_u8(),
        version: rng.next_u8(),
        reserved: if rng.chance(90) { 0 } else { rng.next_u16() },
        attrs,
        trailer,
    }
}

/// An attribute of a random type, mostly in or near the module's numbering, holding random
/// bytes or, while `depth` lasts, random nested attributes.
pub fn random_attribute(rng: &mut Prng, depth: u32) -> Attribute {
    let kind = if rng.chance(80) {
        rng.below(32) as u16
    } else {
        rng.next_u16() & !NLA_F_NESTED
    };
    if depth > 0 && rng.chance(20) {
        let count = rng.below(4);
        let children = (0..count)
            .map(|_| random_attribute(rng, depth - 1))
            .collect();
        return Attribute::nest(kind, children);
    }
    let len = *rng.pick(&[0usize, 1, 2, 4, 4, 4, 6, 8, 16]);
    Attribute {
        type_field: kind,
        body: Body::Bytes(rng.bytes(len)),
        length_lie: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_valid_template_ndadm_would_send() {
        let mut rng = Prng::new(3);
        for (cmd, _) in COMMAND_WEIGHTS {
            let request = template(cmd, &mut rng);
            assert_eq!(request.cmd, cmd as u8);
            assert_eq!(request.version, FAMILY_VERSION);
            assert!(request.netlink_flags & flags::REQUEST != 0);
            let dump = request.netlink_flags & flags::DUMP == flags::DUMP;
            assert_eq!(dump, is_dump_command(cmd as u8), "{cmd:?}");
            let payload = request.payload();
            assert_eq!(
                GenlRequest::parse(request.netlink_flags, &payload).as_ref(),
                Some(&request)
            );
        }
    }

    #[test]
    fn templates_stay_within_the_documented_values() {
        let mut rng = Prng::new(9);
        for _ in 0..200 {
            let request = template(Cmd::SetWeights, &mut rng);
            let kinds: Vec<u16> = request.attrs.iter().map(Attribute::kind).collect();
            assert_eq!(kinds, [top::VIP, top::PORT, top::WEIGHTS]);
            let Body::Bytes(vip) = &request.attrs[0].body else {
                panic!("VIP is plain")
            };
            assert!(VIPS.iter().any(|v| v.octets() == vip[..]));
            let Body::Nest(entries) = &request.attrs[2].body else {
                panic!("WEIGHTS is a nest")
            };
            assert!((1..=SERVERS.len()).contains(&entries.len()));
            for entry in entries {
                let Body::Nest(fields) = &entry.body else {
                    panic!("an entry is a nest")
                };
                let Body::Bytes(weight) = &fields[1].body else {
                    panic!("a weight is plain")
                };
                let weight = u32::from_ne_bytes(weight[..].try_into().unwrap());
                assert!(weight <= MAX_TEMPLATE_WEIGHT);
            }
        }
    }

    #[test]
    fn about_half_the_requests_are_valid_or_lightly_mutated() {
        let mut rng = Prng::new(5);
        let mut light = 0;
        let total = 10_000;
        for _ in 0..total {
            let generated = generate(&mut rng);
            if generated.origin != Origin::Random && generated.mutations.len() <= 1 {
                light += 1;
            }
        }
        assert!((4_000..7_000).contains(&light), "{light} of {total}");
    }

    #[test]
    fn generation_is_deterministic_for_a_seed() {
        let run = |seed| {
            let mut rng = Prng::new(seed);
            (0..300)
                .map(|_| generate(&mut rng).request.payload())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
    }

    #[test]
    fn commands_are_classified() {
        assert!(is_dump_command(Cmd::GetConn as u8));
        assert!(is_dump_command(Cmd::GetAffinity as u8));
        assert!(!is_dump_command(Cmd::GetConfig as u8));
        assert!(!is_dump_command(Cmd::GetHa as u8));
        assert!(is_mutating_command(Cmd::Flush as u8));
        assert!(is_mutating_command(Cmd::SetWeights as u8));
        assert!(!is_mutating_command(Cmd::GetInfo as u8));
        assert!(!is_mutating_command(Cmd::Unspec as u8));
        assert!(!is_mutating_command(200));
        assert_eq!(command_name(Cmd::NewVip as u8), "NewVip");
        assert_eq!(command_name(200), "cmd200");
    }
}
