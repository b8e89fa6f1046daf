//! PNG charts of the project's reports (the simulation's, the VM evaluation's and the
//! forwarding benchmark's), drawn with plotters' bitmap backend.
//!
//! Text needs a font, which is loaded at run time from Debian's `fonts-dejavu-core` rather
//! than shipped: [`load_font`] must succeed before any chart is drawn.

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::register_font;

/// Where Debian's `fonts-dejavu-core` puts its sans-serif face.
pub const FONT_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// A chart error, as text.
pub type ChartResult<T> = Result<T, Box<dyn Error>>;

/// The family name charts ask plotters for; [`load_font`] registers it.
pub const FONT: &str = "sans-serif";

/// Line colours, told apart in print too.
const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// The line colour of series `index`.
pub fn colour(index: usize) -> RGBColor {
    COLOURS[index % COLOURS.len()]
}

/// Registers the font charts write with, from [`FONT_PATH`].
pub fn load_font() -> ChartResult<()> {
    let bytes = std::fs::read(FONT_PATH).map_err(|e| {
        format!(
            "cannot read the chart font {FONT_PATH} ({e}); install Debian's fonts-dejavu-core \
             (apt-get install fonts-dejavu-core)"
        )
    })?;
    // plotters keeps fonts for the life of the process.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    register_font(FONT, FontStyle::Normal, bytes)
        .map_err(|_| format!("{FONT_PATH} is not a font plotters can read"))?;
    Ok(())
}

/// One labelled line.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// Its legend.
    pub label: String,
    /// Its points.
    pub points: Vec<(f64, f64)>,
}

fn seconds_label(seconds: &f64) -> String {
    let exponent = seconds.log10().round() as i32;
    match exponent {
        -3 => "1 ms".into(),
        -2 => "10 ms".into(),
        -1 => "100 ms".into(),
        0 => "1 s".into(),
        1 => "10 s".into(),
        2 => "100 s".into(),
        _ => format!("1e{exponent} s"),
    }
}

/// The response-time distributions of `curves` (fraction at or below each time): the CDF on
/// a log time axis, and beside it the complementary CDF on log-log axes, where the tail
/// (the 99th percentile is where it crosses 0.01) shows.
pub fn response_times(path: &Path, title: &str, curves: &[Curve]) -> ChartResult<()> {
    let root = BitMapBackend::new(path, (1400, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, (FONT, 24))?;
    let (left, right) = root.split_horizontally(700);
    let xs = curves.iter().flat_map(|c| c.points.iter().map(|p| p.0));
    let (low, high) = xs.fold((f64::INFINITY, 0.0f64), |(l, h), x| (l.min(x), h.max(x)));
    let x_range = (low.max(1e-4)..high.max(1e-3)).log_scale();

    let mut cdf = ChartBuilder::on(&left)
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range.clone(), 0.0f64..1.0)?;
    cdf.configure_mesh()
        .light_line_style(WHITE)
        .x_desc("response time")
        .y_desc("fraction of requests at or below")
        .x_label_formatter(&seconds_label)
        .label_style((FONT, 15))
        .draw()?;
    for (index, curve) in curves.iter().enumerate() {
        let style = colour(index).stroke_width(2);
        cdf.draw_series(LineSeries::new(curve.points.iter().copied(), style))?
            .label(curve.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
    }
    cdf.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 15))
        .draw()?;

    let mut tail = ChartBuilder::on(&right)
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range, (1e-4f64..1.0).log_scale())?;
    tail.configure_mesh()
        .light_line_style(WHITE)
        .x_desc("response time")
        .y_desc("fraction of requests above")
        .x_label_formatter(&seconds_label)
        .y_label_formatter(&|y| format!("{y:.0e}"))
        .label_style((FONT, 15))
        .draw()?;
    for (index, curve) in curves.iter().enumerate() {
        let style = colour(index).stroke_width(2);
        let above = curve
            .points
            .iter()
            .map(|&(x, y)| (x, 1.0 - y))
            .filter(|&(_, y)| y >= 1e-4);
        tail.draw_series(LineSeries::new(above, style))?;
    }
    tail.draw_series(LineSeries::new(
        [(low.max(1e-4), 0.01), (high.max(1e-3), 0.01)],
        BLACK.mix(0.5).stroke_width(1),
    ))?
    .label("p99")
    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.mix(0.5)));
    tail.configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 15))
        .draw()?;
    root.present()?;
    Ok(())
}

/// One panel of [`weights_over_time`].
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// Its caption.
    pub caption: String,
    /// The y axis's description.
    pub y_label: String,
    /// Its lines.
    pub curves: Vec<Curve>,
}

/// Panels stacked one above the other sharing an x axis, with a vertical line at `mark`.
pub fn weights_over_time(
    path: &Path,
    title: &str,
    x_label: &str,
    mark: f64,
    panels: &[Panel],
) -> ChartResult<()> {
    let height = 330 * panels.len() as u32 + 40;
    let root = BitMapBackend::new(path, (1200, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, (FONT, 24))?;
    for (area, panel) in root.split_evenly((panels.len(), 1)).iter().zip(panels) {
        let points = || panel.curves.iter().flat_map(|c| c.points.iter().copied());
        let (x_low, x_high) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
            (l.min(p.0), h.max(p.0))
        });
        let y_high = points().map(|p| p.1).fold(0.0f64, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.caption, (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x_low..x_high, 0.0..y_high.max(1e-9))?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc(x_label)
            .y_desc(panel.y_label.as_str())
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style((FONT, 14))
            .draw()?;
        for (index, curve) in panel.curves.iter().enumerate() {
            let style = colour(index).stroke_width(2);
            chart
                .draw_series(LineSeries::new(curve.points.iter().copied(), style))?
                .label(curve.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        }
        chart.draw_series(LineSeries::new(
            [(mark, 0.0), (mark, y_high)],
            BLACK.mix(0.6).stroke_width(1),
        ))?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT, 14))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_both_kinds_of_chart_as_png() {
        load_font().unwrap();
        let dir = std::env::temp_dir().join(format!("nd-charts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let curve = |label: &str, scale: f64| Curve {
            label: label.into(),
            points: (1..=50)
                .map(|i| (scale * f64::from(i) / 100.0, f64::from(i) / 50.0))
                .collect(),
        };
        let cdf = dir.join("cdf.png");
        response_times(&cdf, "response times", &[curve("a", 1.0), curve("b", 3.0)]).unwrap();
        let weights = dir.join("weights.png");
        let panel = Panel {
            caption: "weights".into(),
            y_label: "weight".into(),
            curves: vec![curve("server 1", 100.0)],
        };
        weights_over_time(&weights, "over time", "seconds", 10.0, &[panel]).unwrap();
        for path in [cdf, weights] {
            let png = std::fs::read(&path).unwrap();
            assert_eq!(&png[1..4], b"PNG", "{}", path.display());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
