//! A simulated server: a processor-sharing queue, its connection counts as the Executor
//! keeps them, and the scheduler's view of it.
//!
//! A request is an established connection from its dispatch to its completion. After that
//! the client's FIN leaves the Executor's entry in the FIN state for the Executor's FIN
//! timeout (`nd_core::tcp_state::Timeouts::DEFAULT.fin`, two minutes as in IPVS), and for that
//! long it counts as one of the server's inactive connections, which weighted
//! least-connection weighs at 1/256 of an active one.

use std::collections::VecDeque;

use nd_core::sched::SchedServer;
use nd_core::sched_wrr::{WrrCredit, WrrServer};

use crate::ps_queue::PsQueue;
use crate::scenario::Change;
use crate::workload::WORK_PER_SECOND;

/// What a server is working on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Job {
    /// A client's request, dispatched by the Executor.
    Request {
        /// When it arrived.
        arrival: f64,
        /// Whether it arrived in the measured window.
        measured: bool,
    },
    /// An advisor's probe, sent to the server's own address.
    Probe {
        /// The round it belongs to.
        round: u64,
        /// When it was sent.
        sent: f64,
    },
}

/// One server of the cluster.
#[derive(Debug)]
pub struct SimServer {
    queue: PsQueue<Job>,
    capacity: f64,
    speed_factor: f64,
    external_share: f64,
    failing: bool,
    weight: u32,
    credit: WrrCredit,
    active: u32,
    /// When each recently closed connection leaves the FIN state, oldest first.
    closing: VecDeque<f64>,
    fin_timeout: f64,
    conns: u64,
    generation: u64,
}

impl SimServer {
    /// A server of `capacity` with `weight`, whose closed connections stay inactive for
    /// `fin_timeout` seconds.
    pub fn new(capacity: f64, weight: u32, fin_timeout: f64) -> SimServer {
        SimServer {
            queue: PsQueue::new(capacity * WORK_PER_SECOND),
            capacity,
            speed_factor: 1.0,
            external_share: 0.0,
            failing: false,
            weight,
            credit: WrrCredit::default(),
            active: 0,
            closing: VecDeque::new(),
            fin_timeout,
            conns: 0,
            generation: 0,
        }
    }

    /// The work per second left for its requests.
    fn speed(&self) -> f64 {
        self.capacity * WORK_PER_SECOND * self.speed_factor * (1.0 - self.external_share)
    }

    /// Starts (`on`) or ends `change` at `now`.
    pub fn apply(&mut self, now: f64, change: Change, on: bool) {
        match change {
            Change::Speed(factor) => self.speed_factor = if on { factor } else { 1.0 },
            Change::ExternalLoad(share) => self.external_share = if on { share } else { 0.0 },
            Change::FastFail => self.failing = on,
        }
        self.queue.set_speed(now, self.speed());
        self.generation += 1;
    }

    /// Whether it answers every request at once with an error.
    pub fn is_failing(&self) -> bool {
        self.failing
    }

    /// Runnable tasks the balancer does not see: one while external work runs.
    pub fn external_tasks(&self) -> f64 {
        if self.external_share > 0.0 {
            1.0
        } else {
            0.0
        }
    }

    /// The Executor's weight for it.
    pub fn weight(&self) -> u32 {
        self.weight
    }

    /// Sets the Executor's weight for it.
    pub fn set_weight(&mut self, weight: u32) {
        self.weight = weight;
    }

    /// New connections the Executor gave it.
    pub fn conns(&self) -> u64 {
        self.conns
    }

    /// Its established connections.
    pub fn active(&self) -> u32 {
        self.active
    }

    /// Forgets the closed connections whose FIN timeout ran out by `now`.
    pub fn expire_closed(&mut self, now: f64) {
        while self.closing.front().is_some_and(|&until| until <= now) {
            self.closing.pop_front();
        }
    }

    /// Takes a new connection from the Executor at `now`, with `work` to do.
    pub fn accept_request(&mut self, now: f64, work: f64, measured: bool) {
        self.conns += 1;
        self.active += 1;
        self.admit(
            now,
            work,
            Job::Request {
                arrival: now,
                measured,
            },
        );
    }

    /// Takes a new connection from the Executor at `now` and fails it at once.
    pub fn refuse_request(&mut self, now: f64) {
        self.conns += 1;
        self.closing.push_back(now + self.fin_timeout);
    }

    /// Takes the advisor's probe of `round` at `now`.
    pub fn accept_probe(&mut self, now: f64, work: f64, round: u64) {
        self.admit(now, work, Job::Probe { round, sent: now });
    }

    fn admit(&mut self, now: f64, work: f64, job: Job) {
        self.queue.push(now, work, job);
        self.generation += 1;
    }

    /// Finishes the job due at `now`.
    pub fn complete_next(&mut self, now: f64) -> Job {
        let job = self
            .queue
            .pop_next(now)
            .expect("a completion is due only on a busy server");
        self.generation += 1;
        if let Job::Request { .. } = job {
            self.active -= 1;
            self.closing.push_back(now + self.fin_timeout);
        }
        job
    }

    /// When its next job finishes if nothing changes, and the state that holds for.
    pub fn next_completion(&self) -> Option<(f64, u64)> {
        self.queue
            .next_completion()
            .map(|time| (time, self.generation))
    }

    /// Whether `generation` is still its state's.
    pub fn is_current(&self, generation: u64) -> bool {
        self.generation == generation
    }

    /// Brings its counters up to `now`.
    pub fn advance(&mut self, now: f64) {
        self.queue.advance(now);
    }

    /// Jobs in progress, probes included.
    pub fn jobs(&self) -> usize {
        self.queue.len()
    }

    /// Seconds it has been busy.
    pub fn busy_time(&self) -> f64 {
        self.queue.busy_time()
    }

    /// Work it has done.
    pub fn work_done(&self) -> f64 {
        self.queue.work_done()
    }

    /// The integral of its jobs in progress over time.
    pub fn job_seconds(&self) -> f64 {
        self.queue.job_seconds()
    }
}

impl WrrServer for SimServer {
    fn weight(&self) -> u32 {
        self.weight
    }
    fn credit(&mut self) -> &mut WrrCredit {
        &mut self.credit
    }
}

impl SchedServer for SimServer {
    fn active(&self) -> u32 {
        self.active
    }
    fn inactive(&self) -> u32 {
        u32::try_from(self.closing.len()).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_active_until_done_then_inactive_for_the_fin_timeout() {
        let mut server = SimServer::new(1.0, 1, 120.0);
        server.accept_request(0.0, 1000.0, true);
        assert_eq!((server.active(), SchedServer::inactive(&server)), (1, 0));
        let (at, generation) = server.next_completion().unwrap();
        assert!((at - 1.0).abs() < 1e-9 && server.is_current(generation));
        server.complete_next(at);
        assert!(!server.is_current(generation));
        assert_eq!((server.active(), SchedServer::inactive(&server)), (0, 1));
        server.expire_closed(120.5);
        assert_eq!(SchedServer::inactive(&server), 1);
        server.expire_closed(121.0);
        assert_eq!(SchedServer::inactive(&server), 0);
        assert_eq!(server.conns(), 1);
    }

    #[test]
    fn probes_share_the_server_but_are_not_connections() {
        let mut server = SimServer::new(1.0, 1, 120.0);
        server.accept_probe(0.0, 1.0, 7);
        assert_eq!((server.active(), server.conns(), server.jobs()), (0, 0, 1));
        let job = server.complete_next(0.001);
        assert_eq!(
            job,
            Job::Probe {
                round: 7,
                sent: 0.0
            }
        );
        assert_eq!(SchedServer::inactive(&server), 0);
    }

    #[test]
    fn external_load_and_speed_changes_slow_the_work_down() {
        let mut server = SimServer::new(2.0, 1, 120.0);
        server.apply(0.0, Change::ExternalLoad(0.5), true);
        assert_eq!(server.external_tasks(), 1.0);
        server.accept_request(0.0, 1000.0, false);
        assert!((server.next_completion().unwrap().0 - 1.0).abs() < 1e-9);
        server.apply(0.5, Change::ExternalLoad(0.5), false);
        server.apply(0.5, Change::Speed(0.25), true);
        // 500 left at 2000 * 0.25 = 500 per second.
        assert!((server.next_completion().unwrap().0 - 1.5).abs() < 1e-9);
    }
}
