//! Two daemons on loopback, each with an in-memory Executor, as two dispatchers would run.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nd_manager::shutdown::{self, ShutdownTrigger};
use nd_netlink_proto::attr::ConnState;
use nd_syncd::codec::read_frame;
use nd_syncd::config::{Config, Timings};
use nd_syncd::counters::Counters;
use nd_syncd::daemon::Daemon;
use nd_syncd::executor::{MemoryExecutor, MemoryState};
use nd_syncd::frame::{Frame, Hello, PROTOCOL_VERSION};
use ndadm::model::{HaRole, RecordKind, Service, SyncRecord};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const SERVICE: Service = Service {
    vip: Ipv4Addr::new(10, 0, 0, 100),
    port: 80,
};
const SERVER_1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 11);
const SERVER_2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 12);
/// The longest any test waits for something to happen.
const PATIENCE: Duration = Duration::from_secs(10);

fn timings() -> Timings {
    let ms = Duration::from_millis;
    Timings {
        role_poll: ms(20),
        status_interval: ms(50),
        weights_interval: ms(50),
        keepalive: ms(100),
        dead_after: ms(1000),
        connect_timeout: ms(1000),
        retry_min: ms(20),
        retry_max: ms(200),
        ack_timeout: ms(5000),
        window: 16,
    }
}

/// An Executor with the test's port and its two servers.
fn executor(role: HaRole) -> Arc<MemoryExecutor> {
    let executor = Arc::new(MemoryExecutor::new(role));
    executor.add_server(SERVICE, SERVER_1, 1);
    executor.add_server(SERVICE, SERVER_2, 1);
    executor
}

/// A connection record from client port `client_port`.
fn conn(kind: RecordKind, client_port: u16) -> SyncRecord {
    SyncRecord {
        kind,
        state: Some(ConnState::Established),
        prefix: 0,
        client: u32::from_ne_bytes([203, 0, 113, 7]),
        vip: u32::from_ne_bytes(SERVICE.vip.octets()),
        server: u32::from_ne_bytes(SERVER_1.octets()),
        client_port,
        port: SERVICE.port,
        expires_ms: 900_000,
    }
}

fn key(client_port: u16) -> (u32, u16, u32, u16) {
    let record = conn(RecordKind::Conn, client_port);
    (record.client, client_port, record.vip, record.port)
}

/// A running daemon and what the test needs of it.
struct Node {
    executor: Arc<MemoryExecutor>,
    counters: Arc<Counters>,
    address: SocketAddrV4,
    trigger: ShutdownTrigger,
    task: JoinHandle<()>,
    _reload: mpsc::Sender<Timings>,
}

impl Node {
    async fn start(
        name: &str,
        listener: TcpListener,
        peer: SocketAddrV4,
        executor: Arc<MemoryExecutor>,
    ) -> Node {
        let SocketAddr::V4(address) = listener.local_addr().unwrap() else {
            panic!("an IPv4 listener");
        };
        let config = Config {
            node: name.into(),
            listen: SocketAddr::V4(address),
            peer,
            timings: timings(),
            queue: 64,
        };
        let (trigger, shutdown) = shutdown::channel();
        let daemon = Daemon::with_listener(config, listener, executor.clone(), shutdown);
        let counters = daemon.counters();
        let (reload, reloads) = mpsc::channel(1);
        let task = tokio::spawn(daemon.run(reloads));
        Node {
            executor,
            counters,
            address,
            trigger,
            task,
            _reload: reload,
        }
    }

    async fn stop(self) -> Arc<Counters> {
        self.trigger.trigger();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the daemon stops on shutdown")
            .unwrap();
        self.counters
    }

    fn state<T>(&self, f: impl FnOnce(&MemoryState) -> T) -> T {
        self.executor.with(|state| f(state))
    }
}

async fn listener() -> (TcpListener, SocketAddrV4) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let SocketAddr::V4(address) = listener.local_addr().unwrap() else {
        panic!("an IPv4 listener");
    };
    (listener, address)
}

/// Node A (active, "lb-a") and node B (standby, "lb-b"), each the other's peer.
async fn pair(a: Arc<MemoryExecutor>, b: Arc<MemoryExecutor>) -> (Node, Node) {
    let (listen_a, address_a) = listener().await;
    let (listen_b, address_b) = listener().await;
    let a = Node::start("lb-a", listen_a, address_b, a).await;
    let b = Node::start("lb-b", listen_b, address_a, b).await;
    (a, b)
}

/// Waits until `condition` holds, failing the test after [`PATIENCE`].
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < PATIENCE, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn linked(a: &Node, b: &Node) {
    eventually("both daemons report the link up", || {
        let up = |node: &Node| node.state(|s| s.report.is_some_and(|r| r.connected));
        up(a) && up(b)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_opened_on_the_active_appears_on_the_standby_over_one_link() {
    let active = executor(HaRole::Active);
    // Open before the daemons start: the first resync carries it.
    active.change(&[conn(RecordKind::Conn, 1000)]);
    let (a, b) = pair(active, executor(HaRole::Standby)).await;
    linked(&a, &b).await;
    eventually("the open connection reaches B", || {
        b.executor.conn(key(1000)).is_some()
    })
    .await;

    a.executor.change(&[conn(RecordKind::Conn, 1001)]);
    eventually("a new connection reaches B", || {
        b.executor.conn(key(1001)).is_some()
    })
    .await;
    let mut closing = conn(RecordKind::Conn, 1001);
    closing.state = Some(ConnState::FinWait);
    a.executor.change(&[closing]);
    eventually("its change of state reaches B", || {
        b.executor.conn(key(1001)).and_then(|c| c.state) == Some(ConnState::FinWait)
    })
    .await;
    a.executor.change(&[conn(RecordKind::ConnGone, 1000)]);
    eventually("a connection's end reaches B", || {
        b.executor.conn(key(1000)).is_none()
    })
    .await;
    let binding = SyncRecord {
        kind: RecordKind::Affinity,
        state: None,
        prefix: 24,
        client_port: 0,
        ..conn(RecordKind::Conn, 0)
    };
    a.executor.change(&[binding]);
    eventually("an affinity record reaches B", || {
        b.state(|s| s.affinity.len() == 1)
    })
    .await;

    // Exactly one link came up, and it stays.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(a.counters.links_up.get(), 1);
    assert_eq!(b.counters.links_up.get(), 1);
    assert_eq!(a.counters.links_down.get() + b.counters.links_down.get(), 0);
    assert_eq!(
        a.counters.decode_errors.get() + b.counters.decode_errors.get(),
        0
    );
    assert_eq!(b.state(|s| s.refused), 0);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_standby_is_resynced() {
    let active = executor(HaRole::Active);
    // More than two full batches, so that the copy spans several frames and the window.
    let table: Vec<SyncRecord> = (0..2500).map(|port| conn(RecordKind::Conn, port)).collect();
    active.change(&table);
    let (a, b) = pair(active, executor(HaRole::Standby)).await;
    eventually("B holds A's table", || b.state(|s| s.conns.len() == 2500)).await;

    let address_b = b.address;
    let first = b.stop().await;
    assert!(first.resyncs_received.get() >= 1);
    a.executor.change(&[conn(RecordKind::Conn, 4000)]);

    // B comes back with an empty table, as after a reboot, on the same address.
    let listen_b = TcpListener::bind(address_b).await.unwrap();
    let b = Node::start("lb-b", listen_b, a.address, executor(HaRole::Standby)).await;
    eventually("the restarted B holds A's table again", || {
        b.state(|s| s.conns.len() == 2501)
    })
    .await;
    assert!(a.counters.resyncs_sent.get() >= 2);
    assert!(b.counters.resyncs_received.get() >= 1);
    a.stop().await;
    b.stop().await;
}

/// Sends `bytes` on a fresh connection to `node` and waits for the daemon to close it.
async fn send_and_wait_for_close(node: &Node, bytes: &[u8]) {
    let mut stream = TcpStream::connect(node.address).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match read_frame(&mut stream).await {
                Ok(_) => continue,
                Err(_) => return,
            }
        }
    });
    closed.await.expect("the daemon closes the connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_from_the_peer_is_survived() {
    let (listen_a, _) = listener().await;
    let (listen_b, address_b) = listener().await;
    // B's address is chosen, but nothing answers there yet.
    drop(listen_b);
    let a = Node::start("lb-a", listen_a, address_b, executor(HaRole::Active)).await;

    // Not the protocol at all.
    send_and_wait_for_close(&a, b"GET / HTTP/1.0\r\n\r\n").await;
    // A frame longer than the limit.
    send_and_wait_for_close(&a, &u32::MAX.to_be_bytes()).await;
    // A good hello from a node whose link A keeps, then a frame of an unknown kind.
    let mut bytes = Frame::Hello(Hello {
        version: PROTOCOL_VERSION,
        role: Some(HaRole::Standby),
        node: "lb-0".into(),
    })
    .encode();
    bytes.extend_from_slice(&[0, 0, 0, 1, 99]);
    send_and_wait_for_close(&a, &bytes).await;
    // A hello of another protocol version.
    let mut other = Frame::Hello(Hello {
        version: PROTOCOL_VERSION,
        role: None,
        node: "lb-0".into(),
    })
    .encode();
    other[12] = 9;
    send_and_wait_for_close(&a, &other).await;
    eventually("each is counted", || a.counters.decode_errors.get() >= 4).await;

    // A is still there, and the real B links and is synchronised.
    a.executor.change(&[conn(RecordKind::Conn, 7)]);
    let listen_b = TcpListener::bind(address_b).await.unwrap();
    let b = Node::start("lb-b", listen_b, a.address, executor(HaRole::Standby)).await;
    eventually("B gets A's table despite the garbage before", || {
        b.executor.conn(key(7)).is_some()
    })
    .await;
    assert!(!a.task.is_finished());
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_is_measured_with_acknowledgements() {
    let standby = executor(HaRole::Standby);
    let (a, b) = pair(executor(HaRole::Active), standby).await;
    linked(&a, &b).await;
    // B installs slowly: A's records wait for their acknowledgements.
    b.executor
        .with(|s| s.install_delay = Duration::from_millis(400));
    let batch: Vec<SyncRecord> = (0..10).map(|port| conn(RecordKind::Conn, port)).collect();
    a.executor.change(&batch);
    eventually("A reports records waiting for B", || {
        a.state(|s| {
            s.report
                .is_some_and(|r| r.lag_records == 10 && r.lag_ms > 0)
        })
    })
    .await;
    eventually("the acknowledgement clears the lag", || {
        a.state(|s| s.report.is_some_and(|r| r.lag_records == 0 && r.sent == 10))
    })
    .await;
    eventually("B reports what it received", || {
        b.state(|s| s.report.is_some_and(|r| r.received == 10 && r.sent == 0))
    })
    .await;
    assert_eq!(b.state(|s| s.installed), 10);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_follow_the_active() {
    let standby = executor(HaRole::Standby);
    // A server only the standby has keeps its own weight.
    let only_here = Ipv4Addr::new(10, 0, 0, 13);
    standby.add_server(SERVICE, only_here, 5);
    let (a, b) = pair(executor(HaRole::Active), standby).await;
    linked(&a, &b).await;
    a.executor.set_weight(SERVICE, SERVER_1, 7);
    a.executor.set_weight(SERVICE, SERVER_2, 0);
    eventually("B's weights follow A's", || {
        b.executor.weight(SERVICE, SERVER_1) == Some(7)
            && b.executor.weight(SERVICE, SERVER_2) == Some(0)
    })
    .await;
    assert_eq!(b.executor.weight(SERVICE, only_here), Some(5));
    // A's own weights are not touched by B's.
    b.executor.set_weight(SERVICE, SERVER_1, 9);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(a.executor.weight(SERVICE, SERVER_1), Some(7));
    assert!(a.state(|s| s.weight_commits.is_empty()));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_roles_turns_the_stream() {
    let (a, b) = pair(executor(HaRole::Active), executor(HaRole::Standby)).await;
    linked(&a, &b).await;
    a.executor.change(&[conn(RecordKind::Conn, 1)]);
    eventually("A's connection reaches B", || {
        b.executor.conn(key(1)).is_some()
    })
    .await;

    // keepalived moves the address: B takes over, A steps down.
    a.executor.set_role(HaRole::Standby);
    b.executor.set_role(HaRole::Active);
    b.executor.change(&[conn(RecordKind::Conn, 2)]);
    eventually("B's new connection reaches A", || {
        a.executor.conn(key(2)).is_some()
    })
    .await;
    // A's own changes no longer go anywhere: it is the standby.
    a.executor.change(&[conn(RecordKind::Conn, 3)]);
    b.executor.set_weight(SERVICE, SERVER_2, 4);
    eventually("weights now follow B", || {
        a.executor.weight(SERVICE, SERVER_2) == Some(4)
    })
    .await;
    assert!(b.executor.conn(key(3)).is_none());
    // One resync once B receives its Executor's changes, and one more if A, still active
    // then, ignored it and turned standby after.
    let resyncs = b.counters.resyncs_sent.get();
    assert!((1..=2).contains(&resyncs), "B resynced A {resyncs} times");
    assert_eq!(
        a.counters.links_up.get(),
        1,
        "the same link carries both directions"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_turns_standby_late_gets_the_whole_table() {
    // B's Executor is still active when the link comes up, as before keepalived's first
    // notify: it ignores A's resync.
    let active = executor(HaRole::Active);
    active.change(&[conn(RecordKind::Conn, 5)]);
    let (a, b) = pair(active, executor(HaRole::Active)).await;
    linked(&a, &b).await;
    eventually("B ignored A's records", || {
        b.counters.records_ignored.get() >= 1
    })
    .await;
    // Past every resync of the start: only B's change of role can bring another.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let resyncs = a.counters.resyncs_sent.get();
    assert!(b.executor.conn(key(5)).is_none());
    b.executor.set_role(HaRole::Standby);
    eventually("B gets A's table once standby", || {
        b.executor.conn(key(5)).is_some()
    })
    .await;
    assert_eq!(a.counters.resyncs_sent.get(), resyncs + 1);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_publications_bring_a_full_resync() {
    let (a, b) = pair(executor(HaRole::Active), executor(HaRole::Standby)).await;
    linked(&a, &b).await;
    eventually("the first resync is done", || {
        a.counters.resyncs_sent.get() >= 1
    })
    .await;
    let before = a.counters.resyncs_sent.get();
    // Changes the standby never hears of, then the overrun that tells A so.
    a.executor.with(|s| {
        let record = conn(RecordKind::Conn, 9);
        s.conns
            .insert((record.client, 9, record.vip, record.port), record);
    });
    a.executor.overrun();
    eventually("the overrun is counted and a resync follows", || {
        a.counters.overruns.get() >= 1 && a.counters.resyncs_sent.get() > before
    })
    .await;
    eventually("the lost change reaches B by the resync", || {
        b.executor.conn(key(9)).is_some()
    })
    .await;
    a.stop().await;
    b.stop().await;
}
