//! One run: a scenario under one policy, event by event.
//!
//! Events are arrivals, completions, the Manager's rounds (probes out, then a decision when
//! the last answer is in or the advisor's timeout runs out, as the Manager's daemon does),
//! the agents' reports, disturbances, and the edges of the measured window. Arrivals stop at
//! the end of the window and the run goes on until every request is done, so that the slow
//! tail of the measured requests is counted too.

use nd_core::sched::{Scheduler, SchedulerKind};
use nd_core::sched_wrr;
use nd_core::tcp_state::Timeouts;

use crate::arrivals::Arrivals;
use crate::events::Calendar;
use crate::manager_link::{ManagerLink, ProbeOutcome, ServerView};
use crate::outcome::{Conservation, RunOutcome, WeightSample};
use crate::policy::{LoadSharing, WeightSource};
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::server::{Job, SimServer};

/// The advisor's probe unless a policy says otherwise: a small object, as a class A request
/// (a request here costs nothing but its work, so even this one times the server alone).
pub const PROBE_WORK: f64 = 1.0;

/// Seconds between two agent reports.
pub const AGENT_PERIOD: f64 = 1.0;

/// The status a failing server answers with.
const ERROR_STATUS: u16 = 500;

#[derive(Clone, Copy, Debug)]
enum Event {
    Arrival,
    Completion { server: usize, generation: u64 },
    ProbeRound,
    ProbeDeadline { round: u64 },
    AgentReport,
    Disturbance { index: usize, starts: bool },
    MeasureStart,
    MeasureEnd,
}

/// The Manager's round in progress.
struct Round {
    id: u64,
    /// Each server's established connections as the probes went out.
    at_probe: Vec<u32>,
    outcomes: Vec<Option<ProbeOutcome>>,
    pending: usize,
}

/// The Manager, its round and what its agents last reported.
struct ManagerState {
    link: ManagerLink,
    /// The work of the HTTP advisor's probe.
    probe_work: f64,
    round: Option<Round>,
    rounds: u64,
    job_seconds: Vec<f64>,
    loads: Vec<f64>,
}

struct Simulation<'a> {
    scenario: &'a Scenario,
    policy: LoadSharing,
    scheduler: SchedulerKind,
    calendar: Calendar<Event>,
    servers: Vec<SimServer>,
    arrivals: Arrivals,
    sizes: Rng,
    phase: Rng,
    manager: Option<ManagerState>,
    weights: Vec<WeightSample>,
    response_times: Vec<f64>,
    measured_requests: u64,
    errors: u64,
    measured_dispatch: Vec<u64>,
    busy_at_start: Vec<f64>,
    utilization: Vec<f64>,
    conservation: Conservation,
    events: u64,
}

/// Runs `scenario` under `policy` with random streams seeded by `seed`.
pub fn run(scenario: &Scenario, policy: LoadSharing, seed: u64) -> RunOutcome {
    let mut simulation = Simulation::new(scenario, policy, seed);
    simulation.run();
    simulation.finish()
}

impl<'a> Simulation<'a> {
    fn new(scenario: &'a Scenario, policy: LoadSharing, seed: u64) -> Simulation<'a> {
        let weights = match policy.weights {
            WeightSource::Equal => vec![1; scenario.capacities.len()],
            WeightSource::Static | WeightSource::Manager(_) => scenario.static_weights(),
        };
        let fin_timeout = f64::from(Timeouts::DEFAULT.fin);
        let servers = scenario
            .capacities
            .iter()
            .zip(&weights)
            .map(|(&capacity, &weight)| SimServer::new(capacity, weight, fin_timeout))
            .collect();
        let manager = match policy.weights {
            WeightSource::Manager(setup) => Some(ManagerState {
                link: ManagerLink::new(
                    &scenario.declared_capacities(),
                    policy.scheduler,
                    setup,
                    &weights,
                ),
                probe_work: setup.probe_units.map_or(PROBE_WORK, f64::from),
                round: None,
                rounds: 0,
                job_seconds: vec![0.0; weights.len()],
                loads: vec![0.0; weights.len()],
            }),
            _ => None,
        };
        // The Manager gives the port its configured scheduler; the Executor runs that one.
        let scheduler = manager
            .as_ref()
            .map_or(policy.scheduler, |m| m.link.scheduler());
        let n = scenario.capacities.len();
        Simulation {
            scenario,
            policy,
            scheduler,
            calendar: Calendar::new(),
            servers,
            arrivals: Arrivals::new(
                scenario.arrivals,
                scenario.arrival_rate(),
                Rng::new(seed, "arrivals"),
            ),
            sizes: Rng::new(seed, "sizes"),
            phase: Rng::new(seed, "manager phase"),
            manager,
            weights: Vec::new(),
            response_times: Vec::new(),
            measured_requests: 0,
            errors: 0,
            measured_dispatch: vec![0; n],
            busy_at_start: vec![0.0; n],
            utilization: vec![0.0; n],
            conservation: Conservation::default(),
            events: 0,
        }
    }

    fn run(&mut self) {
        let first = self.arrivals.next_arrival();
        self.calendar.schedule(first, Event::Arrival);
        self.calendar
            .schedule(self.scenario.warm_up, Event::MeasureStart);
        self.calendar
            .schedule(self.scenario.end(), Event::MeasureEnd);
        for (index, disturbance) in self.scenario.disturbances.iter().enumerate() {
            let from = self.scenario.at(disturbance.from);
            self.calendar.schedule(
                from,
                Event::Disturbance {
                    index,
                    starts: true,
                },
            );
            if let Some(until) = disturbance.until {
                self.calendar.schedule(
                    self.scenario.at(until),
                    Event::Disturbance {
                        index,
                        starts: false,
                    },
                );
            }
        }
        if let Some(manager) = &self.manager {
            // The Manager starts at some point of an interval, not in step with anything the
            // scenario does: where in its interval a change falls is drawn from the seed.
            let first_round = self.phase.uniform(0.0, manager.link.interval());
            self.calendar.schedule(first_round, Event::ProbeRound);
            self.calendar.schedule(AGENT_PERIOD, Event::AgentReport);
        }
        while let Some((now, event)) = self.calendar.pop() {
            self.events += 1;
            self.handle(now, event);
        }
    }

    fn handle(&mut self, now: f64, event: Event) {
        match event {
            Event::Arrival => self.arrive(now),
            Event::Completion { server, generation } => {
                if self.servers[server].is_current(generation) {
                    self.complete(now, server);
                }
            }
            Event::ProbeRound => self.start_round(now),
            Event::ProbeDeadline { round } => self.probe_deadline(now, round),
            Event::AgentReport => self.agent_report(now),
            Event::Disturbance { index, starts } => {
                let disturbance = self.scenario.disturbances[index];
                self.servers[disturbance.server].apply(now, disturbance.change, starts);
                self.schedule_completion(disturbance.server);
            }
            Event::MeasureStart => {
                for (server, busy) in self.servers.iter_mut().zip(&mut self.busy_at_start) {
                    server.advance(now);
                    *busy = server.busy_time();
                }
            }
            Event::MeasureEnd => {
                for (index, server) in self.servers.iter_mut().enumerate() {
                    server.advance(now);
                    self.utilization[index] =
                        (server.busy_time() - self.busy_at_start[index]) / self.scenario.measured;
                }
            }
        }
    }

    fn schedule_completion(&mut self, server: usize) {
        if let Some((time, generation)) = self.servers[server].next_completion() {
            self.calendar
                .schedule(time, Event::Completion { server, generation });
        }
    }

    fn arrive(&mut self, now: f64) {
        self.conservation.arrivals += 1;
        let measured = now >= self.scenario.warm_up;
        if measured {
            self.measured_requests += 1;
        }
        let work = self.scenario.sizes.sample(&mut self.sizes);
        for server in &mut self.servers {
            server.expire_closed(now);
        }
        match self.scheduler.pick(&mut self.servers) {
            None => {
                // Every weight is 0: the Executor drops the SYN.
                self.conservation.finished += 1;
                if measured {
                    self.errors += 1;
                }
            }
            Some(index) => {
                if measured {
                    self.measured_dispatch[index] += 1;
                }
                let server = &mut self.servers[index];
                if server.is_failing() {
                    server.refuse_request(now);
                    self.conservation.finished += 1;
                    if measured {
                        self.errors += 1;
                    }
                } else {
                    server.accept_request(now, work, measured);
                    self.conservation.work_submitted += work;
                    self.schedule_completion(index);
                }
            }
        }
        let next = self.arrivals.next_arrival();
        if next < self.scenario.end() {
            self.calendar.schedule(next, Event::Arrival);
        }
    }

    fn complete(&mut self, now: f64, index: usize) {
        match self.servers[index].complete_next(now) {
            Job::Request { arrival, measured } => {
                self.conservation.finished += 1;
                if measured {
                    self.response_times.push(now - arrival);
                }
            }
            Job::Probe { round, sent } => self.probe_answered(now, index, round, now - sent),
        }
        self.schedule_completion(index);
    }

    fn start_round(&mut self, now: f64) {
        if now >= self.scenario.end() {
            return;
        }
        // A round's probes time out by the next round (the timeout is at most the interval),
        // and when both fall at the same instant the daemon decides on the old round first.
        if self.manager.as_ref().is_some_and(|m| m.round.is_some()) {
            self.decide(now);
        }
        let manager = self.manager.as_mut().expect("rounds only with a Manager");
        manager.rounds += 1;
        let id = manager.rounds;
        let mut round = Round {
            id,
            at_probe: self.servers.iter().map(SimServer::active).collect(),
            outcomes: vec![None; self.servers.len()],
            pending: 0,
        };
        let mut probed = Vec::new();
        let probe_work = manager.probe_work;
        for (index, server) in self.servers.iter_mut().enumerate() {
            if server.is_failing() {
                round.outcomes[index] = Some(ProbeOutcome::Error(ERROR_STATUS));
            } else {
                server.accept_probe(now, probe_work, id);
                self.conservation.work_submitted += probe_work;
                round.pending += 1;
                probed.push(index);
            }
        }
        let interval = manager.link.interval();
        let timeout = manager.link.probe_timeout();
        let everything_in = round.pending == 0;
        manager.round = Some(round);
        for index in probed {
            self.schedule_completion(index);
        }
        self.calendar.schedule(now + interval, Event::ProbeRound);
        if everything_in {
            self.decide(now);
        } else {
            self.calendar
                .schedule(now + timeout, Event::ProbeDeadline { round: id });
        }
    }

    fn probe_answered(&mut self, now: f64, server: usize, round: u64, seconds: f64) {
        let Some(manager) = self.manager.as_mut() else {
            return;
        };
        let Some(current) = manager.round.as_mut().filter(|r| r.id == round) else {
            // An answer after the timeout: the advisor has given up on it.
            return;
        };
        current.outcomes[server] = Some(ProbeOutcome::Answered(seconds));
        current.pending -= 1;
        if current.pending == 0 {
            self.decide(now);
        }
    }

    fn probe_deadline(&mut self, now: f64, round: u64) {
        let open = self
            .manager
            .as_ref()
            .and_then(|m| m.round.as_ref())
            .is_some_and(|r| r.id == round);
        if open {
            self.decide(now);
        }
    }

    fn agent_report(&mut self, now: f64) {
        let Some(manager) = self.manager.as_mut() else {
            return;
        };
        for (index, server) in self.servers.iter_mut().enumerate() {
            server.advance(now);
            let job_seconds = server.job_seconds();
            manager.loads[index] =
                (job_seconds - manager.job_seconds[index]) / AGENT_PERIOD + server.external_tasks();
            manager.job_seconds[index] = job_seconds;
        }
        if now < self.scenario.end() {
            self.calendar
                .schedule(now + AGENT_PERIOD, Event::AgentReport);
        }
    }

    /// Closes the round in progress: the Manager decides on what it has.
    fn decide(&mut self, now: f64) {
        let manager = self
            .manager
            .as_mut()
            .expect("decisions only with a Manager");
        let round = manager.round.take().expect("a round is open");
        let views: Vec<ServerView> = self
            .servers
            .iter()
            .zip(round.outcomes)
            .zip(&manager.loads)
            .zip(round.at_probe)
            .map(|(((server, outcome), &load), at_probe)| ServerView {
                conns: server.conns(),
                active: server.active(),
                active_at_probe: at_probe,
                probe: outcome.unwrap_or(ProbeOutcome::NoAnswer),
                load,
            })
            .collect();
        let weights = manager.link.decide(&views);
        let changed = self
            .servers
            .iter()
            .zip(&weights)
            .any(|(server, &weight)| server.weight() != weight);
        if changed {
            for (server, &weight) in self.servers.iter_mut().zip(&weights) {
                server.set_weight(weight);
            }
            // The Executor publishes new weights with fresh round-robin credit.
            sched_wrr::reset(&mut self.servers);
        }
        self.weights.push(WeightSample { time: now, weights });
    }

    fn finish(mut self) -> RunOutcome {
        self.response_times.sort_by(f64::total_cmp);
        let total: u64 = self.measured_dispatch.iter().sum();
        let shares = self
            .measured_dispatch
            .iter()
            .map(|&n| n as f64 / total.max(1) as f64)
            .collect();
        self.conservation.left_in_progress = self.servers.iter().map(SimServer::jobs).sum();
        self.conservation.work_done = self.servers.iter().map(SimServer::work_done).sum();
        RunOutcome {
            policy: self.policy,
            response_times: self.response_times,
            measured_requests: self.measured_requests,
            errors: self.errors,
            shares,
            utilization: self.utilization,
            weights: self.weights,
            conservation: self.conservation,
            events: self.events,
        }
    }
}
