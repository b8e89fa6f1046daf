//! The daemon: its tasks (role, publications, status), and the one link to the peer it keeps
//! up by listening and dialling with backoff.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nd_manager::shutdown::Shutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;
use tracing::{debug, error, info, warn};

use crate::backoff::Backoff;
use crate::config::{Config, Timings};
use crate::counters::Counters;
use crate::executor::Executor;
use crate::frame::{Hello, PROTOCOL_VERSION};
use crate::handshake::{self, judge, Direction, HandshakeError, Verdict};
use crate::link::{self, LinkError};
use crate::publisher::relay_publications;
use crate::resync::ResyncFlag;
use crate::role::watch_role;
use crate::shared::{LinkState, Shared};
use crate::status::report_status;

/// A connection whose hellos were exchanged, or why that failed.
struct Handshaken {
    direction: Direction,
    from: SocketAddr,
    outcome: Result<(TcpStream, Hello), HandshakeError>,
}

/// The link that is up.
struct Current {
    peer: String,
    task: JoinHandle<Result<(), LinkError>>,
}

/// The sync daemon of one node.
pub struct Daemon {
    config: Config,
    listener: TcpListener,
    executor: Arc<dyn Executor>,
    counters: Arc<Counters>,
    shutdown: Shutdown,
}

impl Daemon {
    /// A daemon for `config` on `executor`, listening on the configured address.
    pub async fn bind(
        config: Config,
        executor: Arc<dyn Executor>,
        shutdown: Shutdown,
    ) -> io::Result<Daemon> {
        let listener = TcpListener::bind(config.listen).await?;
        Ok(Daemon::with_listener(config, listener, executor, shutdown))
    }

    /// A daemon that takes connections on `listener` instead of binding `config.listen`.
    pub fn with_listener(
        config: Config,
        listener: TcpListener,
        executor: Arc<dyn Executor>,
        shutdown: Shutdown,
    ) -> Daemon {
        Daemon {
            config,
            listener,
            executor,
            counters: Arc::new(Counters::default()),
            shutdown,
        }
    }

    /// Where the daemon listens.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The daemon's counters, which stay readable after it stops.
    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// Runs until shutdown; each message on `reloads` brings new timings.
    pub async fn run(self, mut reloads: mpsc::Receiver<Timings>) {
        let config = self.config;
        let (timings_sender, timings) = watch::channel(config.timings);
        let (role_sender, role) = watch::channel(None);
        let (queue, published) = mpsc::channel(config.queue);
        let shared = Arc::new(Shared {
            node: config.node.clone(),
            peer: config.peer,
            executor: Arc::clone(&self.executor),
            timings: timings.clone(),
            role,
            counters: Arc::clone(&self.counters),
            link: Mutex::new(LinkState::default()),
            published: tokio::sync::Mutex::new(published),
            resync: ResyncFlag::default(),
            acked: Notify::new(),
        });
        let tasks = [
            tokio::spawn(watch_role(
                Arc::clone(&self.executor),
                timings,
                role_sender,
                self.shutdown.clone(),
            )),
            tokio::spawn(relay_publications(
                Arc::clone(&shared),
                queue,
                self.shutdown.clone(),
            )),
            tokio::spawn(report_status(Arc::clone(&shared), self.shutdown.clone())),
        ];
        info!(
            node = %config.node,
            "listening on {} for {}, the peer's daemon",
            self.listener.local_addr().unwrap_or(config.listen),
            config.peer
        );
        let mut links = Links {
            shared: Arc::clone(&shared),
            listener: self.listener,
            backoff: Backoff::new(config.timings.retry_min, config.timings.retry_max),
            peer_name: None,
            dialling: false,
            dial_failing: false,
            next_dial: Some(Instant::now()),
            current: None,
            shutdown: self.shutdown.clone(),
        };
        let mut shutdown = self.shutdown;
        let (handshaken_sender, mut handshaken) = mpsc::channel(8);
        loop {
            let may_dial = links.may_dial();
            let dial_at = links
                .next_dial
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                _ = shutdown.recv() => break,
                Some(new) = reloads.recv() => {
                    links.backoff.set_bounds(new.retry_min, new.retry_max);
                    timings_sender.send_replace(new);
                    info!("timings reloaded");
                }
                accepted = links.listener.accept() => match accepted {
                    Ok((stream, from)) => links.accept(stream, from, &handshaken_sender),
                    Err(e) => {
                        warn!("cannot accept a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                _ = tokio::time::sleep_until(dial_at.into()), if may_dial => {
                    links.dial(&handshaken_sender);
                }
                Some(result) = handshaken.recv() => links.settle(result),
                ended = wait_for(&mut links.current) => links.ended(ended),
            }
        }
        if let Some(current) = links.current.take() {
            // The link task ends on the same shutdown signal.
            let _ = current.task.await;
        }
        for task in tasks {
            let _ = task.await;
        }
        info!("stopped");
    }
}

/// Waits for the current link to end; never, if there is none.
async fn wait_for(current: &mut Option<Current>) -> Result<Result<(), LinkError>, String> {
    match current {
        Some(current) => (&mut current.task).await.map_err(|e| e.to_string()),
        None => std::future::pending().await,
    }
}

/// The connections to the peer: dialling, accepting, and the one link kept.
struct Links {
    shared: Arc<Shared>,
    listener: TcpListener,
    backoff: Backoff,
    /// The peer's name, once a hello told it; the lower name dials.
    peer_name: Option<String>,
    dialling: bool,
    dial_failing: bool,
    next_dial: Option<Instant>,
    current: Option<Current>,
    shutdown: Shutdown,
}

impl Links {
    fn hello(&self) -> Hello {
        Hello {
            version: PROTOCOL_VERSION,
            role: self.shared.role(),
            node: self.shared.node.clone(),
        }
    }

    /// Whether this node should dial: no link, no dial under way, and not known to have the
    /// higher name.
    fn may_dial(&self) -> bool {
        self.current.is_none()
            && !self.dialling
            && self.next_dial.is_some()
            && self
                .peer_name
                .as_deref()
                .is_none_or(|peer| self.shared.node.as_str() < peer)
    }

    fn dial(&mut self, results: &mpsc::Sender<Handshaken>) {
        self.dialling = true;
        self.next_dial = None;
        let peer = self.shared.peer;
        let hello = self.hello();
        let timeout = self.shared.timings().connect_timeout;
        let results = results.clone();
        tokio::spawn(async move {
            let outcome = handshake::dial(peer, hello, timeout).await;
            let _ = results
                .send(Handshaken {
                    direction: Direction::Dialled,
                    from: SocketAddr::V4(peer),
                    outcome,
                })
                .await;
        });
    }

    fn accept(
        &mut self,
        mut stream: TcpStream,
        from: SocketAddr,
        results: &mpsc::Sender<Handshaken>,
    ) {
        if from.ip() != *self.shared.peer.ip() {
            self.shared.counters.strangers.incr();
            warn!(
                "refused a connection from {from}: the peer is {}",
                self.shared.peer.ip()
            );
            return;
        }
        let hello = self.hello();
        let timeout = self.shared.timings().connect_timeout;
        let results = results.clone();
        tokio::spawn(async move {
            let outcome = handshake::exchange(&mut stream, hello, timeout)
                .await
                .map(|hello| (stream, hello));
            let _ = results
                .send(Handshaken {
                    direction: Direction::Accepted,
                    from,
                    outcome,
                })
                .await;
        });
    }

    fn retry_later(&mut self) {
        if self.next_dial.is_none() {
            self.next_dial = Some(Instant::now() + self.backoff.next_delay());
        }
    }

    /// Decides what becomes of a connection whose hellos were exchanged.
    fn settle(&mut self, result: Handshaken) {
        let Handshaken {
            direction,
            from,
            outcome,
        } = result;
        if direction == Direction::Dialled {
            self.dialling = false;
        }
        let (stream, peer) = match outcome {
            Ok(connected) => connected,
            Err(e) => {
                if e.is_decode() {
                    self.shared.counters.decode_errors.incr();
                    warn!("closing the connection {direction} with {from}: {e}");
                } else {
                    self.shared.counters.handshake_failures.incr();
                    if direction == Direction::Accepted {
                        warn!("closing the connection accepted from {from}: {e}");
                    } else if !self.dial_failing {
                        info!("cannot reach the peer at {from}: {e}; trying again with backoff");
                    } else {
                        debug!("cannot reach the peer at {from}: {e}");
                    }
                    self.dial_failing |= direction == Direction::Dialled;
                }
                if direction == Direction::Dialled {
                    self.retry_later();
                }
                return;
            }
        };
        self.peer_name = Some(peer.node.clone());
        let node = &self.shared.node;
        match judge(node, &peer.node, direction) {
            Verdict::Keep => {
                if let Some(old) = self.current.take() {
                    old.task.abort();
                    info!("a new link with {} replaces the old one", old.peer);
                }
                self.dial_failing = false;
                self.backoff.reset();
                self.shared.counters.links_up.incr();
                info!(peer = %peer.node, "link up with {peer} at {from} ({direction})");
                let shared = Arc::clone(&self.shared);
                let stop = self.shutdown.clone();
                let name = peer.node.clone();
                let task =
                    tokio::spawn(async move { link::run(stream, peer, &shared, stop).await });
                self.current = Some(Current { peer: name, task });
            }
            Verdict::PeerDials => {
                self.shared.counters.links_refused.incr();
                debug!(
                    "{} has the lower name and dials; closing the link dialled to it",
                    peer.node
                );
            }
            Verdict::WeDial => {
                self.shared.counters.links_refused.incr();
                debug!(
                    "{} dialled, but {node} has the lower name and dials",
                    peer.node
                );
                if self.current.is_none() {
                    self.next_dial = Some(Instant::now());
                }
            }
            Verdict::SameName => {
                self.shared.counters.links_refused.incr();
                error!(
                    "the peer at {from} is named {node} too: give the two nodes different names"
                );
                self.next_dial = Some(Instant::now() + self.shared.timings().retry_max);
            }
        }
    }

    /// Notes the end of the link and plans the next dial.
    fn ended(&mut self, ended: Result<Result<(), LinkError>, String>) {
        let Some(current) = self.current.take() else {
            return;
        };
        self.shared.counters.links_down.incr();
        match ended {
            Ok(Ok(())) => info!("link with {} closed", current.peer),
            Ok(Err(e)) => {
                if e.is_decode() {
                    self.shared.counters.decode_errors.incr();
                }
                warn!(peer = %current.peer, "closing the link with {}: {e}", current.peer);
            }
            Err(e) => error!("the link with {} failed: {e}", current.peer),
        }
        self.next_dial = None;
        self.retry_later();
    }
}
