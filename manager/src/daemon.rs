//! The Manager daemon: the tokio loop around the feedback pass.
//!
//! A round probes every server with the advisors, takes the host metrics' states, then runs
//! one [`Feedback`] pass on the blocking pool. Rounds come every interval, and at once after
//! a reload and when an agent report brings a stale server back; an advisor's verdict is
//! acted on in the round that observed it, without waiting for another. The loop stops on
//! the shutdown signal and leaves the Executor as it is: the last weights stay.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use tokio::time::{self, Instant, Interval, MissedTickBehavior};
use tracing::{error, info, info_span, warn, Instrument, Span};

use crate::advisor::{self, AdvisorResults};
use crate::config::{show_duration, Config, ConfigError};
use crate::cycle::{connections_by_server, Feedback, Observations};
use crate::decision::Decision;
use crate::executor::Executor;
use crate::host::{receive_reports, HostBoard, IgnoredCounts};
use crate::provision::provision;
use crate::shutdown::Shutdown;

/// What started a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The interval elapsed (or the daemon started).
    Interval,
    /// The configuration was reloaded.
    Reload,
    /// An agent report brought back a metric that was stale.
    HostRecovered,
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Trigger::Interval => "interval",
            Trigger::Reload => "reload",
            Trigger::HostRecovered => "host recovered",
        })
    }
}

/// Why a reload was refused; the daemon goes on with the configuration it had.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The file is not a valid configuration.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The new `agent_listen` address cannot be bound.
    #[error("cannot listen for agent reports on {address}: {error}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        error: io::Error,
    },
}

/// The task receiving agent reports, and the address it was configured with.
struct Receiver {
    configured: SocketAddr,
    local: SocketAddr,
    task: JoinHandle<()>,
}

impl Receiver {
    async fn stop(self) {
        self.task.abort();
        // Waiting for the task makes sure its socket is closed before the address is reused.
        let _ = self.task.await;
    }
}

/// The Manager daemon's state.
pub struct Daemon {
    config_path: PathBuf,
    config: Arc<Config>,
    executor: Arc<dyn Executor>,
    feedback: Arc<Mutex<Feedback>>,
    provisioned: bool,
    verdicts: AdvisorResults,
    host: Arc<Mutex<HostBoard>>,
    host_recovered: Arc<Notify>,
    /// The ignored datagrams the last round told of.
    ignored_seen: IgnoredCounts,
    receiver: Option<Receiver>,
    shutdown: Shutdown,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An interval timer whose first tick is `first`.
fn ticker(first: Instant, period: Duration) -> Interval {
    let mut ticker = time::interval_at(first, period);
    // A late round does not cause a burst of catch-up rounds.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker
}

impl Daemon {
    /// A daemon for `config`, read from `config_path` (which reloads read again), acting on
    /// `executor`. It listens for agent reports if the configuration has host metrics.
    pub async fn start(
        config_path: PathBuf,
        config: Config,
        executor: Arc<dyn Executor>,
        shutdown: Shutdown,
    ) -> Result<Daemon, ReloadError> {
        let host = HostBoard::new(&config, std::time::Instant::now());
        let config = Arc::new(config);
        let mut daemon = Daemon {
            config_path,
            config: Arc::clone(&config),
            executor,
            feedback: Arc::new(Mutex::new(Feedback::new())),
            provisioned: false,
            verdicts: AdvisorResults::default(),
            host: Arc::new(Mutex::new(host)),
            host_recovered: Arc::new(Notify::new()),
            ignored_seen: IgnoredCounts::default(),
            receiver: None,
            shutdown,
        };
        daemon.listen(&config).await?;
        let servers = config.managed_servers().len();
        info!(
            "managing {} services with {servers} servers, deciding every {}",
            config.services.len(),
            show_duration(config.interval)
        );
        Ok(daemon)
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The address agent reports are received on, if any.
    pub fn agent_address(&self) -> Option<SocketAddr> {
        self.receiver.as_ref().map(|receiver| receiver.local)
    }

    /// Runs rounds until shutdown; each message on `reloads` asks for a reload.
    pub async fn run(mut self, mut reloads: mpsc::Receiver<()>) {
        enum Event {
            Round(Trigger),
            Reload,
            Stop,
        }
        let mut shutdown = self.shutdown.clone();
        let recovered = Arc::clone(&self.host_recovered);
        let mut interval = self.config.interval;
        let mut tick = ticker(Instant::now(), interval);
        loop {
            let event = tokio::select! {
                _ = shutdown.recv() => Event::Stop,
                _ = tick.tick() => Event::Round(Trigger::Interval),
                Some(()) = reloads.recv() => Event::Reload,
                _ = recovered.notified() => Event::Round(Trigger::HostRecovered),
            };
            let trigger = match event {
                Event::Stop => break,
                Event::Round(trigger) => trigger,
                Event::Reload => match self.reload().await {
                    Ok(()) => Trigger::Reload,
                    Err(e) => {
                        error!("reload refused, going on with the previous configuration: {e}");
                        continue;
                    }
                },
            };
            if self.config.interval != interval {
                interval = self.config.interval;
                tick = ticker(Instant::now() + interval, interval);
            }
            tokio::select! {
                _ = shutdown.recv() => break,
                _ = self.round(trigger) => {}
            }
        }
        if let Some(receiver) = self.receiver.take() {
            receiver.stop().await;
        }
        info!("stopped; the Executor keeps the weights it has");
    }

    /// Reads the configuration file again and, if it is valid, uses it from the next round
    /// on: creating what it adds, forgetting what it drops. Open connections are not touched.
    pub async fn reload(&mut self) -> Result<(), ReloadError> {
        let config = Config::load(&self.config_path)?;
        self.listen(&config).await?;
        self.log_changes(&config);
        lock(&self.host).reconfigure(&config, std::time::Instant::now());
        self.config = Arc::new(config);
        self.provisioned = false;
        info!("configuration reloaded from {}", self.config_path.display());
        Ok(())
    }

    fn log_changes(&self, new: &Config) {
        let (before, after) = (self.config.managed_servers(), new.managed_servers());
        for (service, server) in before.difference(&after) {
            info!(
                %service, %server,
                "server {server} of {service} left the configuration: the Executor keeps it \
                 as it is, no longer managed"
            );
        }
        for (service, server) in after.difference(&before) {
            info!(%service, %server, "server {server} of {service} joined the configuration");
        }
    }

    /// Starts, moves or stops the agent report receiver as `config` needs.
    async fn listen(&mut self, config: &Config) -> Result<(), ReloadError> {
        let wanted = (!config.host_metrics.is_empty()).then_some(config.agent_listen);
        if self.receiver.as_ref().map(|r| r.configured) == wanted {
            return Ok(());
        }
        let Some(address) = wanted else {
            if let Some(old) = self.receiver.take() {
                old.stop().await;
            }
            return Ok(());
        };
        let socket = match UdpSocket::bind(address).await {
            Ok(socket) => socket,
            // The old receiver may hold the port (0.0.0.0 to one address, say): free it first,
            // and take it back if the new address still cannot be bound.
            Err(first) if first.kind() == io::ErrorKind::AddrInUse && self.receiver.is_some() => {
                let old = self.receiver.take().expect("checked above");
                let old_address = old.configured;
                old.stop().await;
                match UdpSocket::bind(address).await {
                    Ok(socket) => socket,
                    Err(error) => {
                        if let Ok(socket) = UdpSocket::bind(old_address).await {
                            self.spawn_receiver(old_address, socket);
                        }
                        return Err(ReloadError::Listen { address, error });
                    }
                }
            }
            Err(error) => return Err(ReloadError::Listen { address, error }),
        };
        if let Some(old) = self.receiver.take() {
            old.stop().await;
        }
        self.spawn_receiver(address, socket);
        Ok(())
    }

    fn spawn_receiver(&mut self, configured: SocketAddr, socket: UdpSocket) {
        let local = socket.local_addr().unwrap_or(configured);
        info!(%local, "listening for agent reports on {local}");
        let task = tokio::spawn(receive_reports(
            socket,
            Arc::clone(&self.host),
            Arc::clone(&self.host_recovered),
            self.shutdown.clone(),
        ));
        self.receiver = Some(Receiver {
            configured,
            local,
            task,
        });
    }

    /// One round: probe, observe, decide, commit. Returns the decisions taken (none if the
    /// Executor could not be read).
    pub async fn round(&mut self, trigger: Trigger) -> Vec<Decision> {
        let span = info_span!("round", %trigger);
        self.decide(span.clone()).instrument(span).await
    }

    /// Warns, once a round, of agent datagrams ignored since the last round: each one alone
    /// is only a debug line, and a stream of them would flood the log.
    fn tell_ignored(&mut self, now: IgnoredCounts) {
        let bad_report = now.bad_report.saturating_sub(self.ignored_seen.bad_report);
        let unknown_source = now
            .unknown_source
            .saturating_sub(self.ignored_seen.unknown_source);
        if bad_report + unknown_source > 0 {
            warn!(
                bad_report,
                unknown_source,
                "ignored {} agent datagrams since the last round: {bad_report} not valid \
                 reports, {unknown_source} from addresses that are not configured servers",
                bad_report + unknown_source
            );
        }
        self.ignored_seen = now;
    }

    async fn decide(&mut self, span: Span) -> Vec<Decision> {
        let config = Arc::clone(&self.config);
        // The connections each server holds as the probes go out: what shares its speed
        // with them.
        let executor = Arc::clone(&self.executor);
        let probe_connections = tokio::task::spawn_blocking(move || executor.servers())
            .await
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
            .ok()
            .map(|readings| connections_by_server(&readings));
        let advisors = advisor::probe_all(&config).await;
        for (probe, verdict) in advisors.changes_since(&self.verdicts) {
            if verdict.is_down() {
                warn!(%probe, "{probe}: server {verdict}");
            } else {
                info!(%probe, "{probe}: server up again");
            }
        }
        self.verdicts = advisors.clone();
        let (host, ignored) = {
            let board = lock(&self.host);
            (board.snapshot(std::time::Instant::now()), board.ignored())
        };
        self.tell_ignored(ignored);
        let observations = Observations {
            advisors,
            host,
            probe_connections,
        };
        let executor = Arc::clone(&self.executor);
        let feedback = Arc::clone(&self.feedback);
        let needs_provisioning = !self.provisioned;
        let (provisioned, decisions) = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let provisioned = needs_provisioning.then(|| provision(executor.as_ref(), &config));
            let decisions = lock(&feedback).run(&config, executor.as_ref(), &observations);
            (provisioned, decisions)
        })
        .await
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()));
        let provisioning_error = match provisioned {
            Some(Ok(())) => {
                self.provisioned = true;
                None
            }
            Some(Err(e)) => {
                error!("cannot bring the Executor up to the configuration: {e}");
                Some(e)
            }
            None => None,
        };
        decisions.unwrap_or_else(|e| {
            // An unreachable Executor fails both the same way; once is enough to say so.
            if provisioning_error.as_ref() != Some(&e) {
                error!("cannot read the Executor: {e}");
            }
            warn!(
                "no decision this round; trying again in {}",
                show_duration(self.config.interval)
            );
            Vec::new()
        })
    }
}
