//! Adversarial input: fuzzed netlink requests, malformed packets and a SYN flood. The debug
//! kernel's log check catches any crash, leak or lock problem they cause; these scenarios
//! check that the configuration, the counters and real clients come through.

use super::cluster::*;
use super::memory::{Change, Memory};
use serde_json::Value;
use std::time::{Duration, Instant};

fn json(out: &str) -> Result<Value, String> {
    serde_json::from_str(out.trim()).map_err(|e| format!("bad JSON ({e}): {out}"))
}

/// `v` without its counters: what configuration alone determines.
fn without_stats(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| key.as_str() != "stats")
                .map(|(key, value)| (key.clone(), without_stats(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_stats).collect()),
        other => other.clone(),
    }
}

/// The configuration of the Executor in `ns`: services, servers, weights, timeouts, bound.
fn configuration(ns: &str) -> Result<Value, String> {
    let tree = ndadm_json(ns, &["show"])?;
    let config = ndadm_json(ns, &["config", "show"])?;
    Ok(Value::Array(vec![without_stats(&tree), config]))
}

/// Fuzzed requests in a fresh namespace; replaying only the accepted ones in another fresh
/// namespace must give the same configuration, so no rejected request changed anything. Then
/// an unprivileged fuzzer changes nothing at all.
pub fn netlink_fuzzing() -> Outcome {
    let count = scaled(20_000, 100_000).to_string();
    let memory_before = Memory::now();
    let record = "/tmp/nd-fuzz.rec";
    let _ = std::fs::remove_file(record);
    for ns in ["fz1", "fz2"] {
        let _ = ip(&["netns", "del", ns]);
        ip(&["netns", "add", ns])?;
    }
    let outcome = (|| {
        let fuzz = json(&run(
            "fz1",
            &[
                "ndtest",
                "fuzz-netlink",
                "--count",
                &count,
                "--seed",
                "42",
                "--record",
                record,
            ],
        )?)?;
        let replay = json(&run(
            "fz2",
            &["ndtest", "replay-netlink", "--file", record],
        )?)?;
        println!(
            "  fuzzed {} requests: {} accepted ({} changes), errnos {}, dumps {} ({} abandoned), \
             timeouts {}; replayed {}",
            fuzz["sent"],
            fuzz["accepted"],
            fuzz["accepted_mutating"],
            fuzz["rejected_by_errno"],
            fuzz["dumps"],
            fuzz["dumps_interrupted"],
            fuzz["timeouts"],
            replay["replayed"]
        );
        ensure(fuzz["timeouts"].as_u64() == Some(0), || {
            "the module did not answer some requests".into()
        })?;
        ensure(replay["failed"].as_u64() == Some(0), || {
            format!(
                "replaying the accepted requests failed: {}",
                replay["errors"]
            )
        })?;
        let (fuzzed, replayed) = (configuration("fz1")?, configuration("fz2")?);
        ensure(fuzzed == replayed, || {
            format!("configurations differ:\n  fuzzed   {fuzzed}\n  replayed {replayed}")
        })?;

        configure(LB_NS, VIP, &SERVERS.map(|server| (server, 1)))?;
        let before = configuration(LB_NS)?;
        let count = scaled(5_000, 20_000).to_string();
        let unprivileged = json(&run(
            LB_NS,
            &[
                "ndtest",
                "fuzz-netlink",
                "--count",
                &count,
                "--seed",
                "7",
                "--uid",
                "65534",
            ],
        )?)?;
        println!(
            "  unprivileged: {} requests, {} accepted, errnos {}",
            unprivileged["sent"], unprivileged["accepted"], unprivileged["rejected_by_errno"]
        );
        ensure(
            unprivileged["accepted_mutating"].as_u64() == Some(0),
            || {
                format!(
                    "unprivileged changes accepted: {}",
                    unprivileged["accepted_unprivileged"]
                )
            },
        )?;
        let after = configuration(LB_NS)?;
        println!("  {}", Change(memory_before, Memory::now()));
        ensure(before == after, || {
            format!("unprivileged requests changed the configuration: {before} -> {after}")
        })
    })();
    for ns in ["fz1", "fz2"] {
        let _ = ip(&["netns", "del", ns]);
    }
    outcome
}

/// The dispatcher's MAC address on the first LAN.
fn dispatcher_mac() -> Result<String, String> {
    Ok(run(LB_NS, &["cat", "/sys/class/net/eth0/address"])?
        .trim()
        .to_owned())
}

fn raw_packets(kind: &str, count: u32, seed: u32) -> Result<Value, String> {
    json(&run(
        CLIENT_NS,
        &[
            "ndtest",
            "raw-packets",
            "--ifname",
            "eth0",
            "--dst-mac",
            &dispatcher_mac()?,
            "--vip",
            VIP,
            "--port",
            "80",
            "--count",
            &count.to_string(),
            "--seed",
            &seed.to_string(),
            "--kind",
            kind,
        ],
    )?)
}

fn drop_count(info: &Value, reason: &str) -> u64 {
    number(info, &["drops", reason])
}

/// Malformed frames to the VIP: whatever reaches the hook is dropped or passed by its rule
/// and counted; the table and real clients are unaffected.
pub fn malformed_packets() -> Outcome {
    configure(LB_NS, VIP, &SERVERS.map(|server| (server, 1)))?;
    let before = info(LB_NS)?;
    let memory_before = Memory::now();
    let report = raw_packets("malformed", scaled(20_000, 100_000), 3)?;
    let after = info(LB_NS)?;
    let memory_after = Memory::now();
    let delta = |reason| drop_count(&after, reason) - drop_count(&before, reason);
    let kinds = &report["by_kind"];
    let sent_of = |kind: &str| kinds[kind].as_u64().unwrap_or(0);
    println!(
        "  sent {} frames ({} send errors): {kinds}",
        report["sent"], report["send_errors"]
    );
    println!(
        "  dropped: filtered {}, malformed {}, no_connection {}; table {} entries",
        delta("filtered"),
        delta("malformed"),
        delta("no_connection"),
        number(&after, &["conn_count"])
    );
    println!("  {}", Change(memory_before, memory_after));
    // Well-formed IP to the VIP with another protocol or port reaches the hook and is filtered.
    let filterable =
        sent_of("udp") + sent_of("gre") + sent_of("other_protocol") + sent_of("unconfigured_port");
    ensure(delta("filtered") >= filterable * 9 / 10, || {
        format!(
            "{filterable} frames to filter, {} filtered",
            delta("filtered")
        )
    })?;
    // Fragments are not defragmented here (no conntrack), so they reach the hook.
    let fragments = sent_of("first_fragment") + sent_of("later_fragment");
    ensure(delta("malformed") >= fragments * 9 / 10, || {
        format!(
            "{fragments} fragments sent, {} counted malformed",
            delta("malformed")
        )
    })?;
    let check = connect(VIP, 80, 12, 2)?;
    ensure(check.ok == 12, || {
        format!("real clients after the frames: {:?}", check.errors)
    })
}

/// Spoofed SYNs fill a small table while real clients connect: the table stays within its
/// bound, real clients get in by evicting the flood's half-open entries, and once the flood
/// stops its entries expire early.
pub fn syn_flood() -> Outcome {
    // Small, so that the few thousand SYNs per second an emulated machine sends fill it.
    const LIMIT: u64 = 2_000;
    configure(LB_NS, VIP, &SERVERS.map(|server| (server, 1)))?;
    ndadm(
        LB_NS,
        &[
            "config",
            "set",
            "--conn-limit",
            &LIMIT.to_string(),
            "--timeout-syn-pressure",
            "5",
        ],
    )?;
    let memory_before = Memory::now();
    let syns = scaled(20_000, 1_000_000);
    let flood = std::thread::spawn(move || raw_packets("synflood", syns, 11));
    // Let the flood fill the table before the real clients come.
    std::thread::sleep(Duration::from_secs(2));
    let real = connect(VIP, 80, 300, 4)?;
    let flood = flood
        .join()
        .map_err(|_| "the flood thread panicked".to_owned())??;
    let during = info(LB_NS)?;
    let memory_after = Memory::now();
    println!(
        "  {} spoofed SYNs in {} ms; real clients {}/300; table {} of {LIMIT}; evicted {}, \
         table full {}; {}",
        flood["sent"],
        flood["elapsed_ms"],
        real.ok,
        number(&during, &["conn_count"]),
        drop_count(&during, "half_open_evicted"),
        drop_count(&during, "table_full"),
        Change(memory_before, memory_after)
    );
    // A table of LIMIT entries is a few hundred KiB; what a flood may make the kernel keep
    // beyond that is its packets in flight.
    let growth = memory_after.slab_growth_since(&memory_before);
    ensure(growth < 32 * 1024, || {
        format!("unreclaimable slab grew by {growth} kB during the flood")
    })?;
    ensure(number(&during, &["conn_count"]) <= LIMIT, || {
        format!(
            "the table holds {} entries",
            number(&during, &["conn_count"])
        )
    })?;
    ensure(real.ok * 100 >= 300 * 99, || {
        format!(
            "only {} of 300 real connections succeeded: {:?}",
            real.ok, real.errors
        )
    })?;
    ensure(drop_count(&during, "half_open_evicted") > 0, || {
        "the flood never filled the table: the scenario tests nothing".into()
    })?;
    // Entries made under pressure live 5 s. What may stay: those from before it (at most
    // half the table, 60 s) and the real clients' (300, closing at their own pace).
    let start = Instant::now();
    loop {
        let count = number(&info(LB_NS)?, &["conn_count"]);
        if count <= LIMIT / 2 + 300 + LIMIT / 10 {
            println!(
                "  table down to {count} entries {:?} after the flood",
                start.elapsed()
            );
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(20) {
            return Err(format!(
                "the table still holds {count} entries 20 s after the flood"
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
