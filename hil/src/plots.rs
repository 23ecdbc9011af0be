//! PNG plots of a HIL run: end-to-end latency and age per frame, and the runtime's RSS and CPU
//! over time (plotters, drawn into an RGB buffer, encoded by the `image` crate).
//!
//! Text needs a TrueType font: DejaVu Sans from Debian's `fonts-dejavu-core`
//! ([`DEFAULT_FONT`]), or the file named by `PITSENSE_FONT`. Without one no plot is drawn and
//! [`PlotError::Font`] says which file was missing.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::harness::HilReport;

/// Debian's DejaVu Sans (package `fonts-dejavu-core`).
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Plot size, px.
const SIZE_PX: (u32, u32) = (1000, 420);

/// Why a plot was not written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// No usable font.
    #[error("font `{file}`: {reason} (install fonts-dejavu-core or set PITSENSE_FONT)")]
    Font {
        /// The font file.
        file: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// Drawing or writing failed.
    #[error("plot `{file}`: {reason}")]
    Draw {
        /// The PNG.
        file: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// Registers the font once per process (plotters keeps a global font registry).
fn register_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<Result<(), (PathBuf, String)>> = OnceLock::new();
    let result = REGISTERED.get_or_init(|| {
        let file =
            std::env::var_os("PITSENSE_FONT").map_or_else(|| PathBuf::from(DEFAULT_FONT), PathBuf::from);
        let bytes = std::fs::read(&file).map_err(|e| (file.clone(), e.to_string()))?;
        // plotters wants the font for the whole process: leaked once, by the OnceLock.
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| (file.clone(), "not a TrueType font".to_owned()))
    });
    result.clone().map_err(|(file, reason)| PlotError::Font { file, reason })
}

/// One line of a plot: its name, colour and points.
type Line<'a> = (&'a str, RGBColor, Vec<(f64, f64)>);

/// Draws `lines` on one chart (x: scenario time, s) and writes the PNG; a line is broken where
/// consecutive points are more than `max_gap_s` apart (no straight line across an outage).
fn line_chart(
    path: &Path,
    caption: &str,
    y_desc: &str,
    lines: &[Line<'_>],
    max_gap_s: f64,
) -> Result<(), PlotError> {
    let fail = |reason: String| PlotError::Draw { file: path.to_path_buf(), reason };
    let points = lines.iter().flat_map(|(_, _, p)| p.iter()).filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x_max, mut y_min, mut y_max) = (1.0_f64, 0.0_f64, 1.0_f64);
    for &(x, y) in points {
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    let (width, height) = SIZE_PX;
    let mut buffer = vec![0_u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, SIZE_PX).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max * 1.02, y_min..y_max * 1.1)
            .map_err(|e| fail(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("time since the play started, s")
            .y_desc(y_desc)
            .draw()
            .map_err(|e| fail(e.to_string()))?;
        for (name, colour, points) in lines {
            let colour = *colour;
            let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
            for &point in points {
                match runs.last_mut() {
                    Some(run) if run.last().is_some_and(|last| point.0 - last.0 <= max_gap_s) => {
                        run.push(point)
                    }
                    _ => runs.push(vec![point]),
                }
            }
            for (index, run) in runs.into_iter().enumerate() {
                let series = chart
                    .draw_series(LineSeries::new(run, colour.stroke_width(2)))
                    .map_err(|e| fail(e.to_string()))?;
                if index == 0 {
                    series.label(*name).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                    });
                }
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| fail(e.to_string()))?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    let image = image::RgbImage::from_raw(width, height, buffer).ok_or_else(|| fail("buffer size".into()))?;
    image.save(path).map_err(|e| fail(e.to_string()))
}

/// Writes `<dir>/latency.png` (end-to-end latency and age per published rotation, ms) and
/// `<dir>/resources.png` (RSS, MiB, and CPU, % of one core) for `report`; returns their paths.
///
/// # Errors
/// [`PlotError::Font`] without a font, [`PlotError::Draw`] when drawing or writing fails.
pub fn write_plots(report: &HilReport, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    register_font()?;
    let latency = dir.join("latency.png");
    let latencies: Vec<(f64, f64)> = report.latencies.iter().map(|l| (l.t_s, l.latency_ms)).collect();
    line_chart(
        &latency,
        &format!("{}: end-to-end latency (last packet sent → objects received)", report.scenario),
        "ms",
        &[("latency", RGBColor(31, 119, 180), latencies)],
        // 2.5 rotations of a 10 Hz lidar.
        0.25,
    )?;
    let resources = dir.join("resources.png");
    let rss: Vec<(f64, f64)> = report.resources.iter().map(|r| (r.t_s, r.rss_mib)).collect();
    let cpu: Vec<(f64, f64)> = report.resources.iter().map(|r| (r.t_s, r.cpu_percent)).collect();
    line_chart(
        &resources,
        &format!("{}: pitsense run, RSS and CPU", report.scenario),
        "RSS, MiB / CPU, % of one core",
        &[("RSS, MiB", RGBColor(44, 160, 44), rss), ("CPU, %", RGBColor(214, 39, 40), cpu)],
        // Four resource samples.
        1.0,
    )?;
    Ok(vec![latency, resources])
}
