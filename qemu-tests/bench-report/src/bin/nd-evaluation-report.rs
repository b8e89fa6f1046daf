//! `nd-evaluation-report`: turns the results `make evaluate` brings out of the VM into
//! `docs/evaluation-vm.md`, `docs/evaluation-vm-cdf.png` and `docs/evaluation-vm-weights.png`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use nd_bench_report::analysis;
use nd_bench_report::evaluation::{charts, markdown};
use ndtest::evaluation::results::EvalResults;

const DOCUMENT: &str = "evaluation-vm.md";
const CDF_CHART: &str = "evaluation-vm-cdf.png";
const WEIGHTS_CHART: &str = "evaluation-vm-weights.png";

#[derive(Parser)]
#[command(name = "nd-evaluation-report")]
struct Cli {
    /// The results file the evaluation wrote (one line of JSON).
    #[arg(long, value_name = "FILE")]
    results: PathBuf,
    /// Where to write evaluation-vm.md and its charts.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

fn run(cli: &Cli) -> Result<(), String> {
    let text = std::fs::read_to_string(&cli.results)
        .map_err(|e| format!("{}: {e}", cli.results.display()))?;
    let results: EvalResults = serde_json::from_str(text.trim())
        .map_err(|e| format!("{}: not evaluation results: {e}", cli.results.display()))?;
    if results.runs.is_empty() {
        return Err(format!("{}: no run in the results", cli.results.display()));
    }
    nd_charts::load_font().map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&cli.out).map_err(|e| format!("{}: {e}", cli.out.display()))?;
    let cdf = cli.out.join(CDF_CHART);
    charts::cdf(&cdf, &results).map_err(|e| format!("{}: {e}", cdf.display()))?;
    let weights = cli.out.join(WEIGHTS_CHART);
    let has_weights =
        charts::weights(&weights, &results).map_err(|e| format!("{}: {e}", weights.display()))?;
    if !has_weights {
        // A chart from an earlier run would no longer match the document.
        let _ = std::fs::remove_file(&weights);
    }
    let document = cli.out.join(DOCUMENT);
    let previous = std::fs::read_to_string(&document).unwrap_or_default();
    let text = markdown::document(
        &results,
        &markdown::Charts {
            cdf: CDF_CHART,
            weights: has_weights.then_some(WEIGHTS_CHART),
        },
        analysis::kept(&previous),
    );
    std::fs::write(&document, text).map_err(|e| format!("{}: {e}", document.display()))?;
    print!("{}", results.text_table());
    println!("wrote {} and its charts", document.display());
    Ok(())
}

fn main() -> ExitCode {
    match run(&Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nd-evaluation-report: {e}");
            ExitCode::FAILURE
        }
    }
}
