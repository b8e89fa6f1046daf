//! The chart of the benchmark: for every figure, the Executor against IPVS and against no
//! balancer, as ratios where above 1 means the Executor does better.

use std::error::Error;
use std::path::Path;

use ndtest::benchmark::results::SummaryRow;
use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Where Debian's `fonts-dejavu-core` puts its sans-serif face.
const FONT_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const FONT: &str = "sans-serif";
const VS_IPVS: RGBColor = RGBColor(31, 119, 180);
const VS_DIRECT: RGBColor = RGBColor(255, 127, 14);

/// Registers the font the chart is written with.
fn load_font() -> Result<(), Box<dyn Error>> {
    let bytes = std::fs::read(FONT_PATH).map_err(|e| {
        format!("cannot read {FONT_PATH} ({e}); install Debian's fonts-dejavu-core")
    })?;
    // plotters keeps fonts for the life of the process.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    register_font(FONT, FontStyle::Normal, bytes)
        .map_err(|_| format!("{FONT_PATH} is not a font plotters can read"))?;
    Ok(())
}

/// Draws the ratios of `rows` into a PNG at `path`.
pub fn ratios(path: &Path, rows: &[SummaryRow]) -> Result<(), Box<dyn Error>> {
    load_font()?;
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
        for (slot, (ratio, colour)) in [(row.vs_ipvs, VS_IPVS), (row.vs_direct, VS_DIRECT)]
            .into_iter()
            .enumerate()
        {
            let Some(ratio) = ratio else { continue };
            let upper = top - 0.1 - 0.4 * slot as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, upper - 0.38), (ratio, upper)],
                colour.filled(),
            )))?;
        }
    }
    chart.draw_series(LineSeries::new(
        [(1.0, 0.0), (1.0, rows.len() as f64)],
        BLACK.stroke_width(1),
    ))?;
    for (label, colour) in [("nd / IPVS", VS_IPVS), ("nd / no balancer", VS_DIRECT)] {
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], colour.filled()));
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
