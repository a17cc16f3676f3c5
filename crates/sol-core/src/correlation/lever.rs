//! The next-lever frontier: deterministic rules that read the bounding resource and the context
//! and propose what to try next, each stated as a hypothesis with the re-measured number (the
//! gate) that proves or refutes it.

use super::schema::{Lever, NextLever, ResourceRow};
use crate::context::Context;
use crate::measure::{Resource, Tier};
use crate::steady::SteadyState;

/// Above this %SoL a resource is treated as the bound.
const BOUND_PCT: f64 = 60.0;
/// Below this on every resource the cell is under-utilised (latency/launch/load bound).
const UNDERUSED_PCT: f64 = 30.0;
/// A link above this share of its ceiling is a plausible secondary bound.
const LINK_NOTICEABLE_PCT: f64 = 25.0;

fn steady_or_full(row: &ResourceRow) -> Option<f64> {
    row.steady_state_sol_pct.or(row.sol_pct)
}

fn is_low_precision(quant: Option<&str>) -> bool {
    quant.is_some_and(|q| {
        let q = q.to_ascii_lowercase();
        q.contains("fp8") || q.contains("fp4") || q.contains("int8") || q.contains("w8a8")
    })
}

struct Builder {
    levers: Vec<Lever>,
}

impl Builder {
    fn push(
        &mut self,
        lever: &str,
        direction: &str,
        expected_unlock: &str,
        gate: &str,
        rationale: String,
    ) {
        self.levers.push(Lever {
            rank: u32::try_from(self.levers.len() + 1).unwrap_or(u32::MAX),
            lever: lever.to_string(),
            direction: direction.to_string(),
            expected_unlock: expected_unlock.to_string(),
            gate: gate.to_string(),
            rationale,
        });
    }
}

pub(super) fn next_lever(
    rows: &[ResourceRow],
    context: &Context,
    warnings: &[String],
    steady: &SteadyState,
) -> NextLever {
    let prof: Vec<&ResourceRow> = rows
        .iter()
        .filter(|r| r.tier == Tier::Prof && steady_or_full(r).is_some())
        .collect();
    let basis = if steady.detected && prof.iter().any(|r| r.steady_state_sol_pct.is_some()) {
        "steady state"
    } else {
        "full window"
    };
    let bounding = prof.iter().copied().max_by(|a, b| {
        steady_or_full(a)
            .unwrap_or(0.0)
            .total_cmp(&steady_or_full(b).unwrap_or(0.0))
    });
    let pct_of = |resource: Resource| {
        prof.iter()
            .find(|r| r.resource == resource)
            .and_then(|r| steady_or_full(r))
    };
    let mut b = Builder { levers: Vec::new() };

    let hygiene = warnings.iter().any(|w| {
        w.starts_with("UNSTEADY")
            || w.starts_with("SHORT WINDOW")
            || w.starts_with("LOW COVERAGE")
            || w.starts_with("FEW SAMPLES")
    });
    if hygiene {
        b.push(
            "Re-measure on a longer steady window (num_prompts ≥ 2 × concurrency, window ≥ min_sweep_seconds, exporter -c 1000 for short cells)",
            "measurement quality",
            "removes ramp/drain and edge bias before any tuning decision",
            "steady-state %SoL within 2 percentage points of the full-window %SoL, coverage ≥ 95 %",
            "a window warning fired: the numbers below are not yet a stable basis".to_string(),
        );
    }

    let Some(bound) = bounding else {
        b.push(
            "Export DCGM profiling fields (DCGM_FI_PROF_DRAM_ACTIVE, PIPE_TENSOR_ACTIVE, NVLINK/PCIE_*_BYTES)",
            "instrumentation",
            "turns busy-time bounds into byte-grounded %SoL",
            "dcgm_group_level becomes `prof` on the next correlate",
            "no PROF row produced a %SoL".to_string(),
        );
        return NextLever {
            bounding_resource: None,
            bounding_sol_pct: None,
            basis: basis.to_string(),
            verdict: "not PROF-grounded: no speed-of-light reading".to_string(),
            frontier: b.levers,
        };
    };
    let bound_pct = steady_or_full(bound).unwrap_or(0.0);
    let concurrency = context
        .concurrency
        .map_or("the current".to_string(), |c| c.to_string());
    let verdict = if bound_pct < UNDERUSED_PCT {
        format!(
            "under-utilised: every resource below {UNDERUSED_PCT:.0} % of its ceiling (highest {} at {bound_pct:.1} %)",
            bound.resource.label()
        )
    } else if bound_pct >= BOUND_PCT {
        format!(
            "{}-bound at {bound_pct:.1} % of {} ({basis})",
            bound.resource.label(),
            bound.ceiling
        )
    } else {
        format!(
            "no resource saturated: {} leads at {bound_pct:.1} % of {} ({basis}); latency, scheduling or load keep it below {BOUND_PCT:.0} %",
            bound.resource.label(),
            bound.ceiling
        )
    };

    if bound_pct < UNDERUSED_PCT {
        b.push(
            "Raise the load (concurrency / max_num_seqs) or remove launch overhead (CUDA graphs, larger decode batches)",
            "increase",
            "HBM %SoL should rise roughly with batch size until ~60–80 %",
            &format!("at higher concurrency than {concurrency}: HBM %SoL and output tokens/s both rise; if tokens/s stays flat the limit is host/scheduler side"),
            format!("the highest resource reads only {bound_pct:.1} %"),
        );
    }
    match bound.resource {
        Resource::Hbm => {
            if context
                .kv_cache_dtype
                .as_deref()
                .is_none_or(|d| !d.to_ascii_lowercase().contains("fp8"))
            {
                let lever = if context.kv_cache_dtype.is_none() {
                    "FP8 KV cache (--kv-cache-dtype fp8) — the bench context does not record the KV dtype; skip if already FP8"
                } else {
                    "FP8 KV cache (--kv-cache-dtype fp8)"
                };
                b.push(
                    lever,
                    "fewer bytes per token",
                    "KV reads halve: up to ~1.3–1.8× decode tokens/s at long contexts",
                    "HBM bytes per output token fall; HBM %SoL stays similar while output tokens/s rises",
                    format!("HBM is the bound at {bound_pct:.1} % and the KV cache is not FP8"),
                );
            }
            if !is_low_precision(context.quant.as_deref()) {
                b.push(
                    "FP8 (or FP4 where the GPU has it) weights",
                    "fewer bytes per token",
                    "weight reads halve: up to ~1.5–2× decode tokens/s",
                    "HBM bytes per output token fall by ~2×; quality eval unchanged within tolerance",
                    "HBM-bound with 16-bit weights".to_string(),
                );
            }
            if bound_pct < 80.0 {
                b.push(
                    "Larger decode batches (raise concurrency / max_num_seqs)",
                    "increase",
                    "weight reads amortise over more tokens until HBM nears ~80–90 %",
                    &format!("HBM %SoL rises above {bound_pct:.0} % and output tokens/s rises at the next concurrency step"),
                    format!("HBM at {bound_pct:.1} % still has headroom"),
                );
            } else {
                b.push(
                    "Speculative decoding (draft model or n-gram/EAGLE)",
                    "fewer weight passes per token",
                    "1.5–2.5× tokens per weight pass when acceptance is high",
                    "output tokens/s rises at equal HBM %SoL; acceptance rate ≥ 0.6",
                    format!("HBM is near its ceiling ({bound_pct:.1} %): only fewer bytes per token help"),
                );
            }
        }
        Resource::Tensor => {
            if !is_low_precision(context.quant.as_deref()) {
                b.push(
                    "Lower-precision GEMMs (FP8; FP4 on Blackwell)",
                    "higher peak",
                    "tensor peak doubles per precision step",
                    "tensor %SoL against the new precision's peak and tokens/s; prefill latency falls",
                    format!("tensor-bound at {bound_pct:.1} % in 16-bit"),
                );
            }
            b.push(
                "Kernel efficiency (tile shapes, fused attention, CUTLASS/cuBLASLt autotuning)",
                "raise achieved FLOPs",
                "tile-quantisation and epilogue waste: typically 5–20 %",
                "tensor %SoL rises at equal tokens; ncu sm__pipe_tensor_op throughput confirms (L4)",
                "compute is the bound".to_string(),
            );
        }
        Resource::Nvlink => {
            b.push(
                "Less tensor parallelism (e.g. TP 8 → TP 4 × DP 2) if the model fits",
                "less communication",
                "all-reduce bytes per token fall ~2× per halving of TP",
                "NVLink %SoL falls and output tokens/s per GPU rises at equal latency SLO",
                format!("NVLink is the bound at {bound_pct:.1} %"),
            );
            b.push(
                "Overlap communication with compute (async TP / fused all-reduce kernels)",
                "hide communication",
                "up to the communication share of step time",
                "tokens/s rises at equal NVLink bytes per token",
                "collectives on the critical path".to_string(),
            );
        }
        Resource::Pcie | Resource::C2c => {
            b.push(
                "Keep data on the GPU (no CPU KV offload/swap, pinned and batched host transfers)",
                "fewer host transfers",
                "removes host-link stalls",
                &format!("{} %SoL falls and tokens/s rises", bound.resource.label()),
                format!("the host link is the busiest resource at {bound_pct:.1} %"),
            );
        }
    }
    if bound.resource != Resource::Nvlink
        && pct_of(Resource::Nvlink).is_some_and(|p| p >= LINK_NOTICEABLE_PCT)
    {
        b.push(
            "Check tensor-parallel communication next (TP degree, all-reduce overlap)",
            "secondary",
            "matters once the primary bound moves",
            "NVLink %SoL after the primary lever lands",
            format!(
                "NVLink already at {:.1} %",
                pct_of(Resource::Nvlink).unwrap_or(0.0)
            ),
        );
    }
    NextLever {
        bounding_resource: Some(bound.resource),
        bounding_sol_pct: Some(bound_pct),
        basis: basis.to_string(),
        verdict,
        frontier: b.levers,
    }
}
