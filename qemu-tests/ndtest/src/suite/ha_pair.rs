//! Two dispatchers run as operators would run them: the same configuration on `lb` and
//! `lb2`, `nd-syncd` relaying the active one's table to the other, and keepalived (VRRP,
//! adverts every second) moving the cluster address and switching the Executors' roles
//! through the notify script of `examples/ha`. Everything it starts ends with it, and both
//! dispatchers are left as the other scenarios expect them.

use super::cluster::*;
use super::daemon::Daemon;
use serde_json::Value;
use std::fs;
use std::time::{Duration, Instant};

const HA_DIR: &str = "/run/nd-ha";
const SYNC_PORT: u16 = 7060;
const LB2_ADDR: &str = "10.0.0.3";
/// How long a returning primary waits before it takes the address back: time for its peer's
/// table to reach it.
const PREEMPT_DELAY_SECS: u32 = 5;

/// One dispatcher of the pair.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Node {
    Primary,
    Backup,
}

impl Node {
    pub fn ns(self) -> &'static str {
        match self {
            Node::Primary => LB_NS,
            Node::Backup => LB2_NS,
        }
    }

    fn addr(self) -> &'static str {
        match self {
            Node::Primary => LB_ADDR,
            Node::Backup => LB2_ADDR,
        }
    }

    fn peer(self) -> Node {
        match self {
            Node::Primary => Node::Backup,
            Node::Backup => Node::Primary,
        }
    }

    fn index(self) -> usize {
        match self {
            Node::Primary => 0,
            Node::Backup => 1,
        }
    }

    /// The root namespace's end of the node's link to the LAN.
    fn link(self) -> String {
        format!("v-{}", self.ns())
    }
}

fn keepalived_config(node: Node) -> String {
    let (priority, preempt) = match node {
        Node::Primary => (150, format!("    preempt_delay {PREEMPT_DELAY_SECS}\n")),
        Node::Backup => (100, String::new()),
    };
    format!(
        "global_defs {{\n    router_id {ns}\n    script_user root\n    enable_script_security\n}}\n\
         vrrp_instance nd_cluster {{\n    state BACKUP\n    interface eth0\n    \
         virtual_router_id 51\n    priority {priority}\n    advert_int 1\n{preempt}    \
         unicast_src_ip {me}\n    unicast_peer {{\n        {peer}\n    }}\n    \
         virtual_ipaddress {{\n        {VIP}/32 dev eth0\n    }}\n    \
         notify_master \"{HA_DIR}/notify-{ns}.sh master\"\n    \
         notify_backup \"{HA_DIR}/notify-{ns}.sh backup\"\n    \
         notify_fault \"{HA_DIR}/notify-{ns}.sh fault\"\n    \
         notify_stop \"{HA_DIR}/notify-{ns}.sh stop\"\n}}\n",
        ns = node.ns(),
        me = node.addr(),
        peer = node.peer().addr(),
    )
}

fn write(path: &str, text: &str, mode: u32) -> Outcome {
    use std::os::unix::fs::PermissionsExt;
    fs::write(path, text).map_err(|e| format!("{path}: {e}"))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| format!("{path}: {e}"))
}

fn start_syncd(node: Node) -> Result<Daemon, String> {
    let config = format!("{HA_DIR}/syncd-{}.toml", node.ns());
    write(
        &config,
        &format!(
            "node = \"{}\"\nlisten = \"{}:{SYNC_PORT}\"\npeer = \"{}:{SYNC_PORT}\"\n",
            node.ns(),
            node.addr(),
            node.peer().addr()
        ),
        0o644,
    )?;
    Daemon::start(
        node.ns(),
        &["nd-syncd", "--config", &config],
        &format!("/tmp/nd-syncd-{}.log", node.ns()),
    )
}

fn start_keepalived(node: Node) -> Result<Daemon, String> {
    let ns = node.ns();
    let config = format!("{HA_DIR}/keepalived-{ns}.conf");
    write(&config, &keepalived_config(node), 0o644)?;
    // The example's script, then the time since boot at which it made the Executor active:
    // when the takeover was complete, whatever the test's polls see later. Written whole, by
    // a rename, so that a poll never reads half of it.
    write(
        &format!("{HA_DIR}/notify-{ns}.sh"),
        &format!(
            "#!/bin/sh\nNDADM=/bin/ndadm ND_NOTIFY_STATE={HA_DIR}/state-{ns} /nd/nd-notify.sh \"$@\" || exit\n\
             [ \"$1\" != master ] || {{ cut -d' ' -f1 /proc/uptime >{file}.$$ && mv -f {file}.$$ {file}; }}\n",
            file = activated_file(node)
        ),
        0o755,
    )?;
    Daemon::start(
        ns,
        &[
            "keepalived",
            "--dont-fork",
            "--log-console",
            "--vrrp",
            "--use-file",
            &config,
            "--pid",
            &format!("{HA_DIR}/keepalived-{ns}.pid"),
            "--vrrp_pid",
            &format!("{HA_DIR}/vrrp-{ns}.pid"),
        ],
        &format!("/tmp/keepalived-{ns}.log"),
    )
}

/// Where `node`'s notify script writes the time since boot at which it last made the
/// Executor active.
fn activated_file(node: Node) -> String {
    format!("{HA_DIR}/activated-{}", node.ns())
}

/// Seconds since boot, as `/proc/uptime` tells them (to the hundredth).
pub fn uptime() -> Result<f64, String> {
    let text = fs::read_to_string("/proc/uptime").map_err(|e| format!("/proc/uptime: {e}"))?;
    text.split(' ')
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("/proc/uptime: {text:?}"))
}

/// When, in seconds since boot, `node`'s notify script last made its Executor active.
pub fn activated_at(node: Node) -> Result<Option<f64>, String> {
    match fs::read_to_string(activated_file(node)) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{}: {text:?}", activated_file(node))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", activated_file(node))),
    }
}

/// Forgets when `node` was last made active.
pub fn forget_activation(node: Node) {
    let _ = fs::remove_file(activated_file(node));
}

/// `ndadm ha show` of `node`.
pub fn ha_show(node: Node) -> Result<Value, String> {
    ndadm_json(node.ns(), &["ha", "show"])
}

/// Whether `node` holds the cluster address.
pub fn holds_vip(node: Node) -> Result<bool, String> {
    let out = run(node.ns(), &["ip", "-4", "addr", "show", "dev", "eth0"])?;
    Ok(out.contains(&format!("{VIP}/32")))
}

fn role(node: Node) -> Result<String, String> {
    Ok(ha_show(node)?["role"].as_str().unwrap_or("").to_owned())
}

/// Waits up to `limit` for `done`; how long it took.
pub fn wait_for(
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> Result<bool, String>,
) -> Result<Duration, String> {
    let start = Instant::now();
    loop {
        if done()? {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            return Err(format!("{what}: not within {limit:?}"));
        }
        // Each poll starts processes, costly on the emulated machine: not too often.
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Whether `node` is the one in charge: it holds the address and its Executor is active,
/// and its peer's is standby.
pub fn in_charge(node: Node) -> Result<bool, String> {
    Ok(holds_vip(node)? && role(node)? == "active" && role(node.peer())? == "standby")
}

/// Whether `node`'s sync daemon reports a link to its peer.
pub fn linked(node: Node) -> Result<bool, String> {
    Ok(ha_show(node)?["daemon"]["connected"].as_bool() == Some(true))
}

/// The running pair.
pub struct HaPair {
    // Dropped first: keepalived gives the address back before the daemons go.
    keepalived: [Option<Daemon>; 2],
    syncd: [Option<Daemon>; 2],
}

impl HaPair {
    /// Configures both dispatchers with `VIP`:80 (the primary with `weights`, the backup
    /// with equal ones: the daemons carry the weights over) and starts the pair; returns
    /// once the primary is in charge and the daemons are linked.
    pub fn start(weights: [u32; 3]) -> Result<HaPair, String> {
        fs::create_dir_all(HA_DIR).map_err(|e| format!("{HA_DIR}: {e}"))?;
        configure(LB_NS, VIP, &[0, 1, 2].map(|i| (SERVERS[i], weights[i])))?;
        configure(LB2_NS, VIP, &SERVERS.map(|server| (server, 1)))?;
        // keepalived puts the address where it belongs.
        run(
            LB_NS,
            &["ip", "addr", "del", &format!("{VIP}/32"), "dev", "eth0"],
        )?;
        let mut pair = HaPair {
            keepalived: [None, None],
            syncd: [None, None],
        };
        // As the README has operators do it: nothing dispatches, and so nothing publishes
        // its table or weights, until keepalived decides.
        for node in [Node::Primary, Node::Backup] {
            ndadm(node.ns(), &["ha", "role", "standby"])?;
            pair.syncd[node.index()] = Some(start_syncd(node)?);
        }
        // The primary first: started together, both may time out waiting for adverts on a
        // slow machine and both be MASTER for a moment.
        pair.keepalived[0] = Some(start_keepalived(Node::Primary)?);
        wait_for("the primary active", Duration::from_secs(30), || {
            Ok(holds_vip(Node::Primary)? && role(Node::Primary)? == "active")
        })?;
        pair.keepalived[1] = Some(start_keepalived(Node::Backup)?);
        wait_for("the primary in charge", Duration::from_secs(30), || {
            in_charge(Node::Primary)
        })?;
        wait_for("the daemons linked", Duration::from_secs(20), || {
            Ok(linked(Node::Primary)? && linked(Node::Backup)?)
        })?;
        Ok(pair)
    }

    /// Stops `node` as an operator or a dying host's init would: keepalived stopped (it sends
    /// an advert of priority 0, which hands the address over at once), then the link to the
    /// LAN cut.
    pub fn stop(&mut self, node: Node) -> Outcome {
        // Dropping the daemon stops it with SIGTERM and waits for it to exit.
        self.keepalived[node.index()] = None;
        ip(&["link", "set", &node.link(), "down"])
    }

    /// Stops `node` as a crash would: its link to the LAN cut, then keepalived killed. In
    /// that order, the advert of priority 0 that a stopping keepalived sends to hand over at
    /// once cannot escape: the peer has to notice the silence, as after a real crash.
    pub fn crash(&mut self, node: Node) -> Outcome {
        ip(&["link", "set", &node.link(), "down"])?;
        if let Some(keepalived) = self.keepalived[node.index()].as_ref() {
            keepalived.signal(libc::SIGKILL)?;
        }
        self.keepalived[node.index()] = None;
        Ok(())
    }

    /// Brings `node` back: its link up and keepalived started again.
    pub fn recover(&mut self, node: Node) -> Outcome {
        ip(&["link", "set", &node.link(), "up"])?;
        self.keepalived[node.index()] = Some(start_keepalived(node)?);
        Ok(())
    }

    /// Stops `node`'s sync daemon.
    pub fn stop_syncd(&mut self, node: Node) {
        self.syncd[node.index()] = None;
    }

    /// Starts `node`'s sync daemon again.
    pub fn restart_syncd(&mut self, node: Node) -> Outcome {
        self.syncd[node.index()] = Some(start_syncd(node)?);
        Ok(())
    }

    /// What each node's keepalived logged last and what each node holds, for a failure's
    /// message.
    pub fn explain(&self) -> String {
        let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let mut out = format!("\n  load average {}", load.trim());
        for node in [Node::Primary, Node::Backup] {
            let ns = node.ns();
            let log = fs::read_to_string(format!("/tmp/keepalived-{ns}.log")).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(25)..].join("\n    ");
            let addresses =
                run(ns, &["ip", "-4", "-o", "addr", "show", "dev", "eth0"]).unwrap_or_else(|e| e);
            let show = ha_show(node).map(|v| v.to_string()).unwrap_or_else(|e| e);
            out += &format!(
                "\n  {ns}: {}\n  {ns}: {show}\n  {ns}'s keepalived log ends:\n    {tail}",
                addresses.trim()
            );
        }
        out
    }

    /// Fails if `node`'s sync daemon has exited.
    pub fn syncd_alive(&mut self, node: Node) -> Outcome {
        match self.syncd[node.index()].as_mut() {
            Some(daemon) => daemon.alive(),
            None => Err(format!("the sync daemon of {} was stopped", node.ns())),
        }
    }
}

impl Drop for HaPair {
    fn drop(&mut self) {
        self.keepalived = [None, None];
        self.syncd = [None, None];
        for node in [Node::Primary, Node::Backup] {
            let _ = ip(&["link", "set", &node.link(), "up"]);
            let _ = ndadm(node.ns(), &["ha", "role", "active"]);
        }
        let vip = format!("{VIP}/32");
        let _ = run(LB2_NS, &["ip", "addr", "del", &vip, "dev", "eth0"]);
        if !holds_vip(Node::Primary).unwrap_or(true) {
            let _ = run(LB_NS, &["ip", "addr", "add", &vip, "dev", "eth0"]);
        }
        let _ = ndadm(LB2_NS, &["flush"]);
        let _ = run(CLIENT_NS, &["ip", "neigh", "flush", "dev", "eth0"]);
    }
}
