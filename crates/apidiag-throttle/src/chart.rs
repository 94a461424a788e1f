//! Latency over time per user agent, as the terminal and the HTML page draw it.
//!
//! The engine keeps, per agent and bin, the number of timed calls, their sum and
//! their maximum (a P99 per bin would need a histogram per cell, which a
//! bounded table cannot afford); the chart shows the mean per bin, as the
//! guide's "average latency per user agent in 5-minute bins" query does, and the
//! peak next to it. Long spans are merged into at most [`MAX_CELLS`] columns so a
//! line fits a terminal: a merged cell is the call-weighted mean of its bins.

use std::time::Duration;

use apidiag_audit::{AgentBins, Micros};

/// Columns of a terminal sparkline.
pub const MAX_CELLS: usize = 60;

/// Sparkline levels, lowest first.
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One column of a chart.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cell {
    /// Start of the first bin in the cell.
    pub start: Micros,
    /// Timed calls (watches and other long-running calls are not timed).
    pub timed: u64,
    /// Mean latency of the timed calls; `None` when there were none.
    pub mean: Option<Duration>,
    /// Largest latency.
    pub max: Duration,
}

/// An agent's latency over time, merged to at most `width` cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub user_agent: String,
    pub cells: Vec<Cell>,
    /// How many engine bins one cell merges.
    pub bins_per_cell: usize,
}

impl Series {
    /// Merges `agent`'s bins into at most `width` cells.
    pub fn of(agent: &AgentBins, width: usize) -> Self {
        let per = agent.bins.len().div_ceil(width.max(1)).max(1);
        let cells = agent
            .bins
            .chunks(per)
            .map(|chunk| {
                let timed: u64 = chunk.iter().map(|b| b.timed).sum();
                let sum: f64 = chunk
                    .iter()
                    .map(|b| b.mean.as_secs_f64() * b.timed as f64)
                    .sum();
                Cell {
                    start: chunk.first().map_or(0, |b| b.start),
                    timed,
                    mean: (timed > 0).then(|| Duration::from_secs_f64(sum / timed as f64)),
                    max: chunk.iter().map(|b| b.max).max().unwrap_or_default(),
                }
            })
            .collect();
        Series {
            user_agent: agent.user_agent.clone(),
            cells,
            bins_per_cell: per,
        }
    }

    /// The highest mean of any cell.
    pub fn peak_mean(&self) -> Duration {
        self.cells
            .iter()
            .filter_map(|c| c.mean)
            .max()
            .unwrap_or_default()
    }

    /// The largest single latency.
    pub fn max(&self) -> Duration {
        self.cells.iter().map(|c| c.max).max().unwrap_or_default()
    }
}

/// One character per cell against a shared `scale` (so rows compare): a space
/// where no call was timed, `▁` for the lowest eighth up to `█` at the scale.
pub fn sparkline(cells: &[Cell], scale: Duration) -> String {
    let top = scale.as_secs_f64();
    cells
        .iter()
        .map(|cell| match cell.mean {
            None => ' ',
            Some(_) if top <= 0.0 => LEVELS[0],
            Some(mean) => {
                let level = (mean.as_secs_f64() / top * LEVELS.len() as f64).ceil() as usize;
                LEVELS[level.clamp(1, LEVELS.len()) - 1]
            }
        })
        .collect()
}

/// A latency for people: `850µs`, `12.3ms`, `1.25s`.
pub fn latency(d: Duration) -> String {
    let us = d.as_micros();
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1_000.0)
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}

/// A bin width for people: `5m`, `90s`, `1h`.
pub fn bin_width(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else if s > 0 {
        format!("{s}s")
    } else {
        latency(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apidiag_audit::Bin;

    fn bin(start: Micros, timed: u64, mean_ms: u64) -> Bin {
        Bin {
            start,
            requests: timed,
            timed,
            mean: Duration::from_millis(mean_ms),
            max: Duration::from_millis(mean_ms * 2),
        }
    }

    #[test]
    fn sparkline_scales_to_the_shared_peak_and_shows_quiet_bins() {
        let agent = AgentBins {
            user_agent: "a".into(),
            bins: vec![bin(0, 1, 10), bin(1, 0, 0), bin(2, 4, 80), bin(3, 2, 40)],
        };
        let series = Series::of(&agent, MAX_CELLS);
        assert_eq!(series.cells.len(), 4);
        assert_eq!(series.peak_mean(), Duration::from_millis(80));
        assert_eq!(sparkline(&series.cells, series.peak_mean()), "▁ █▄");
        // Against a scale twice as high, the same agent draws at half height.
        assert_eq!(sparkline(&series.cells, Duration::from_millis(160)), "▁ ▄▂");
        assert_eq!(sparkline(&[], Duration::ZERO), "");
    }

    #[test]
    fn long_spans_merge_into_weighted_cells() {
        let bins: Vec<Bin> = (0..300)
            .map(|i| bin(i, 1 + (i as u64 % 2), 10 * (i as u64 % 2) + 10))
            .collect();
        let series = Series::of(
            &AgentBins {
                user_agent: "a".into(),
                bins,
            },
            MAX_CELLS,
        );
        assert_eq!(series.cells.len(), 60);
        assert_eq!(series.bins_per_cell, 5);
        // Bins of 1 call at 10 ms and 2 calls at 20 ms alternate: 5 bins hold
        // 3×10 ms + 2×2×20 ms over 7 calls, or 2×10 + 3×2×20 over 8.
        let first = series.cells[0];
        assert_eq!(first.timed, 7);
        assert_eq!(first.mean.map(|d| d.as_micros()), Some(110_000 / 7));
        assert_eq!(first.max, Duration::from_millis(40));
        assert_eq!(series.cells[1].start, 5);
    }

    #[test]
    fn latencies_read_well() {
        assert_eq!(latency(Duration::from_micros(850)), "850µs");
        assert_eq!(latency(Duration::from_micros(12_340)), "12.3ms");
        assert_eq!(latency(Duration::from_millis(1_250)), "1.25s");
        assert_eq!(bin_width(Duration::from_secs(300)), "5m");
        assert_eq!(bin_width(Duration::from_secs(90)), "90s");
        assert_eq!(bin_width(Duration::from_secs(7200)), "2h");
    }
}
