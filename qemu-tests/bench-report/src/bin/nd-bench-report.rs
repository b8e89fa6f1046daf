//! `nd-bench-report`: turns the results `make bench` brings out of the VM into
//! `docs/benchmarks.md` and `docs/benchmarks.png`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use nd_bench_report::analysis;
use nd_bench_report::benchmark::{chart, markdown, targets};
use ndtest::benchmark::results::BenchResults;

#[derive(Parser)]
#[command(name = "nd-bench-report")]
struct Cli {
    /// The results file the benchmark wrote (one line of JSON).
    #[arg(long, value_name = "FILE")]
    results: PathBuf,
    /// Where to write benchmarks.md and benchmarks.png.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

fn run(cli: &Cli) -> Result<(), String> {
    let text = std::fs::read_to_string(&cli.results)
        .map_err(|e| format!("{}: {e}", cli.results.display()))?;
    let results: BenchResults = serde_json::from_str(text.trim())
        .map_err(|e| format!("{}: not benchmark results: {e}", cli.results.display()))?;
    let sizes: Vec<u64> = results
        .figures
        .iter()
        .filter_map(|f| f.key.strip_prefix("forward_pps@")?.parse().ok())
        .collect();
    let (smallest, largest) = match (sizes.iter().min(), sizes.iter().max()) {
        (Some(&s), Some(&l)) => (s, l),
        _ => return Err("the results have no forwarding figures".into()),
    };
    std::fs::create_dir_all(&cli.out).map_err(|e| format!("{}: {e}", cli.out.display()))?;
    let chart = cli.out.join("benchmarks.png");
    chart::ratios(&chart, &results.summary()).map_err(|e| format!("{}: {e}", chart.display()))?;
    let document = cli.out.join("benchmarks.md");
    let previous = std::fs::read_to_string(&document).unwrap_or_default();
    let verdicts = targets::verdicts(&results, smallest, largest);
    let text = markdown::document(
        &results,
        &verdicts,
        "benchmarks.png",
        analysis::kept(&previous),
    );
    std::fs::write(&document, text).map_err(|e| format!("{}: {e}", document.display()))?;
    println!("wrote {} and {}", document.display(), chart.display());
    Ok(())
}

fn main() -> ExitCode {
    match run(&Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nd-bench-report: {e}");
            ExitCode::FAILURE
        }
    }
}
