//! The chart of the benchmark: for every figure, the Executor against IPVS and against no
//! balancer, as ratios where above 1 means the Executor does better.

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
    let highest = rows
        .iter()
        .flat_map(|r| [r.vs_ipvs, r.vs_direct])
        .flatten()
        .fold(1.5f64, f64::max);
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
        .build_cartesian_2d(0.0..highest * 1.1, 0.0..rows.len() as f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("ratio")
        .label_style((FONT, 14))
        .draw()?;
    // Each figure's name, right-aligned beside its pair of bars.
    let label_style = TextStyle::from((FONT, 14).into_font())
        .pos(Pos::new(HPos::Right, VPos::Center))
        .color(&BLACK);
    for (index, row) in rows.iter().enumerate() {
        let middle = rows.len() as f64 - index as f64 - 0.5;
        let (x, y) = chart.backend_coord(&(0.0, middle));
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
            let upper = top - 0.1 - 0.4 * slot as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, upper - 0.38), (ratio, upper)],
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
