//! `nd-evaluation-report`: turns the results `make evaluate` brings out of the VM into
//! `docs/evaluation-vm.md` and its charts: each scenario's response times, and the Manager's
//! weights where a scenario has them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use nd_bench_report::analysis;
use nd_bench_report::evaluation::{charts, markdown, targets};
use ndtest::evaluation::results::{EvalResults, Evaluation};

const DOCUMENT: &str = "evaluation-vm.md";

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

/// The results, or those of an evaluation from before scenarios (one setting) as its only
/// scenario.
fn parse(text: &str) -> Result<Evaluation, serde_json::Error> {
    serde_json::from_str::<Evaluation>(text).or_else(|error| {
        serde_json::from_str::<EvalResults>(text)
            .map(|single| Evaluation {
                scenarios: vec![single],
            })
            .map_err(|_| error)
    })
}

/// Draws one scenario's charts into `out`.
fn draw(out: &Path, results: &EvalResults) -> Result<markdown::Charts, String> {
    let cdf_name = charts::file_name(results.scenario, "cdf");
    let cdf = out.join(&cdf_name);
    charts::cdf(&cdf, results).map_err(|e| format!("{}: {e}", cdf.display()))?;
    let weights_name = charts::file_name(results.scenario, "weights");
    let weights = out.join(&weights_name);
    let has_weights =
        charts::weights(&weights, results).map_err(|e| format!("{}: {e}", weights.display()))?;
    if !has_weights {
        // A chart from an earlier run would no longer match the document.
        let _ = std::fs::remove_file(&weights);
    }
    Ok(markdown::Charts {
        cdf: cdf_name,
        weights: has_weights.then_some(weights_name),
    })
}

fn run(cli: &Cli) -> Result<(), String> {
    let text = std::fs::read_to_string(&cli.results)
        .map_err(|e| format!("{}: {e}", cli.results.display()))?;
    let evaluation = parse(text.trim())
        .map_err(|e| format!("{}: not evaluation results: {e}", cli.results.display()))?;
    if evaluation.is_empty() {
        return Err(format!("{}: no run in the results", cli.results.display()));
    }
    nd_charts::load_font().map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&cli.out).map_err(|e| format!("{}: {e}", cli.out.display()))?;
    let mut drawn = Vec::new();
    for results in &evaluation.scenarios {
        drawn.push(if results.runs.is_empty() {
            markdown::Charts::default()
        } else {
            draw(&cli.out, results)?
        });
    }
    let document = cli.out.join(DOCUMENT);
    let previous = std::fs::read_to_string(&document).unwrap_or_default();
    let text = markdown::document(&evaluation, &drawn, analysis::kept(&previous));
    std::fs::write(&document, text).map_err(|e| format!("{}: {e}", document.display()))?;
    for results in &evaluation.scenarios {
        println!("{}", results.scenario.title());
        print!("{}", results.text_table());
    }
    for target in targets::targets(&evaluation) {
        println!(
            "  {:<3} {:<76} {:>14} {:<16} {}",
            target.setting,
            target.measure,
            target.value,
            target.goal,
            if target.met { "met" } else { "missed" }
        );
    }
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
