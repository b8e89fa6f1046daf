//! The load model of the load-sharing evaluation, shared by the simulator (`nd-sim`) and the
//! servers and clients that emulate it in the test VM (`ndtest ps-serve` and `ndtest
//! workload`), so that both run the same arithmetic: processor-sharing servers with exact
//! completion times ([`ps_queue`]), request sizes in work units ([`workload`]) and seeded
//! random streams ([`rng`]).

pub mod ps_queue;
pub mod rng;
pub mod workload;
