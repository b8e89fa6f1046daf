//! The chart of the benchmark: for every figure, the Executor against IPVS and against no
//! balancer, as ratios where above 1 means the Executor does better, on a log axis: twice as
//! good and twice as bad are bars of one length, either side of 1, and ratios near 1 stay
//! legible beside ratios of 50.

use std::error::Error;
use std::path::Path;

use nd_charts::{colour, load_font, FONT};
use ndtest::benchmark::results::SummaryRow;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Draws the ratios of `rows` into a PNG at `path`.
pub fn ratios(path: &Path, rows: &[SummaryRow]) -> Result<(), Box<dyn Error>> {
    load_font()?;
    let (vs_ipvs, vs_direct) = (colour(0), colour(1));
    let rows: Vec<&SummaryRow> = rows
        .iter()
        .filter(|r| r.vs_ipvs.is_some() || r.vs_direct.is_some())
        .collect();
    let ratios = || rows.iter().flat_map(|r| [r.vs_ipvs, r.vs_direct]).flatten();
    let highest = ratios().fold(1.5f64, f64::max) * 1.3;
    let lowest = ratios().fold(1.0 / 1.5, f64::min).max(1e-3) / 1.3;
    let height = 120 + 46 * rows.len() as u32;
    let root = BitMapBackend::new(path, (1100, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "nd against IPVS and against no balancer (above 1: nd does better)",
            (FONT, 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(380)
        .build_cartesian_2d((lowest..highest).log_scale(), 0.0..rows.len() as f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("ratio (log scale)")
        .label_style((FONT, 14))
        .draw()?;
    // Each figure's name, right-aligned beside its pair of bars.
    let label_style = TextStyle::from((FONT, 14).into_font())
        .pos(Pos::new(HPos::Right, VPos::Center))
        .color(&BLACK);
    for (index, row) in rows.iter().enumerate() {
        let middle = rows.len() as f64 - index as f64 - 0.5;
        let (x, y) = chart.backend_coord(&(lowest, middle));
        root.draw(&Text::new(
            row.figure.label.clone(),
            (x - 8, y),
            label_style.clone(),
        ))?;
    }
    for (index, row) in rows.iter().enumerate() {
        let top = rows.len() as f64 - index as f64;
        for (slot, (ratio, fill)) in [(row.vs_ipvs, vs_ipvs), (row.vs_direct, vs_direct)]
            .into_iter()
            .enumerate()
        {
            let Some(ratio) = ratio else { continue };
            let ratio = ratio.clamp(lowest, highest);
            let upper = top - 0.1 - 0.4 * slot as f64;
            // From 1, where nd and the other path are level, to the ratio.
            chart.draw_series(std::iter::once(Rectangle::new(
                [(ratio.min(1.0), upper - 0.38), (ratio.max(1.0), upper)],
                fill.filled(),
            )))?;
        }
    }
    chart.draw_series(LineSeries::new(
        [(1.0, 0.0), (1.0, rows.len() as f64)],
        BLACK.stroke_width(1),
    ))?;
    for (label, fill) in [("nd / IPVS", vs_ipvs), ("nd / no balancer", vs_direct)] {
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], fill.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font((FONT, 14))
        .draw()?;
    root.present()?;
    Ok(())
}
