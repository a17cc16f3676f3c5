//! Our numbers in the shape an llm-d Benchmark Report v0.2 keeps under `results.observability`:
//! per resource the %SoL with its ceiling key and tier, the window, energy per token and the
//! next lever, pointing back at the result file they come from.

use serde_json::{Value, json};

use super::Correlation;

/// The `results.observability` value for one cell's result, stored at `result_path`.
pub fn llmd_observability(result: &Correlation, result_path: &str) -> Value {
    let resources: Vec<Value> = result
        .resources
        .iter()
        .map(|row| {
            json!({
                "resource": row.resource.key(),
                "tier": row.tier,
                "sol_pct": row.sol_pct,
                "steady_state_sol_pct": row.steady_state_sol_pct,
                "busy_time_upper_bound_pct": row.busy_time_upper_bound_pct,
                "ceiling_key": row.ceiling,
                "measured_bytes_per_s_per_gpu": row.measured_bytes_per_s,
                "measured_tflops_per_gpu": row.measured_tflops_avg,
                "coverage_pct": row.coverage_pct,
            })
        })
        .collect();
    json!({
        "dcgm_sol": {
            "tool": format!("{} {}", result.tool.name, result.tool.version),
            "source": result_path,
            "hw_key": result.hw_key,
            "n_gpus": result.n_gpus,
            "window": {
                "start_utc": result.window.start_utc,
                "end_utc": result.window.end_utc,
                "confidence": result.window.confidence,
                "source": result.window.source,
            },
            "sol_rigor": result.sol_rigor,
            "resources": resources,
            "joules_per_output_token": result.energy.joules_per_output_token,
            "verdict": result.next_lever.verdict,
            "next_lever": result.next_lever.frontier.first().map(|l| &l.lever),
            "warnings": result.warnings,
        }
    })
}
