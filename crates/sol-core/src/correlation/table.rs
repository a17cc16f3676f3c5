//! The human-readable %SoL table printed by `correlate` and `fold`.

use std::fmt::Write;

use super::schema::Correlation;
use crate::measure::Tier;

fn cell(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_string(), |v| format!("{v:.1}"))
}

/// Renders one cell's result as a compact text table with its caveats.
pub fn render_table(c: &Correlation) -> String {
    let mut out = String::new();
    let ctx = &c.context;
    let _ = writeln!(
        out,
        "cell {} · {} · {} GPUs ({}) · {} → {} ({:.0} s, {:?}) · concurrency {}",
        c.cell_id,
        c.hw_key,
        c.n_gpus,
        c.gpus.expected_source,
        c.window.start_utc,
        c.window.end_utc,
        c.duration_s,
        c.window.confidence,
        ctx.concurrency.map_or("?".to_string(), |n| n.to_string()),
    );
    let refresh = c.exporter_update_interval_s.map_or(String::new(), |u| {
        format!(" · exporter refresh {u:.0} s (values held across scrapes, integrated once each)")
    });
    let _ = writeln!(
        out,
        "  scrape interval {:.1} s{refresh}",
        c.scrape_interval_s
    );
    let _ = writeln!(
        out,
        "  {:<7} {:<7} {:>7} {:>11} {:>8} {:>8} {:>9}  ceiling",
        "resource", "tier", "%SoL", "bounds", "steady", "cover%", "gpu lo/hi"
    );
    for row in &c.resources {
        let value = match row.tier {
            Tier::Counter if row.busy_time_upper_bound_pct.is_some() => {
                format!("≤{}", cell(row.busy_time_upper_bound_pct))
            }
            _ => cell(row.sol_pct),
        };
        let bounds = row
            .sol_pct_bounds
            .map_or("—".to_string(), |[lo, hi]| format!("{lo:.1}–{hi:.1}"));
        let spread = row.spread.as_ref().map_or("—".to_string(), |s| {
            format!("{:.0}/{:.0}", s.min_pct, s.max_pct)
        });
        let _ = writeln!(
            out,
            "  {:<7} {:<7} {:>7} {:>11} {:>8} {:>8.1} {:>9}  {}",
            row.resource.label(),
            format!("{:?}", row.tier).to_lowercase(),
            value,
            bounds,
            cell(row.steady_state_sol_pct),
            row.coverage_pct,
            spread,
            row.ceiling
        );
    }
    if let Some(j) = c.energy.energy_j_total {
        let energy = if j >= 1000.0 {
            format!("{:.1} kJ", j / 1000.0)
        } else {
            format!("{j:.1} J")
        };
        let _ = writeln!(
            out,
            "  energy {energy} ({}) · {} W/GPU · {} tokens/J",
            c.energy.energy_source.as_deref().unwrap_or("?"),
            c.energy
                .mean_power_w_per_gpu
                .map_or("—".to_string(), |w| format!("{w:.0}")),
            c.energy
                .tokens_per_joule
                .map_or("—".to_string(), |t| format!("{t:.3}"))
        );
    }
    let _ = writeln!(out, "  verdict: {}", c.next_lever.verdict);
    if let Some(first) = c.next_lever.frontier.first() {
        let _ = writeln!(out, "  next lever: {} — gate: {}", first.lever, first.gate);
    }
    for warning in &c.warnings {
        let _ = writeln!(out, "  ! {warning}");
    }
    for row in &c.resources {
        for note in row
            .notes
            .iter()
            .filter(|n| n.contains("GPUs have invalid PROF data"))
        {
            let _ = writeln!(out, "  ! {}: {note}", row.resource.label());
        }
    }
    let _ = writeln!(
        out,
        "  (gpu lo/hi: lowest and highest per-GPU mean over covered time, % of peak)"
    );
    out
}
