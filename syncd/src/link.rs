//! One link to the peer after the hellos: a reader and a writer over the two halves of the
//! connection, until either fails, the peer falls silent, or the daemon stops.
//!
//! The active node's writer sends a full copy of its table when the link comes up (and
//! whenever state was lost on the way), then the records its Executor publishes, its weights
//! when they change, and keepalives. The standby's reader installs each `Records` frame and
//! acknowledges it; the acknowledgements measure the lag. Both directions are alike in code:
//! which node is active decides who sends records, so a change of roles turns the stream.

use std::io;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use nd_manager::config::show_duration;
use nd_netlink_proto::family::MAX_SYNC_BATCH;
use ndadm::model::{HaRole, SyncRecord};
use tokio::io::BufReader;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch, Notify};
use tokio::time::sleep_until;
use tracing::{info, warn};

use crate::codec::{read_frame, write_frame, ReadError};
use crate::executor::ExecutorError;
use crate::frame::{Frame, Hello};
use crate::lag::{AckBeyondSent, Lag};
use crate::shared::Shared;
use crate::weights::{self, WeightsSent};

/// Every this many weight intervals all weights are sent, changed or not, so that a standby
/// whose weights were changed by hand comes back to the active's.
const WEIGHTS_REFRESH: u32 = 10;

/// Why a link ended.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Reading failed, or the peer sent what is not a frame.
    #[error("{0}")]
    Read(#[from] ReadError),
    /// Writing failed.
    #[error("writing to the peer: {0}")]
    Write(io::Error),
    /// Nothing came from the peer for too long.
    #[error("nothing from the peer for {}", show_duration(*.0))]
    Silent(Duration),
    /// The peer acknowledged nothing for too long.
    #[error("the peer has not acknowledged records sent {} ago", show_duration(*.0))]
    AckTimeout(Duration),
    /// The peer acknowledged a frame never sent.
    #[error("{0}")]
    Ack(#[from] AckBeyondSent),
    /// A frame that has no place after the hello.
    #[error("a {0} frame after the hello")]
    Unexpected(&'static str),
    /// Records out of order: a frame lost or repeated.
    #[error("records frame {got} where {expected} was due")]
    Sequence {
        /// The number expected.
        expected: u64,
        /// The number received.
        got: u64,
    },
    /// The Executor cannot take the peer's records.
    #[error("cannot install the peer's records: {0}")]
    Install(ExecutorError),
}

impl LinkError {
    /// Whether the peer broke the protocol (as opposed to the network or an Executor
    /// failing).
    pub fn is_decode(&self) -> bool {
        matches!(
            self,
            LinkError::Read(ReadError::Frame(_))
                | LinkError::Ack(_)
                | LinkError::Unexpected(_)
                | LinkError::Sequence { .. }
        )
    }
}

/// The newest frame to acknowledge: acknowledgements are cumulative, so only the last one
/// matters, and the reader never waits for the writer to take it.
#[derive(Debug, Default)]
struct AckSlot {
    seq: Mutex<Option<u64>>,
    ready: Notify,
}

impl AckSlot {
    fn put(&self, seq: u64) {
        let mut slot = self.seq.lock().unwrap_or_else(PoisonError::into_inner);
        *slot = Some(slot.map_or(seq, |old| old.max(seq)));
        self.ready.notify_one();
    }

    fn take(&self) -> Option<u64> {
        self.seq
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// Runs the link over `stream` to `peer` until it ends; `Ok` when the daemon stops.
pub async fn run(
    stream: TcpStream,
    peer: Hello,
    shared: &Shared,
    mut stop: nd_manager::shutdown::Shutdown,
) -> Result<(), LinkError> {
    // Records are small and come in bursts; waiting to fill segments only adds lag.
    let _ = stream.set_nodelay(true);
    let (input, output) = stream.into_split();
    *shared.link() = crate::shared::LinkState {
        peer: Some(peer.node.clone()),
        lag: Lag::default(),
    };
    let acks = AckSlot::default();
    let result = tokio::select! {
        read = read_loop(BufReader::new(input), shared, &peer, &acks) => read,
        written = write_loop(output, shared, &peer, &acks) => written,
        _ = stop.recv() => Ok(()),
    };
    *shared.link() = crate::shared::LinkState::default();
    result
}

/// Takes the peer's frames: installs records, follows weights, notes acknowledgements.
async fn read_loop(
    mut input: BufReader<OwnedReadHalf>,
    shared: &Shared,
    peer: &Hello,
    acks: &AckSlot,
) -> Result<(), LinkError> {
    let mut expected = 1;
    let mut warned_both_active = false;
    let mut resync_started = None;
    let mut peer_role = peer.role;
    loop {
        let dead_after = shared.timings().dead_after;
        let frame = match tokio::time::timeout(dead_after, read_frame(&mut input)).await {
            Ok(frame) => frame?,
            Err(_) => return Err(LinkError::Silent(dead_after)),
        };
        let active_here = shared.role() == Some(HaRole::Active);
        match frame {
            Frame::Records { seq, records } => {
                if seq != expected {
                    return Err(LinkError::Sequence { expected, got: seq });
                }
                expected += 1;
                let count = records.len() as u64;
                shared.counters.records_received.add(count);
                if active_here {
                    // Both nodes think they are active; this one's table is its own.
                    shared.counters.records_ignored.add(count);
                    if !warned_both_active {
                        warn!(
                            "{} sends records, but this node is active too: not installing them",
                            peer.node
                        );
                        warned_both_active = true;
                    }
                } else if !records.is_empty() {
                    install(shared, peer, records).await?;
                }
                acks.put(seq);
            }
            Frame::Ack { seq } => {
                shared.link().lag.acked(seq)?;
                shared.acked.notify_one();
            }
            Frame::Weights { service, entries } => {
                if !active_here {
                    weights::follow(shared, service, entries).await;
                }
            }
            Frame::ResyncStart => {
                info!("a full resync from {} begins", peer.node);
                resync_started = Some(Instant::now());
            }
            Frame::ResyncEnd { records } => {
                shared.counters.resyncs_received.incr();
                let took = resync_started
                    .take()
                    .map_or(Duration::ZERO, |at| at.elapsed());
                info!(
                    "a full resync from {}: {records} records in {}",
                    peer.node,
                    show_duration(Duration::from_millis(took.as_millis() as u64))
                );
            }
            Frame::Keepalive { role } => {
                // A peer that was active (or could not read its role) ignored what it was
                // sent: now that it holds this node's table, it needs all of it.
                if role == Some(HaRole::Standby) && peer_role != role && active_here {
                    shared
                        .resync
                        .request(&format!("{} became standby", peer.node));
                }
                peer_role = role;
                if role == Some(HaRole::Active) && active_here && !warned_both_active {
                    warn!("{} is active, and so is this node", peer.node);
                    warned_both_active = true;
                }
                if role != Some(HaRole::Active) || !active_here {
                    warned_both_active = false;
                }
            }
            Frame::Hello(_) => return Err(LinkError::Unexpected("hello")),
        }
    }
}

/// Installs a batch of the peer's records. An Executor that refuses them is told of and the
/// link goes on; one that cannot be reached ends the link, so that a resync follows once it
/// can be again.
async fn install(shared: &Shared, peer: &Hello, records: Vec<SyncRecord>) -> Result<(), LinkError> {
    let count = records.len() as u64;
    match shared
        .executor(move |executor| executor.install(&records))
        .await
    {
        Ok(()) => {
            shared.counters.records_installed.add(count);
            Ok(())
        }
        Err(ExecutorError::Refused(e)) => {
            shared.counters.install_errors.incr();
            warn!(
                "the Executor refused {count} records from {}: {e}",
                peer.node
            );
            Ok(())
        }
        Err(e @ ExecutorError::Unavailable(_)) => Err(LinkError::Install(e)),
    }
}

/// Why a resync did not happen.
enum ResyncError {
    /// The table could not be read; try again later.
    Executor(ExecutorError),
    /// The link failed.
    Link(LinkError),
}

impl From<LinkError> for ResyncError {
    fn from(error: LinkError) -> Self {
        ResyncError::Link(error)
    }
}

/// The sending side of a link.
struct Writer<'a> {
    output: OwnedWriteHalf,
    shared: &'a Shared,
    peer: &'a Hello,
    acks: &'a AckSlot,
    weights: WeightsSent,
}

/// Sends what this node has to say until the link fails.
async fn write_loop(
    output: OwnedWriteHalf,
    shared: &Shared,
    peer: &Hello,
    acks: &AckSlot,
) -> Result<(), LinkError> {
    let mut published = shared.published.lock().await;
    let mut role: watch::Receiver<Option<HaRole>> = shared.role.clone();
    let mut writer = Writer {
        output,
        shared,
        peer,
        acks,
        weights: WeightsSent::default(),
    };
    // A peer that comes up knows nothing of this node's table. A node that becomes active
    // later resyncs when its publisher asks, once it receives the changes: a copy taken
    // before that could miss some.
    let mut resync_due = writer.is_active();
    let mut resync_retry: Option<Instant> = None;
    let mut next_keepalive = Instant::now();
    let mut next_weights = Instant::now();
    let mut weight_rounds = 0u32;
    loop {
        let timings = shared.timings();
        let active = writer.is_active();
        let retry_now = resync_retry.is_none_or(|at| Instant::now() >= at);
        if active && resync_due && retry_now {
            match writer.resync(&mut published).await {
                Ok(()) => {
                    resync_due = false;
                    resync_retry = None;
                }
                Err(ResyncError::Executor(e)) => {
                    warn!(
                        "cannot read the table to resync {}: {e}; trying again in {}",
                        peer.node,
                        show_duration(timings.keepalive)
                    );
                    resync_retry = Some(Instant::now() + timings.keepalive);
                }
                Err(ResyncError::Link(e)) => return Err(e),
            }
            continue;
        }
        let room = writer.has_room();
        tokio::select! {
            biased;
            _ = acks.ready.notified() => writer.send_ack().await?,
            changed = role.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                // The peer learns of the change at once, not at the next keepalive.
                writer.send_keepalive().await?;
                if writer.is_active() && !active {
                    // The weights go again in full.
                    writer.weights.forget();
                    next_weights = Instant::now();
                }
                if !writer.is_active() {
                    resync_due = false;
                }
            }
            _ = shared.resync.wait(), if active => resync_due = true,
            _ = sleep_until(next_keepalive.into()) => {
                writer.check_acks()?;
                writer.send_keepalive().await?;
                next_keepalive = Instant::now() + timings.keepalive;
            }
            _ = sleep_until(next_weights.into()), if active => {
                weight_rounds += 1;
                if weight_rounds.is_multiple_of(WEIGHTS_REFRESH) {
                    writer.weights.forget();
                }
                writer.send_weights().await?;
                next_weights = Instant::now() + timings.weights_interval;
            }
            batch = published.recv(), if active && room && !resync_due => {
                let Some(batch) = batch else {
                    return Ok(());
                };
                writer.send_published(batch, &mut published).await?;
            }
            _ = shared.acked.notified(), if active && !room => {}
        }
    }
}

impl Writer<'_> {
    fn is_active(&self) -> bool {
        self.shared.role() == Some(HaRole::Active)
    }

    fn has_room(&self) -> bool {
        self.shared.link().lag.frames() < self.shared.timings().window
    }

    async fn send(&mut self, frame: &Frame) -> Result<(), LinkError> {
        write_frame(&mut self.output, frame)
            .await
            .map_err(LinkError::Write)
    }

    async fn send_ack(&mut self) -> Result<(), LinkError> {
        match self.acks.take() {
            Some(seq) => self.send(&Frame::Ack { seq }).await,
            None => Ok(()),
        }
    }

    async fn send_keepalive(&mut self) -> Result<(), LinkError> {
        let role = self.shared.role();
        self.send(&Frame::Keepalive { role }).await
    }

    /// Fails the link if the oldest unacknowledged frame waited past `ack_timeout`.
    fn check_acks(&self) -> Result<(), LinkError> {
        let waited = self.shared.link().lag.age(Instant::now());
        if waited > self.shared.timings().ack_timeout {
            return Err(LinkError::AckTimeout(waited));
        }
        Ok(())
    }

    /// Sends one `Records` frame. It is entered as in flight before it is written, since the
    /// peer may acknowledge it before the write returns.
    async fn send_records(&mut self, records: &[SyncRecord]) -> Result<(), LinkError> {
        let seq = {
            let mut link = self.shared.link();
            let seq = link.lag.next_seq();
            link.lag.sent(seq, records.len(), Instant::now());
            seq
        };
        self.shared.counters.records_sent.add(records.len() as u64);
        self.send(&Frame::Records {
            seq,
            records: records.to_vec(),
        })
        .await
    }

    /// Sends `batch` and whatever else is queued, in frames as full as a batch may be.
    async fn send_published(
        &mut self,
        batch: Vec<SyncRecord>,
        published: &mut mpsc::Receiver<Vec<SyncRecord>>,
    ) -> Result<(), LinkError> {
        let mut records = batch;
        while records.len() < MAX_SYNC_BATCH {
            match published.try_recv() {
                Ok(more) => records.extend(more),
                Err(_) => break,
            }
        }
        for frame in records.chunks(MAX_SYNC_BATCH) {
            self.send_records(frame).await?;
        }
        Ok(())
    }

    /// Sends the weights of each port whose weights changed since they were last sent.
    async fn send_weights(&mut self) -> Result<(), LinkError> {
        let ports = match self.shared.executor(|executor| executor.weights()).await {
            Ok(ports) => ports,
            Err(e) => {
                warn!("cannot read the weights to send to {}: {e}", self.peer.node);
                return Ok(());
            }
        };
        for port in self.weights.changed(ports) {
            self.send(&Frame::Weights {
                service: port.service,
                entries: port.entries,
            })
            .await?;
            self.shared.counters.weights_sent.incr();
        }
        Ok(())
    }

    /// Waits until acknowledgements leave room for another frame, answering the peer's own
    /// records meanwhile and keeping the link alive.
    async fn wait_for_room(&mut self) -> Result<(), LinkError> {
        while !self.has_room() {
            self.check_acks()?;
            let keepalive = self.shared.timings().keepalive;
            tokio::select! {
                biased;
                _ = self.acks.ready.notified() => self.send_ack().await?,
                _ = self.shared.acked.notified() => {}
                _ = tokio::time::sleep(keepalive) => self.send_keepalive().await?,
            }
        }
        Ok(())
    }

    /// Sends a full copy of the table: what was queued before is dropped, since the copy is
    /// newer; what is published while it is read stays queued and follows it.
    async fn resync(
        &mut self,
        published: &mut mpsc::Receiver<Vec<SyncRecord>>,
    ) -> Result<(), ResyncError> {
        while published.try_recv().is_ok() {}
        self.shared.resync.clear();
        let started = Instant::now();
        let table = self
            .shared
            .executor(|executor| executor.table())
            .await
            .map_err(ResyncError::Executor)?;
        self.send(&Frame::ResyncStart).await?;
        for frame in table.chunks(MAX_SYNC_BATCH) {
            self.wait_for_room().await?;
            self.send_records(frame).await?;
        }
        self.send(&Frame::ResyncEnd {
            records: table.len() as u64,
        })
        .await?;
        self.shared.counters.resyncs_sent.incr();
        info!(
            "a full resync to {}: {} records sent in {} ms",
            self.peer.node,
            table.len(),
            started.elapsed().as_millis()
        );
        Ok(())
    }
}
