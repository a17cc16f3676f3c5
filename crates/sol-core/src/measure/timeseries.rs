//! Workload-level time series: the mean over reporting GPUs at each scrape, for charts and for
//! steady-state detection.

use crate::assemble::Assembly;
use crate::catalog::Quantity;
use crate::integrate::{Span, series_spans, value_at};
use crate::window::Window;

/// Longest series kept; longer ones are averaged into buckets.
pub const MAX_POINTS: usize = 600;

/// `[t_s, mean]` at every distinct sample time in `(start, end + interval]`, averaging the GPUs
/// whose spans cover that time.
pub fn points_from_spans(per_gpu: &[Vec<Span>], window: &Window, interval_s: f64) -> Vec<[f64; 2]> {
    points_in(per_gpu, window.start_s, window.end_s + interval_s)
}

fn points_in(per_gpu: &[Vec<Span>], from_s: f64, to_s: f64) -> Vec<[f64; 2]> {
    let mut times: Vec<f64> = per_gpu
        .iter()
        .flatten()
        .map(|span| span.end_s)
        .filter(|t| *t > from_s && *t <= to_s)
        .collect();
    times.sort_by(f64::total_cmp);
    times.dedup_by(|a, b| (*a - *b).abs() < 1e-3);
    let points: Vec<[f64; 2]> = times
        .into_iter()
        .filter_map(|t| {
            let values: Vec<f64> = per_gpu
                .iter()
                .filter_map(|spans| value_at(spans, t))
                .collect();
            (!values.is_empty()).then(|| [t, values.iter().sum::<f64>() / values.len() as f64])
        })
        .collect();
    downsample(points)
}

fn quantity_spans(assembly: &Assembly, quantity: Quantity, interval_s: f64) -> Vec<Vec<Span>> {
    assembly
        .gpus
        .iter()
        .filter_map(|g| g.quantities.get(&quantity))
        .map(|samples| series_spans(samples, interval_s))
        .collect()
}

/// The workload series of one quantity straight from the assembly.
pub fn workload_points(
    assembly: &Assembly,
    quantity: Quantity,
    window: &Window,
    interval_s: f64,
) -> Vec<[f64; 2]> {
    points_from_spans(
        &quantity_spans(assembly, quantity, interval_s),
        window,
        interval_s,
    )
}

/// The workload series of one quantity at every sample time in `(from_s, to_s]`, window or not.
pub fn workload_points_between(
    assembly: &Assembly,
    quantity: Quantity,
    from_s: f64,
    to_s: f64,
    interval_s: f64,
) -> Vec<[f64; 2]> {
    points_in(
        &quantity_spans(assembly, quantity, interval_s),
        from_s,
        to_s,
    )
}

/// Shifts times to seconds since `origin_s`.
pub fn relative_to(points: &[[f64; 2]], origin_s: f64) -> Vec<[f64; 2]> {
    points.iter().map(|[t, v]| [t - origin_s, *v]).collect()
}

fn downsample(points: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    if points.len() <= MAX_POINTS {
        return points;
    }
    let bucket = points.len().div_ceil(MAX_POINTS);
    points
        .chunks(bucket)
        .map(|chunk| {
            let n = chunk.len() as f64;
            [
                chunk.iter().map(|p| p[0]).sum::<f64>() / n,
                chunk.iter().map(|p| p[1]).sum::<f64>() / n,
            ]
        })
        .collect()
}
