//! Malformed administration requests, sent past ndadm's own checks, that the module must
//! reject with an errno (and, where the module checks them itself, a message) and without
//! changing anything. Run inside a dispatcher's namespace with 10.0.0.100:80 configured.

use nd_netlink_proto::attr::{top, weight_entry};
use nd_netlink_proto::cmd::Cmd;
use ndadm::client::{attr, nested, Client, WEIGHTS_ELEMENT};
use neli::genl::Nlattr;
use neli::types::{Buffer, GenlBuffer};

const VIP: [u8; 4] = [10, 0, 0, 100];
const SERVER: [u8; 4] = [10, 0, 0, 11];

struct Probe {
    name: &'static str,
    cmd: u8,
    dump: bool,
    attrs: Vec<Nlattr<u16, Buffer>>,
    /// A piece of the module's extended-ack message, where the module words it.
    message: Option<&'static str>,
}

fn u32_attr(kind: u16, value: u32) -> Nlattr<u16, Buffer> {
    attr(kind, &value.to_ne_bytes())
}

fn port_attr(port: u16) -> Nlattr<u16, Buffer> {
    attr(top::PORT, &port.to_ne_bytes())
}

fn probe(
    name: &'static str,
    cmd: Cmd,
    attrs: Vec<Nlattr<u16, Buffer>>,
    message: Option<&'static str>,
) -> Probe {
    Probe {
        name,
        cmd: cmd as u8,
        dump: false,
        attrs,
        message,
    }
}

fn probes() -> Vec<Probe> {
    let vip = || attr(top::VIP, &VIP);
    let server = || attr(top::SERVER, &SERVER);
    let entry = |server: [u8; 4], weight: Option<u32>| {
        let mut children = vec![attr(weight_entry::SERVER, &server)];
        children.extend(weight.map(|w| u32_attr(weight_entry::WEIGHT, w)));
        nested(WEIGHTS_ELEMENT, &children)
    };
    vec![
        probe(
            "vip missing",
            Cmd::NewVip,
            vec![],
            Some("missing cluster address"),
        ),
        probe(
            "vip of two bytes",
            Cmd::NewVip,
            vec![attr(top::VIP, &[10, 0])],
            None,
        ),
        probe(
            "broadcast vip",
            Cmd::NewVip,
            vec![attr(top::VIP, &[255; 4])],
            Some("unicast"),
        ),
        probe(
            "unknown attribute",
            Cmd::NewVip,
            vec![vip(), attr(top::MAX + 20, &[0; 4])],
            None,
        ),
        probe(
            "port zero",
            Cmd::NewPort,
            vec![vip(), port_attr(0)],
            Some("port 0"),
        ),
        probe(
            "port missing",
            Cmd::NewPort,
            vec![vip()],
            Some("missing port"),
        ),
        probe(
            "weight too large",
            Cmd::NewServer,
            vec![
                vip(),
                port_attr(80),
                attr(top::SERVER, &[10, 0, 0, 50]),
                u32_attr(top::WEIGHT, 70_000),
            ],
            Some("weight above"),
        ),
        probe(
            "mac of five bytes",
            Cmd::NewServer,
            vec![
                vip(),
                port_attr(80),
                attr(top::SERVER, &[10, 0, 0, 50]),
                attr(top::MAC, &[2, 0, 0, 0, 1]),
            ],
            None,
        ),
        probe(
            "unknown server",
            Cmd::DelServer,
            vec![vip(), port_attr(80), attr(top::SERVER, &[10, 0, 0, 99])],
            Some("no such server"),
        ),
        probe(
            "set without change",
            Cmd::SetServer,
            vec![vip(), port_attr(80), server()],
            Some("nothing to change"),
        ),
        probe(
            "weight entry without weight",
            Cmd::SetWeights,
            vec![
                vip(),
                port_attr(80),
                nested(top::WEIGHTS, &[entry(SERVER, None)]),
            ],
            Some("needs a server and a weight"),
        ),
        probe(
            "weight list too large a weight",
            Cmd::SetWeights,
            vec![
                vip(),
                port_attr(80),
                nested(top::WEIGHTS, &[entry(SERVER, Some(70_000))]),
            ],
            Some("weight above"),
        ),
        probe(
            "weight list with a stranger",
            Cmd::SetWeights,
            vec![
                vip(),
                port_attr(80),
                nested(top::WEIGHTS, &[entry([10, 0, 0, 99], Some(1))]),
            ],
            Some("not on this port"),
        ),
        probe(
            "weight list missing",
            Cmd::SetWeights,
            vec![vip(), port_attr(80)],
            Some("missing weight list"),
        ),
        probe(
            "timeout zero",
            Cmd::SetConfig,
            vec![u32_attr(top::TIMEOUT_ESTABLISHED, 0)],
            Some("timeout must be"),
        ),
        probe(
            "limit zero",
            Cmd::SetConfig,
            vec![u32_attr(top::CONN_LIMIT, 0)],
            Some("connection limit"),
        ),
        probe(
            "config without change",
            Cmd::SetConfig,
            vec![],
            Some("nothing to change"),
        ),
        Probe {
            name: "unknown command",
            cmd: 99,
            dump: false,
            attrs: vec![],
            message: None,
        },
        Probe {
            name: "dump with garbage",
            cmd: Cmd::GetServer as u8,
            dump: true,
            attrs: vec![attr(top::MAX + 7, &[1, 2, 3])],
            message: None,
        },
    ]
}

/// Sends every probe; prints one line each and returns whether all were rejected as expected.
pub fn run() -> bool {
    let client = match Client::connect() {
        Ok(client) => client,
        Err(e) => {
            println!("admin-probe: {e}");
            return false;
        }
    };
    let mut all_rejected = true;
    let total = probes().len();
    for p in probes() {
        let mut attrs = GenlBuffer::new();
        for a in p.attrs {
            attrs.push(a);
        }
        match client.execute_raw(p.name, p.cmd, p.dump, attrs) {
            Ok(_) => {
                all_rejected = false;
                println!("accepted {}", p.name);
            }
            Err(e) => {
                let text = e.to_string();
                let worded = p.message.is_none_or(|m| text.contains(m));
                if !worded || e.errno().is_none() {
                    all_rejected = false;
                    println!("unclear {}: {text}", p.name);
                } else {
                    println!("rejected {}: {text}", p.name);
                }
            }
        }
    }
    println!("admin-probe: {total} malformed requests sent");
    all_rejected
}
