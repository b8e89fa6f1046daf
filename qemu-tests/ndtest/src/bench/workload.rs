//! `ndtest workload`: the clients of the load-sharing evaluation. Requests arrive as a
//! Poisson stream (open loop: each at its time, whatever became of the earlier ones), each on
//! its own connection asking for a number of work units drawn from a size mix (`GET /work/N`,
//! [`super::work_path`]), and each is timed from its arrival to the end of its response, as
//! in the simulator. A seed fixes the arrivals and the sizes, so every policy is given the
//! same requests in the same order. Requests that arrive during a first warm-up are sent but
//! not measured. The emulated servers name themselves in their answers, so the report tells
//! each server's share.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use nd_load_model::rng::Rng;
use nd_load_model::workload::SizeMix;

use super::clock::{nanos, now_ns, NANOS_PER_SECOND};
use super::report::WorkloadReport;
use super::timer::PeriodicTimer;
use super::transaction_loop::{run_transactions, Due, Schedule, Window};
use super::work_path;

/// Highest `--rate`.
pub const MAX_RATE: f64 = 100_000.0;

/// What `ndtest workload` does.
#[derive(Debug, Clone)]
pub struct WorkloadOptions {
    pub to: SocketAddr,
    /// Mean arrivals a second, positive and at most [`MAX_RATE`].
    pub rate: f64,
    /// Arrivals before the measured window, sent but not measured.
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
    pub mix: SizeMix,
    pub seed: u64,
    /// Most requests under way at once; arrivals wait beyond it.
    pub concurrency_limit: u32,
    /// A request not done this long after its connect fails.
    pub timeout: Duration,
    /// How long requests under way at the end of the window may finish.
    pub drain: Duration,
}

/// The name reports give a mix.
pub fn mix_name(mix: SizeMix) -> &'static str {
    match mix {
        SizeMix::Classes => "abcd",
        SizeMix::Pareto => "pareto",
    }
}

/// The arrivals of one run, in order: their instants and their work.
#[derive(Clone, Debug)]
struct ArrivalStream {
    start_ns: u64,
    /// The next arrival, in seconds from the start.
    next_seconds: f64,
    rate: f64,
    gaps: Rng,
    sizes: Rng,
    mix: SizeMix,
}

impl ArrivalStream {
    fn new(start_ns: u64, rate: f64, mix: SizeMix, seed: u64) -> ArrivalStream {
        let mut gaps = Rng::new(seed, "arrivals");
        ArrivalStream {
            start_ns,
            next_seconds: gaps.exponential(rate),
            rate,
            gaps,
            sizes: Rng::new(seed, "sizes"),
            mix,
        }
    }

    /// When the next arrival is due.
    fn next_ns(&self) -> u64 {
        self.start_ns + (self.next_seconds * NANOS_PER_SECOND as f64) as u64
    }

    /// Takes the next arrival: its instant and its work.
    fn take(&mut self) -> (u64, f64) {
        let at = self.next_ns();
        self.next_seconds += self.gaps.exponential(self.rate);
        (at, self.mix.sample(&mut self.sizes))
    }
}

/// Starts each arrival when it is due, or as soon after as the concurrency limit allows.
struct PoissonSchedule {
    stream: ArrivalStream,
    /// Arrived, waiting for room under the limit.
    waiting: VecDeque<(u64, f64)>,
    measure_from_ns: u64,
    stop_ns: u64,
    /// Measured arrivals taken from the stream, and their work.
    scheduled: u64,
    work_scheduled: f64,
    max_backlog: u64,
}

impl PoissonSchedule {
    fn measured(&self, at_ns: u64) -> bool {
        at_ns >= self.measure_from_ns
    }

    /// Measured arrivals due before the end of the window that the stream has not given yet.
    fn not_yet_taken(&self) -> u64 {
        let mut rest = self.stream.clone();
        let mut count = 0;
        while rest.next_ns() < self.stop_ns {
            let (at, _) = rest.take();
            count += u64::from(self.measured(at));
        }
        count
    }
}

impl Schedule for PoissonSchedule {
    fn take_due(&mut self, now_ns: u64, room: usize, due: &mut Vec<Due>) {
        while self.stream.next_ns() <= now_ns && self.stream.next_ns() < self.stop_ns {
            let (at, work) = self.stream.take();
            if self.measured(at) {
                self.scheduled += 1;
                self.work_scheduled += work;
            }
            self.waiting.push_back((at, work));
        }
        let starting = room.min(self.waiting.len());
        due.extend(self.waiting.drain(..starting).map(|(at, work)| Due {
            scheduled_ns: at,
            request: Cow::Owned(work_path::request(work)),
        }));
        self.max_backlog = self.max_backlog.max(self.waiting.len() as u64);
    }

    /// A failed start is that request's failure; the others due go ahead.
    fn start_failed(&mut self, _local_resource: bool, _now_ns: u64) -> bool {
        true
    }

    fn next_due_ns(&self) -> Option<u64> {
        Some(self.stream.next_ns()).filter(|&at| at < self.stop_ns)
    }

    fn timer(&self) -> Option<&PeriodicTimer> {
        None
    }

    fn unstarted(&self) -> u64 {
        let waiting = self.waiting.iter().filter(|(at, _)| self.measured(*at));
        waiting.count() as u64 + self.not_yet_taken()
    }

    fn starts_late(&self) -> bool {
        true
    }
}

/// Runs the workload and reports it.
pub fn run(options: &WorkloadOptions) -> Result<WorkloadReport, String> {
    if !(options.rate.is_finite() && options.rate > 0.0 && options.rate <= MAX_RATE) {
        return Err(format!("the rate must be above 0 and at most {MAX_RATE}"));
    }
    // A little ahead, so that the first arrivals are not late already.
    let start_ns = now_ns() + 1_000_000;
    let measure_from_ns = start_ns + nanos(options.warmup);
    let stop_ns = measure_from_ns + nanos(options.duration);
    let mut schedule = PoissonSchedule {
        stream: ArrivalStream::new(start_ns, options.rate, options.mix, options.seed),
        waiting: VecDeque::new(),
        measure_from_ns,
        stop_ns,
        scheduled: 0,
        work_scheduled: 0.0,
        max_backlog: 0,
    };
    let window = Window {
        concurrency: options.concurrency_limit.max(1) as usize,
        stop_ns,
        drain_deadline_ns: stop_ns + nanos(options.drain),
        timeout: options.timeout,
        measure_from_ns,
    };
    let tally = run_transactions(options.to, &mut schedule, window)?;
    Ok(WorkloadReport {
        to: options.to.to_string(),
        mix: mix_name(options.mix).to_owned(),
        seed: options.seed,
        rate: options.rate,
        warmup_seconds: options.warmup.as_secs(),
        seconds: options.duration.as_secs(),
        concurrency_limit: options.concurrency_limit,
        window_start_ns: measure_from_ns,
        window_end_ns: stop_ns,
        scheduled: schedule.scheduled + schedule.not_yet_taken(),
        work_scheduled: schedule.work_scheduled,
        started: tally.started,
        completed: tally.completed + tally.drained,
        failed: tally.failed,
        errors: tally.errors,
        unstarted: tally.unstarted,
        abandoned: tally.abandoned,
        max_backlog: schedule.max_backlog,
        warmup_completed: tally.warmup_completed,
        warmup_failed: tally.warmup_failed,
        response_us: tally.latency.summary_us(),
        service_us: tally.service.summary_us(),
        per_server: tally.per_server,
        response_buckets: tally.latency.buckets(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = NANOS_PER_SECOND;

    fn schedule(rate: f64, seed: u64, measure_from_ns: u64, stop_ns: u64) -> PoissonSchedule {
        PoissonSchedule {
            stream: ArrivalStream::new(0, rate, SizeMix::Classes, seed),
            waiting: VecDeque::new(),
            measure_from_ns,
            stop_ns,
            scheduled: 0,
            work_scheduled: 0.0,
            max_backlog: 0,
        }
    }

    /// Every start `schedule` gives, taking them each millisecond with `room` each time.
    fn starts(schedule: &mut PoissonSchedule, room: usize) -> Vec<Due> {
        let mut all = Vec::new();
        let mut now = 0;
        while now < schedule.stop_ns {
            schedule.take_due(now, room, &mut all);
            now += 1_000_000;
        }
        all
    }

    #[test]
    fn a_late_pass_starts_what_fell_due_in_the_window_and_nothing_after() {
        let mut poisson = schedule(100.0, 4, 0, S);
        let mut due = Vec::new();
        poisson.take_due(S / 2, usize::MAX, &mut due);
        let early = due.len();
        assert!(
            poisson.unstarted() > 0,
            "the window's second half is still to come"
        );
        // The loop wakes long after the window's end.
        poisson.take_due(5 * S, usize::MAX, &mut due);
        assert!(poisson.starts_late());
        assert!(due.len() > early);
        assert!(due.iter().all(|d| d.scheduled_ns < S));
        assert_eq!(poisson.unstarted(), 0);
        assert_eq!(due.len() as u64, poisson.scheduled);
    }

    #[test]
    fn arrivals_are_poisson_at_the_rate() {
        let mut poisson = schedule(100.0, 3, 0, 200 * S);
        let due = starts(&mut poisson, usize::MAX);
        let n = due.len() as f64;
        assert!((n - 20_000.0).abs() < 4.0 * 20_000f64.sqrt(), "{n}");
        // Exponential gaps: their coefficient of variation is 1.
        let gaps: Vec<f64> = due
            .windows(2)
            .map(|pair| (pair[1].scheduled_ns - pair[0].scheduled_ns) as f64)
            .collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let variance = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        assert!((mean / 1e7 - 1.0).abs() < 0.03, "mean gap {mean}");
        assert!((variance.sqrt() / mean - 1.0).abs() < 0.05);
        assert_eq!(poisson.unstarted(), 0);
        assert_eq!(poisson.scheduled, due.len() as u64);
    }

    #[test]
    fn a_seed_fixes_the_requests_and_their_mean_is_the_mix_s() {
        let run = |seed| starts(&mut schedule(50.0, seed, 0, 100 * S), usize::MAX);
        let (first, again, other) = (run(8), run(8), run(9));
        assert_eq!(first, again);
        assert_ne!(first, other);
        let mut poisson = schedule(50.0, 8, 0, 400 * S);
        starts(&mut poisson, usize::MAX);
        let mean = poisson.work_scheduled / poisson.scheduled as f64;
        assert!((mean - SizeMix::Classes.mean()).abs() < 3.0, "{mean}");
        let request = String::from_utf8(first[0].request.to_vec()).unwrap();
        assert!(request.starts_with("GET /work/"), "{request}");
    }

    #[test]
    fn the_warm_up_is_not_counted_and_waiting_arrivals_keep_their_time() {
        let mut poisson = schedule(1000.0, 1, 2 * S, 3 * S);
        let mut due = Vec::new();
        poisson.take_due(S, 10, &mut due);
        assert_eq!(due.len(), 10);
        assert_eq!(
            poisson.scheduled, 0,
            "warm-up arrivals are not scheduled ones"
        );
        assert!(poisson.max_backlog > 900, "{}", poisson.max_backlog);
        due.clear();
        poisson.take_due(S, 5, &mut due);
        assert!(due
            .windows(2)
            .all(|p| p[0].scheduled_ns <= p[1].scheduled_ns));
        assert!(
            due[0].scheduled_ns < S / 10,
            "the oldest waiting goes first"
        );
        // About 1000 arrivals in the measured second, none of them started.
        let unstarted = poisson.unstarted();
        assert!((900..1100).contains(&unstarted), "{unstarted}");
        let next = poisson.next_due_ns().unwrap();
        assert!(
            next > S && next < 3 * S,
            "the next arrival is after those taken"
        );
        let mut late = schedule(1.0, 1, 0, 1);
        late.stream.next_seconds = 5.0;
        assert_eq!(late.next_due_ns(), None, "nothing due after the window");
    }
}
