//! The Executor's scenarios, each on a freshly configured dispatcher.

use super::cluster::*;
use std::time::Duration;

fn weighted() -> [(&'static str, u32); 3] {
    [(SERVERS[0], 1), (SERVERS[1], 2), (SERVERS[2], 3)]
}

fn sleep_secs(secs: u64) {
    std::thread::sleep(Duration::from_secs(secs));
}

/// Weights 1:2:3 and 600 connections: 100/200/300, and the module's counters agree.
pub fn weighted_round_robin() -> Outcome {
    configure(LB_NS, VIP, &weighted())?;
    let report = connect(VIP, 80, 600, 8)?;
    println!(
        "  distribution: {:?}, failed {}",
        report.per_server, report.failed
    );
    ensure(report.ok == 600, || {
        format!(
            "{} of 600 connections failed: {:?}",
            report.failed, report.errors
        )
    })?;
    let expected = [100u64, 200, 300];
    for (name, want) in SERVER_NAMES.iter().zip(expected) {
        let got = report.per_server.get(*name).copied().unwrap_or(0);
        // One WRR cycle (6 connections) of slack.
        ensure(got.abs_diff(want) <= 3, || {
            format!("{name} got {got}, expected {want}")
        })?;
    }
    let rows = servers(LB_NS)?;
    for (addr, name) in SERVERS.iter().zip(SERVER_NAMES) {
        let row = rows
            .iter()
            .find(|r| r.server == *addr)
            .ok_or_else(|| format!("{addr} missing from server show"))?;
        let seen = report.per_server.get(name).copied().unwrap_or(0);
        ensure(row.conns == seen, || {
            format!(
                "module counted {} connections to {addr}, the servers saw {seen}",
                row.conns
            )
        })?;
    }
    Ok(())
}

/// Servers see the client's address and the VIP; replies never pass the dispatcher.
pub fn direct_server_return() -> Outcome {
    configure(LB_NS, VIP, &weighted())?;
    let rx_before = device_counter(LB_NS, "eth0", "rx_packets")?;
    let forwarded_before: u64 = servers(LB_NS)?.iter().map(|r| r.packets).sum();
    let report = connect(VIP, 80, 60, 4)?;
    let rx = device_counter(LB_NS, "eth0", "rx_packets")? - rx_before;
    let forwarded = servers(LB_NS)?.iter().map(|r| r.packets).sum::<u64>() - forwarded_before;
    println!(
        "  dispatcher received {rx} packets, forwarded {forwarded}; servers saw peers {:?} on {:?}",
        report.server_saw_peer, report.server_saw_local
    );
    ensure(report.ok == 60, || {
        format!(
            "{} connections failed: {:?}; the dispatcher dropped {}",
            report.failed,
            report.errors,
            drops(LB_NS)
        )
    })?;
    ensure(report.server_saw_peer == [CLIENT], || {
        format!("servers saw peers {:?}", report.server_saw_peer)
    })?;
    ensure(report.server_saw_local == [VIP], || {
        format!("servers saw local {:?}", report.server_saw_local)
    })?;
    // Each connection sends at least 4 segments through the dispatcher; the replies would
    // double what it receives. A few ARP frames are all it may receive besides.
    ensure(forwarded >= 60 * 4, || {
        format!("only {forwarded} packets forwarded")
    })?;
    ensure(rx <= forwarded + 10, || {
        format!(
            "dispatcher received {rx} packets for {forwarded} forwarded: replies passed through it"
        )
    })?;
    Ok(())
}

/// The paper's two-network configuration: servers configured by their addresses on a second
/// LAN get the client's packets over it, unchanged, and answer the client over the first.
pub fn two_networks() -> Outcome {
    configure(LB_NS, VIP, &BACK_SERVERS.map(|server| (server, 1)))?;
    let lb_tx = |dev| device_counter(LB_NS, dev, "tx_packets");
    let servers_tx = |dev| -> Result<u64, String> {
        SERVER_NAMES
            .iter()
            .map(|ns| device_counter(ns, dev, "tx_packets"))
            .sum()
    };
    let before = (
        lb_tx("eth0")?,
        lb_tx("eth1")?,
        servers_tx("eth0")?,
        servers_tx("eth1")?,
    );
    let report = connect(VIP, 80, 60, 4)?;
    let front = lb_tx("eth0")? - before.0;
    let back = lb_tx("eth1")? - before.1;
    let replies_front = servers_tx("eth0")? - before.2;
    let replies_back = servers_tx("eth1")? - before.3;
    println!(
        "  dispatcher sent {front} packets on the first LAN, {back} on the second; servers \
         sent {replies_front} on the first, {replies_back} on the second; {:?}",
        report.per_server
    );
    ensure(report.ok == 60, || {
        format!(
            "{} connections failed: {:?}; the dispatcher dropped {}",
            report.failed,
            report.errors,
            drops(LB_NS)
        )
    })?;
    for name in SERVER_NAMES {
        let got = report.per_server.get(name).copied().unwrap_or(0);
        ensure(got == 20, || format!("{name} got {got} of 60 connections"))?;
    }
    ensure(
        report.server_saw_peer == [CLIENT] && report.server_saw_local == [VIP],
        || {
            format!(
                "servers saw peers {:?} on {:?}",
                report.server_saw_peer, report.server_saw_local
            )
        },
    )?;
    // Each connection sends at least 4 segments to its server and gets at least 3 back.
    ensure(back >= 60 * 4, || {
        format!("only {back} packets forwarded on the second LAN")
    })?;
    ensure(replies_front >= 60 * 3, || {
        format!("servers sent only {replies_front} packets to the client on the first LAN")
    })?;
    // ARP and the like are all that may pass the other way.
    ensure(front <= 10 && replies_back <= 10, || {
        format!("{front} packets forwarded on the first LAN, {replies_back} replies on the second")
    })
}

/// An unconfigured port of the VIP is filtered and counted; the configured one still works.
pub fn filtering() -> Outcome {
    configure(LB_NS, VIP, &weighted())?;
    let before = number(&info(LB_NS)?, &["drops", "filtered"]);
    let blocked = connect(VIP, 81, 3, 1)?;
    ensure(blocked.ok == 0, || {
        format!("{} connections to port 81 succeeded", blocked.ok)
    })?;
    let after = number(&info(LB_NS)?, &["drops", "filtered"]);
    println!("  filtered drops {before} -> {after}");
    ensure(after >= before + 3, || {
        format!("filtered counter went from {before} to {after}")
    })?;
    let open = connect(VIP, 80, 6, 1)?;
    ensure(open.ok == 6, || {
        format!("port 80 after filtering: {:?}", open.errors)
    })
}

/// Weight 0: open connections go on, no new ones; weight back: new ones again.
pub fn quiesce() -> Outcome {
    configure(
        LB_NS,
        VIP,
        &[(SERVERS[0], 1), (SERVERS[1], 1), (SERVERS[2], 1)],
    )?;
    let hold = Hold::start(VIP, 6, 8)?;
    set_weight(LB_NS, VIP, SERVERS[0], 0)?;
    let during = connect(VIP, 80, 30, 4)?;
    let streams = hold.finish()?;
    println!(
        "  while quiesced: {:?}; streams {:?} intact {}/{}",
        during.per_server, streams.per_server, streams.intact, streams.conns
    );
    streams_intact(&streams, "srv1", 6)?;
    ensure(
        during.ok == 30 && !during.per_server.contains_key("srv1"),
        || {
            format!(
                "new connections while quiesced: {:?} {:?}",
                during.per_server, during.errors
            )
        },
    )?;
    set_weight(LB_NS, VIP, SERVERS[0], 1)?;
    let after = connect(VIP, 80, 30, 4)?;
    ensure(
        after.per_server.get("srv1").copied().unwrap_or(0) == 10,
        || format!("after weight 1 again: {:?}", after.per_server),
    )
}

/// Adding and removing servers under traffic breaks no connection to the others.
pub fn live_changes() -> Outcome {
    configure(LB_NS, VIP, &[(SERVERS[0], 1), (SERVERS[1], 1)])?;
    let hold = Hold::start(VIP, 8, 8)?;
    let service = format!("{VIP}:80");
    ndadm(
        LB_NS,
        &["server", "add", &service, SERVERS[2], "--weight", "1"],
    )?;
    let with_third = connect(VIP, 80, 30, 4)?;
    ndadm(LB_NS, &["server", "del", &service, SERVERS[2]])?;
    let conns = ndadm_json(LB_NS, &["conn", "show"])?;
    let orphans = conns
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c.get("server").and_then(|s| s.as_str()) == Some(SERVERS[2]))
        .count();
    ensure(orphans == 0, || {
        format!("{orphans} entries of the removed server remain")
    })?;
    let without = connect(VIP, 80, 20, 4)?;
    let streams = hold.finish()?;
    println!(
        "  with srv3 {:?}, without {:?}, streams intact {}/{}",
        with_third.per_server, without.per_server, streams.intact, streams.conns
    );
    ensure(streams.intact == 8, || {
        format!("streams broke: {:?}", streams.errors)
    })?;
    ensure(
        with_third.ok == 30 && with_third.per_server.get("srv3").copied() == Some(10),
        || format!("after adding srv3: {:?}", with_third.per_server),
    )?;
    ensure(
        without.ok == 20 && !without.per_server.contains_key("srv3"),
        || format!("after removing srv3: {:?}", without.per_server),
    )
}

/// The dispatcher itself as one of the servers.
pub fn co_location() -> Outcome {
    let mut local_server = std::process::Command::new("/sbin/ip")
        .args([
            "netns",
            "exec",
            LB_NS,
            "ndtest",
            "serve",
            "--listen",
            "0.0.0.0:80",
            "--name",
            "lb",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("local server: {e}"))?;
    let result = (|| {
        run(
            LB_NS,
            &["ndtest", "wait-port", "--to", &format!("{LB_ADDR}:80")],
        )?;
        configure(LB_NS, VIP, &[(LB_ADDR, 1), (SERVERS[0], 1)])?;
        let report = connect(VIP, 80, 20, 2)?;
        println!("  distribution: {:?}", report.per_server);
        ensure(report.ok == 20, || format!("failures: {:?}", report.errors))?;
        ensure(report.per_server.get("lb").copied() == Some(10), || {
            format!("the co-located server got {:?}", report.per_server)
        })
    })();
    let _ = local_server.kill();
    let _ = local_server.wait();
    result
}

/// Two namespaces, two Executors that see nothing of each other.
pub fn namespaces_are_separate() -> Outcome {
    configure(LB_NS, VIP, &weighted())?;
    configure(LB2_NS, VIP2, &[(SERVERS[0], 1)])?;
    let vips = |ns| -> Result<Vec<String>, String> {
        let v = ndadm_json(ns, &["vip", "show"])?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("vip").and_then(|a| a.as_str()).map(String::from))
            .collect())
    };
    let (one, two) = (vips(LB_NS)?, vips(LB2_NS)?);
    ensure(one == [VIP] && two == [VIP2], || {
        format!("lb sees {one:?}, lb2 sees {two:?}")
    })?;
    let first = connect(VIP, 80, 6, 2)?;
    let second = connect(VIP2, 80, 6, 2)?;
    ensure(first.ok == 6 && second.ok == 6, || {
        format!("{:?} {:?}", first.errors, second.errors)
    })?;
    ensure(second.per_server.keys().eq(["srv1"].iter()), || {
        format!("lb2 spread {:?}", second.per_server)
    })?;
    let lb2_conns = number(&info(LB2_NS)?, &["conn_count"]);
    let lb2_servers = servers(LB2_NS)?;
    ensure(
        lb2_servers.len() == 1 && lb2_servers[0].conns == 6 && lb2_conns == 6,
        || format!("lb2 counts {lb2_conns} entries, servers {lb2_servers:?}"),
    )?;
    ndadm(LB2_NS, &["flush"]).map(drop)
}

/// Closed connections expire; the table empties and the gauges fall to 0.
pub fn expiry() -> Outcome {
    configure(LB_NS, VIP, &weighted())?;
    ndadm(
        LB_NS,
        &[
            "config",
            "set",
            "--timeout-syn",
            "2",
            "--timeout-fin",
            "2",
            "--timeout-close",
            "2",
            "--timeout-established",
            "3",
        ],
    )?;
    let report = connect(VIP, 80, 30, 4)?;
    ensure(report.ok == 30, || format!("{:?}", report.errors))?;
    let during = number(&info(LB_NS)?, &["conn_count"]);
    sleep_secs(5);
    let after = number(&info(LB_NS)?, &["conn_count"]);
    let rows = servers(LB_NS)?;
    println!(
        "  entries {during} -> {after}; gauges {:?}",
        rows.iter()
            .map(|r| (r.active, r.inactive))
            .collect::<Vec<_>>()
    );
    ensure(during > 0, || {
        "no entries right after the connections".into()
    })?;
    ensure(after == 0, || {
        format!("{after} entries left after the timeouts")
    })?;
    ensure(
        rows.iter().all(|r| r.active == 0 && r.inactive == 0),
        || format!("gauges not 0: {rows:?}"),
    )
}

/// Mutations need CAP_NET_ADMIN; bad requests get a clear error and change nothing.
pub fn bad_administration() -> Outcome {
    configure(LB_NS, VIP, &weighted())?;
    let before = ndadm_json(LB_NS, &["show"])?;
    let service = format!("{VIP}:80");
    let attempts: [(&[&str], &str); 6] = [
        (&["server", "del", &service, "10.0.0.99"], "no such server"),
        (&["server", "add", &service, SERVERS[0]], "already"),
        (&["port", "add", "10.0.0.77:80"], "no such cluster address"),
        (&["vip", "add", VIP], "already"),
        (&["weights", "set", &service, "10.0.0.11=1"], "every server"),
        (
            &[
                "server",
                "set",
                "10.0.0.100:81",
                SERVERS[0],
                "--weight",
                "2",
            ],
            "no such port",
        ),
    ];
    for (args, expected) in attempts {
        match ndadm(LB_NS, args) {
            Ok(out) => return Err(format!("ndadm {} succeeded: {out}", args.join(" "))),
            Err(message) => ensure(message.contains(expected), || {
                format!(
                    "ndadm {}: message lacks '{expected}': {message}",
                    args.join(" ")
                )
            })?,
        }
    }
    let unprivileged = run(
        LB_NS,
        &[
            "ndtest",
            "run-as",
            "--uid",
            "65534",
            "--",
            "ndadm",
            "vip",
            "add",
            "10.0.0.150",
        ],
    );
    println!("  unprivileged: {unprivileged:?}");
    match unprivileged {
        Ok(_) => return Err("an unprivileged user added a cluster address".into()),
        Err(message) => ensure(message.contains("CAP_NET_ADMIN"), || {
            format!("unprivileged error unclear: {message}")
        })?,
    }
    let after = ndadm_json(LB_NS, &["show"])?;
    ensure(before == after, || {
        format!("configuration changed: {before} -> {after}")
    })?;
    Ok(())
}

/// rmmod with live connections and traffic, then insmod: clean, and it works again.
pub fn reload_under_traffic() -> Outcome {
    configure(LB_NS, VIP, &weighted())?;
    let hold = Hold::start(VIP, 6, 4)?;
    let removed = std::process::Command::new("rmmod")
        .arg("nd")
        .status()
        .map_err(|e| e.to_string())?;
    ensure(removed.success(), || "rmmod nd failed".into())?;
    let streams = hold.finish()?;
    println!(
        "  streams after rmmod: intact {}/{} (they are expected to break)",
        streams.intact, streams.conns
    );
    let inserted = std::process::Command::new("insmod")
        .arg("/nd/nd.ko")
        .status()
        .map_err(|e| e.to_string())?;
    ensure(inserted.success(), || "insmod nd failed".into())?;
    configure(LB_NS, VIP, &weighted())?;
    let report = connect(VIP, 80, 12, 2)?;
    ensure(report.ok == 12, || {
        format!("after reload: {:?}", report.errors)
    })
}

/// Malformed requests that ndadm would refuse to send: the module rejects each one with an
/// errno and a message, and the configuration stays as it was.
pub fn malformed_requests() -> Outcome {
    configure(LB_NS, VIP, &weighted())?;
    let before = ndadm_json(LB_NS, &["show"])?;
    let probe = run(LB_NS, &["ndtest", "admin-probe"]);
    let (Ok(out) | Err(out)) = &probe;
    for line in out.lines() {
        println!("  {line}");
    }
    probe?;
    let after = ndadm_json(LB_NS, &["show"])?;
    ensure(before == after, || {
        format!("configuration changed: {before} -> {after}")
    })
}

/// One message replaces every weight of a port, as the Manager commits them.
pub fn batch_weights() -> Outcome {
    configure(
        LB_NS,
        VIP,
        &[(SERVERS[0], 1), (SERVERS[1], 1), (SERVERS[2], 1)],
    )?;
    let service = format!("{VIP}:80");
    let assignments: Vec<String> = SERVERS
        .iter()
        .zip([3, 2, 1])
        .map(|(s, w)| format!("{s}={w}"))
        .collect();
    let mut args = vec!["weights", "set", service.as_str()];
    args.extend(assignments.iter().map(String::as_str));
    ndadm(LB_NS, &args)?;
    let weights: Vec<u64> = servers(LB_NS)?.iter().map(|r| r.weight).collect();
    ensure(weights == [3, 2, 1], || {
        format!("weights after the batch: {weights:?}")
    })?;
    let report = connect(VIP, 80, 60, 4)?;
    println!("  distribution: {:?}", report.per_server);
    let counts: Vec<u64> = SERVER_NAMES
        .iter()
        .map(|n| report.per_server.get(*n).copied().unwrap_or(0))
        .collect();
    ensure(counts == [30, 20, 10], || {
        format!("distribution after the batch: {counts:?}")
    })
}

/// A server with a static MAC gets frames for that MAC, not the neighbour table's: its real
/// MAC works, and a wrong one loses the connections.
pub fn static_mac() -> Outcome {
    let mac = run("srv1", &["cat", "/sys/class/net/eth0/address"])?;
    let mac = mac.trim();
    ndadm(LB_NS, &["flush"])?;
    ndadm(LB_NS, &["vip", "add", VIP])?;
    let service = format!("{VIP}:80");
    ndadm(LB_NS, &["port", "add", &service])?;
    ndadm(
        LB_NS,
        &["server", "add", &service, SERVERS[0], "--mac", mac],
    )?;
    let right = connect(VIP, 80, 6, 2)?;
    ndadm(
        LB_NS,
        &[
            "server",
            "set",
            &service,
            SERVERS[0],
            "--mac",
            "02:00:00:00:00:99",
        ],
    )?;
    let wrong = connect(VIP, 80, 2, 2)?;
    println!(
        "  real MAC {mac}: {} ok; wrong MAC: {} ok",
        right.ok, wrong.ok
    );
    ensure(right.ok == 6, || {
        format!("with the real MAC: {:?}", right.errors)
    })?;
    ensure(wrong.ok == 0, || {
        "connections went through with a wrong static MAC".into()
    })
}
