//! `nd-sim`: runs the load-sharing evaluation and writes its report.
//!
//! ```text
//! nd-sim [--quick] [--seed N] [--out DIR]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use nd_sim::chart;
use nd_sim::evaluation::{evaluate, Plan};
use nd_sim::report;
use nd_sim::scenario::Scale;

/// Evaluates load-sharing policies on a simulated cluster, driving the Manager's and the
/// Executor's own code, and writes a Markdown report, CSV series and PNG charts.
#[derive(Parser)]
#[command(name = "nd-sim")]
struct Args {
    /// Shorter runs and a 10-server scaled-up cluster: seconds even in a debug build.
    #[arg(long)]
    quick: bool,
    /// The first seed; runs use it and the ones after.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where the report goes; charts and series go to its `simulation/` folder.
    #[arg(long, default_value = "docs")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Fail before hours of simulation, not after, if the charts cannot be drawn.
    if let Err(e) = chart::load_font() {
        eprintln!("nd-sim: {e}");
        return ExitCode::FAILURE;
    }
    let scale = if args.quick {
        Scale::Quick
    } else {
        Scale::Full
    };
    let plan = Plan::new(scale, args.seed);
    let evaluation = evaluate(&plan, |what| eprintln!("nd-sim: running {what}"));
    for results in &evaluation.scenarios {
        println!("{}", report::console(results));
    }
    println!("{}", report::console_targets(&evaluation));
    println!("simulated in {:.0} s", evaluation.elapsed);

    let mut command = String::from("cargo run --release -p nd-sim --");
    if args.quick {
        command.push_str(" --quick");
    }
    if args.seed != 1 {
        command.push_str(&format!(" --seed {}", args.seed));
    }
    command.push_str(&format!(" --out {}", args.out.display()));
    match report::write(&evaluation, &args.out, &command) {
        Ok(paths) => {
            for path in paths {
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "nd-sim: writing the report under {}: {e}",
                args.out.display()
            );
            ExitCode::FAILURE
        }
    }
}
