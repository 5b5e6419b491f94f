//! SVG plots: latency over time, and the latency distribution as a percentile curve.
//!
//! SVG with plotters' built-in text estimate needs no system fonts (the bitmap backend would
//! need a font library and font files), and the files diff and render anywhere, including in
//! the repository's docs. The percentile curve puts `1 / (1 − q)` on a log axis, the usual HDR
//! view: 10 is p90, 100 is p99, 1000 is p99.9, so the tail gets as much room as the median.

use std::path::Path;

use plotters::coord::combinators::IntoLogRange;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;

use crate::recorder::TimelinePoint;

const WIDTH: u32 = 900;
const HEIGHT: u32 = 480;
/// Latencies below this are drawn at this value (log axes cannot show 0).
const MIN_MS: f64 = 0.01;
const COLORS: [RGBColor; 6] = [
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x8c, 0x56, 0x4b),
];

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// `(1 / (1 − q), latency ms)` for each recorded bucket: the percentile curve. The last
/// bucket, at q = 1, is drawn at the resolution the sample count allows (`1 / (1 − q)` = count).
pub fn percentile_curve(buckets: &[(f64, u64)]) -> Vec<(f64, f64)> {
    let total: u64 = buckets.iter().map(|&(_, n)| n).sum();
    if total == 0 {
        return Vec::new();
    }
    let cap = 1.0 - 1.0 / total as f64;
    let mut seen = 0u64;
    let mut points = Vec::with_capacity(buckets.len() + 1);
    if let Some(&(first, _)) = buckets.first() {
        points.push((1.0, first.max(MIN_MS)));
    }
    for &(ms, n) in buckets {
        seen += n;
        let q = (seen as f64 / total as f64).min(cap);
        points.push((1.0 / (1.0 - q), ms.max(MIN_MS)));
    }
    points
}

/// The share of deliveries (percent) per latency bucket, for the distribution chart.
pub fn histogram_series(buckets: &[(f64, u64)]) -> Vec<(f64, f64)> {
    let total: u64 = buckets.iter().map(|&(_, n)| n).sum();
    if total == 0 {
        return Vec::new();
    }
    buckets
        .iter()
        .map(|&(ms, n)| (ms.max(MIN_MS), n as f64 * 100.0 / total as f64))
        .collect()
}

/// p50, p99 and max per second of one run.
pub fn timeline_series(timeline: &[TimelinePoint]) -> Vec<Series> {
    let pick = |name: &str, f: fn(&TimelinePoint) -> f64| Series {
        name: name.to_owned(),
        points: timeline
            .iter()
            .filter(|p| p.count > 0)
            .map(|p| (p.second as f64, f(p).max(MIN_MS)))
            .collect(),
    };
    vec![
        pick("p50", |p| p.p50_ms),
        pick("p99", |p| p.p99_ms),
        pick("max", |p| p.max_ms),
    ]
}

/// How an axis is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Linear,
    Log,
}

/// A line chart of several series.
pub struct Chart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub x_axis: Axis,
    pub y_axis: Axis,
}

impl Chart<'_> {
    pub fn draw(&self, path: &Path, series: &[Series]) -> anyhow::Result<()> {
        let points = series.iter().flat_map(|s| s.points.iter().copied());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (x, y) in points {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        if x0 > x1 {
            (x0, x1, y0, y1) = (0.0, 1.0, MIN_MS, 1.0);
        }
        let (x0, x1) = padded(x0, x1, self.x_axis);
        let (y0, y1) = padded(y0, y1, self.y_axis);

        let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60);
        match (self.x_axis, self.y_axis) {
            (Axis::Linear, Axis::Linear) => {
                let chart = builder
                    .build_cartesian_2d(x0..x1, y0..y1)
                    .map_err(plot_error)?;
                self.finish(chart, series)
            }
            (Axis::Linear, Axis::Log) => {
                let chart = builder
                    .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
                    .map_err(plot_error)?;
                self.finish(chart, series)
            }
            (Axis::Log, Axis::Linear) => {
                let chart = builder
                    .build_cartesian_2d((x0..x1).log_scale(), y0..y1)
                    .map_err(plot_error)?;
                self.finish(chart, series)
            }
            (Axis::Log, Axis::Log) => {
                let chart = builder
                    .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
                    .map_err(plot_error)?;
                self.finish(chart, series)
            }
        }?;
        root.present().map_err(plot_error)?;
        Ok(())
    }

    fn finish<'b, X, Y>(
        &self,
        mut chart: ChartContext<'b, SVGBackend<'b>, Cartesian2d<X, Y>>,
        series: &[Series],
    ) -> anyhow::Result<()>
    where
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(plot_error)?;
        for (i, s) in series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(plot_error)?
                .label(s.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(plot_error)?;
        Ok(())
    }
}

fn padded(lo: f64, hi: f64, axis: Axis) -> (f64, f64) {
    match axis {
        Axis::Log => {
            let lo = lo.max(MIN_MS);
            let hi = hi.max(lo * 2.0);
            (lo / 1.2, hi * 1.2)
        }
        Axis::Linear => {
            let span = (hi - lo).max(1e-9);
            ((lo - span * 0.02).min(0.0_f64.max(lo)), hi + span * 0.05)
        }
    }
}

fn plot_error(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("plotting failed: {e}")
}

/// The two plots of one run: `<label>-latency-over-time.svg` and
/// `<label>-latency-histogram.svg` in `dir`. Returns the files written.
pub fn run_plots(
    dir: &Path,
    label: &str,
    timeline: &[TimelinePoint],
    buckets: &[(f64, u64)],
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let over_time = dir.join(format!("{label}-latency-over-time.svg"));
    Chart {
        title: &format!("{label}: delivery latency per second"),
        x_label: "seconds since start",
        y_label: "latency (ms)",
        x_axis: Axis::Linear,
        y_axis: Axis::Log,
    }
    .draw(&over_time, &timeline_series(timeline))?;
    let histogram = dir.join(format!("{label}-latency-histogram.svg"));
    Chart {
        title: &format!("{label}: delivery latency distribution"),
        x_label: "latency (ms)",
        y_label: "% of deliveries",
        x_axis: Axis::Log,
        y_axis: Axis::Linear,
    }
    .draw(
        &histogram,
        &[Series {
            name: "deliveries".to_owned(),
            points: histogram_series(buckets),
        }],
    )?;
    Ok(vec![over_time, histogram])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_percentile_curve_climbs_to_the_resolution_of_the_sample() {
        // 90 at 1 ms, 9 at 10 ms, 1 at 100 ms.
        let curve = percentile_curve(&[(1.0, 90), (10.0, 9), (100.0, 1)]);
        assert_eq!(curve.len(), 4);
        assert_eq!(curve[0], (1.0, 1.0));
        assert!((curve[1].0 - 10.0).abs() < 1e-9, "q = 0.9 → 10");
        assert!((curve[2].0 - 100.0).abs() < 1e-6, "q = 0.99 → 100");
        assert!(
            (curve[3].0 - 100.0).abs() < 1e-6,
            "q = 1 is capped at the sample count"
        );
        assert_eq!(curve[3].1, 100.0);
        assert!(percentile_curve(&[]).is_empty());
    }

    #[test]
    fn histogram_shares_add_up_to_100() {
        let h = histogram_series(&[(0.0, 1), (2.0, 3)]);
        assert_eq!(h, vec![(MIN_MS, 25.0), (2.0, 75.0)]);
    }

    #[test]
    fn writes_svg_files_without_system_fonts() {
        let dir = tempfile::tempdir().unwrap();
        let timeline = [
            TimelinePoint {
                second: 0,
                count: 10,
                p50_ms: 1.0,
                p99_ms: 3.0,
                max_ms: 5.0,
            },
            TimelinePoint {
                second: 1,
                count: 10,
                p50_ms: 1.5,
                p99_ms: 4.0,
                max_ms: 9.0,
            },
        ];
        let files = run_plots(dir.path(), "unit", &timeline, &[(1.0, 5), (3.0, 5)]).unwrap();
        for f in files {
            let svg = std::fs::read_to_string(&f).unwrap();
            assert!(svg.starts_with("<svg"), "{}", f.display());
            assert!(svg.contains("latency"));
        }
        // Empty data still makes a (blank) chart instead of failing.
        run_plots(dir.path(), "empty", &[], &[]).unwrap();
    }
}
