//! The daemon against an in-memory Executor, with advisors probing listeners on loopback
//! addresses and agent reports sent from them.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nd_manager::agent_report::AgentReport;
use nd_manager::config::Policy;
use nd_manager::daemon::{Daemon, ReloadError, Trigger};
use nd_manager::decision::{CommitReason, Outcome};
use nd_manager::executor::MemoryExecutor;
use nd_manager::shutdown::{self, ShutdownTrigger};
use ndadm::model::{SchedulerKind, Service};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;

const SERVICE: Service = Service {
    vip: Ipv4Addr::new(10, 0, 0, 100),
    port: 80,
};
const A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// A configuration file in a directory of its own, removed at the end of the test.
struct ConfigFile {
    path: PathBuf,
}

impl ConfigFile {
    fn new(test: &str, text: &str) -> ConfigFile {
        let dir = std::env::temp_dir().join(format!("nd-manager-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = ConfigFile {
            path: dir.join("manager.toml"),
        };
        file.write(text);
        file
    }

    fn write(&self, text: &str) {
        std::fs::write(&self.path, text).unwrap();
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.path.parent().unwrap());
    }
}

async fn start(file: &ConfigFile, executor: &Arc<MemoryExecutor>) -> (Daemon, ShutdownTrigger) {
    let config = nd_manager::config::Config::load(&file.path).unwrap();
    let (trigger, shutdown) = shutdown::channel();
    let daemon = Daemon::start(file.path.clone(), config, executor.clone(), shutdown)
        .await
        .unwrap();
    (daemon, trigger)
}

/// Listeners on the same port of A and B, so that one advisor port reaches both.
async fn listeners() -> (u16, TcpListener, TcpListener) {
    loop {
        let on_a = TcpListener::bind((A, 0)).await.unwrap();
        let port = on_a.local_addr().unwrap().port();
        if let Ok(on_b) = TcpListener::bind((B, port)).await {
            return (port, on_a, on_b);
        }
    }
}

fn advisor_config(port: u16) -> String {
    format!(
        r#"
interval = "1s"
smoothing = 0.5
# So large that only a server going down or coming back is ever committed.
sensitivity = 1000
[metrics]
active_conns = 1
[[advisor]]
name = "alive"
kind = "tcp"
port = {port}
timeout = "500ms"
[[service]]
vip = "10.0.0.100"
port = 80
server = [{{ address = "127.0.0.1" }}, {{ address = "127.0.0.2" }}]
"#
    )
}

#[tokio::test]
async fn an_advisor_going_down_quiesces_at_once_and_coming_back_reintroduces() {
    let (port, _on_a, on_b) = listeners().await;
    let file = ConfigFile::new("advisor", &advisor_config(port));
    let executor = Arc::new(MemoryExecutor::new());
    let (mut daemon, _trigger) = start(&file, &executor).await;

    // The first round creates what the Executor lacks, with weight 1, and holds the
    // weights: they would move, but not by the sensitivity.
    let first = daemon.round(Trigger::Interval).await;
    assert_eq!(executor.with(|s| s.vips.len()), 1);
    assert!(!first[0].outcome.is_commit(), "{}", first[0].outcome);
    assert_eq!(executor.weight(SERVICE, A), Some(1));
    assert_eq!(executor.weight(SERVICE, B), Some(1));

    drop(on_b);
    let down = daemon.round(Trigger::Interval).await;
    assert_eq!(
        down[0].outcome,
        Outcome::Commit(CommitReason::Availability {
            quiesced: vec![B],
            reintroduced: vec![]
        })
    );
    assert_eq!(executor.weight(SERVICE, B), Some(0));
    assert!(executor.weight(SERVICE, A).unwrap() > 0);
    assert_eq!(
        down[0].servers[1].input.down,
        vec!["advisor alive: connection refused".to_string()]
    );

    let _on_b = TcpListener::bind((B, port)).await.unwrap();
    let back = daemon.round(Trigger::Interval).await;
    assert_eq!(
        back[0].outcome,
        Outcome::Commit(CommitReason::Availability {
            quiesced: vec![],
            reintroduced: vec![B]
        })
    );
    assert!(executor.weight(SERVICE, B).unwrap() > 0);
}

const ACTIVE: &str = r#"
smoothing = 0
sensitivity = 0
[metrics]
active_conns = 1
[[service]]
vip = "10.0.0.100"
port = 80
server = [{ address = "127.0.0.1" }, { address = "127.0.0.2" }]
"#;

fn executor_with_load() -> Arc<MemoryExecutor> {
    let executor = Arc::new(MemoryExecutor::new());
    executor.insert(SERVICE, A, 1);
    executor.insert(SERVICE, B, 1);
    executor.with(|state| {
        for (reading, active) in state.servers.iter_mut().zip([30, 10]) {
            reading.conns = 500;
            reading.active = active;
        }
    });
    executor
}

#[tokio::test]
async fn a_reload_changes_the_relative_weights_from_the_next_decision() {
    let file = ConfigFile::new("reload", ACTIVE);
    let executor = executor_with_load();
    let (mut daemon, _trigger) = start(&file, &executor).await;

    // Active connections 30 and 10: A is the loaded one.
    daemon.round(Trigger::Interval).await;
    assert_eq!(executor.weight(SERVICE, A), Some(38));
    assert_eq!(executor.weight(SERVICE, B), Some(100));

    // New connections instead: none arrived on either, so they look alike.
    file.write(&ACTIVE.replace("active_conns = 1", "new_conns = 1"));
    daemon.reload().await.unwrap();
    let decisions = daemon.round(Trigger::Reload).await;
    assert_eq!(decisions[0].metrics[0].metric.name(), "new_conns");
    assert_eq!(executor.weight(SERVICE, A), Some(100));
    assert_eq!(executor.weight(SERVICE, B), Some(100));
}

#[tokio::test]
async fn a_reload_changing_the_scheduler_sets_it_and_the_weights_become_capacities() {
    let file = ConfigFile::new("scheduler", ACTIVE);
    let executor = executor_with_load();
    let (mut daemon, _trigger) = start(&file, &executor).await;
    daemon.round(Trigger::Interval).await;
    assert_eq!(executor.scheduler(SERVICE), Some(SchedulerKind::Wrr));
    assert_eq!(executor.weight(SERVICE, A), Some(38));

    file.write(&ACTIVE.replace("port = 80\n", "port = 80\nscheduler = \"wlc\"\n"));
    daemon.reload().await.unwrap();
    let decisions = daemon.round(Trigger::Reload).await;
    assert_eq!(executor.scheduler(SERVICE), Some(SchedulerKind::Wlc));
    assert_eq!(decisions[0].policy, Policy::Capacity);
    // No HTTP advisor times the servers, so their declared capacities, alike, decide.
    assert_eq!(executor.weight(SERVICE, A), Some(100));
    assert_eq!(executor.weight(SERVICE, B), Some(100));
    // The open connections are the Executor's business: still there.
    let active: Vec<u32> = executor.with(|s| s.servers.iter().map(|r| r.active).collect());
    assert_eq!(active, vec![30, 10]);

    // Another reload of the same file changes nothing more.
    daemon.reload().await.unwrap();
    daemon.round(Trigger::Reload).await;
    assert_eq!(
        executor.with(|s| s.scheduler_changes.clone()),
        vec![(SERVICE, SchedulerKind::Wlc)]
    );
}

#[tokio::test]
async fn an_invalid_reload_is_refused_and_the_old_configuration_kept() {
    let file = ConfigFile::new("bad-reload", ACTIVE);
    let executor = executor_with_load();
    let (mut daemon, _trigger) = start(&file, &executor).await;
    file.write(&ACTIVE.replace("smoothing = 0", "smoothing = 1.5"));
    let Err(ReloadError::Config(error)) = daemon.reload().await else {
        panic!("the reload was accepted");
    };
    assert_eq!(error.line, Some(2));
    assert_eq!(error.field.as_deref(), Some("smoothing"));
    assert_eq!(daemon.config().smoothing, 0.0);
    daemon.round(Trigger::Interval).await;
    assert_eq!(executor.weight(SERVICE, A), Some(38));
}

#[tokio::test]
async fn a_reload_adding_a_server_creates_it_and_a_removed_one_is_left_alone() {
    let file = ConfigFile::new("servers", ACTIVE);
    let executor = executor_with_load();
    let (mut daemon, _trigger) = start(&file, &executor).await;
    daemon.round(Trigger::Interval).await;
    let c = Ipv4Addr::new(127, 0, 0, 3);
    file.write(&ACTIVE.replace(
        r#"{ address = "127.0.0.2" }"#,
        r#"{ address = "127.0.0.3" }"#,
    ));
    daemon.reload().await.unwrap();
    let decisions = daemon.round(Trigger::Reload).await;
    let managed: Vec<Ipv4Addr> = decisions[0]
        .servers
        .iter()
        .map(|s| s.input.server)
        .collect();
    assert_eq!(managed, vec![A, c]);
    // B keeps the weight it had; the commit named it with that weight.
    assert_eq!(executor.weight(SERVICE, B), Some(100));
    assert!(executor.weight(SERVICE, c).unwrap() > 0);
}

const HOST: &str = r#"
interval = "1s"
smoothing = 0
sensitivity = 0
agent_listen = "127.0.0.1:0"
[metrics]
load = 1
[[host_metric]]
name = "load"
stale_after = "400ms"
[[service]]
vip = "10.0.0.100"
port = 80
server = [{ address = "127.0.0.1" }, { address = "127.0.0.2" }]
"#;

async fn report(from: Ipv4Addr, to: SocketAddr, load: f64) {
    let socket = UdpSocket::bind((from, 0)).await.unwrap();
    let report = AgentReport::new([("load".to_string(), load)].into());
    socket.send_to(&report.encode().unwrap(), to).await.unwrap();
}

/// Waits until the daemon's board has taken in what was sent; UDP on loopback is quick but
/// not synchronous.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn host_metrics_weigh_servers_and_a_silent_agent_quiesces_its_server() {
    let file = ConfigFile::new("host", HOST);
    let executor = Arc::new(MemoryExecutor::new());
    executor.insert(SERVICE, A, 1);
    executor.insert(SERVICE, B, 1);
    let (mut daemon, _trigger) = start(&file, &executor).await;
    let agents = daemon.agent_address().expect("listening for agents");

    report(A, agents, 3.0).await;
    report(B, agents, 1.0).await;
    // A stranger's report is ignored.
    report(Ipv4Addr::new(127, 0, 0, 9), agents, 0.0).await;
    settle().await;
    let decisions = daemon.round(Trigger::Interval).await;
    let values: Vec<Option<f64>> = decisions[0]
        .servers
        .iter()
        .map(|s| s.input.values[0])
        .collect();
    assert_eq!(values, vec![Some(3.0), Some(1.0)]);
    assert_eq!(executor.weight(SERVICE, A), Some(38));
    assert_eq!(executor.weight(SERVICE, B), Some(100));

    // Only A keeps reporting; B's value goes stale.
    tokio::time::sleep(Duration::from_millis(500)).await;
    report(A, agents, 3.0).await;
    settle().await;
    daemon.round(Trigger::Interval).await;
    assert_eq!(executor.weight(SERVICE, B), Some(0));
    assert_eq!(executor.weight(SERVICE, A), Some(100));

    report(B, agents, 1.0).await;
    settle().await;
    daemon.round(Trigger::HostRecovered).await;
    assert_eq!(executor.weight(SERVICE, B), Some(100));
}

/// Polls `check` until it holds, for at most ten seconds.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen");
}

#[tokio::test]
async fn the_running_daemon_reacts_to_advisors_and_reloads_and_stops_on_shutdown() {
    let (port, _on_a, on_b) = listeners().await;
    let text = advisor_config(port)
        .replace(r#"interval = "1s""#, r#"interval = "200ms""#)
        .replace(r#"timeout = "500ms""#, r#"timeout = "150ms""#);
    let file = ConfigFile::new("run", &text);
    let executor = Arc::new(MemoryExecutor::new());
    let (daemon, trigger) = start(&file, &executor).await;
    let (reload, reloads) = mpsc::channel(1);
    let running = tokio::spawn(daemon.run(reloads));

    eventually("provisioning", || executor.weight(SERVICE, B) == Some(1)).await;
    drop(on_b);
    eventually("quiescing B", || executor.weight(SERVICE, B) == Some(0)).await;

    // A third server through a reload.
    let c = Ipv4Addr::new(127, 0, 0, 3);
    let _on_c = TcpListener::bind((c, port)).await.unwrap();
    file.write(&text.replace(
        r#"{ address = "127.0.0.2" }"#,
        r#"{ address = "127.0.0.2" }, { address = "127.0.0.3" }"#,
    ));
    reload.send(()).await.unwrap();
    eventually("adding C", || executor.weight(SERVICE, c).is_some()).await;

    trigger.trigger();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the daemon stops on shutdown")
        .unwrap();
    // Stopping leaves the Executor as it was.
    assert_eq!(executor.weight(SERVICE, B), Some(0));
}
