//! Activity context: quantities that describe how busy the GPU was without being a speed of light
//! (SM active/occupancy, engine active, non-tensor pipes, NVML busy shares, clocks).

use serde::{Deserialize, Serialize};

use super::gpu_series::GpuSeries;
use crate::catalog::{self, FieldKind, Quantity};
use crate::window::Window;

/// Quantities reported as activity context, in report order.
pub const ACTIVITY_QUANTITIES: [Quantity; 12] = [
    Quantity::GrEngineActive,
    Quantity::SmActive,
    Quantity::SmOccupancy,
    Quantity::HmmaActive,
    Quantity::ImmaActive,
    Quantity::Fp16Active,
    Quantity::Fp32Active,
    Quantity::Fp64Active,
    Quantity::GpuUtil,
    Quantity::MemCopyUtil,
    Quantity::SmClock,
    Quantity::MemClock,
];

/// One GPU's mean of an activity quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuActivity {
    /// GPU display name (`host/UUID`).
    pub gpu: String,
    /// Mean over covered time, base unit.
    pub mean: f64,
    /// Covered share of the window, 0..1.
    pub coverage: f64,
}

/// One activity quantity across the GPUs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityMeasurement {
    /// The quantity.
    pub quantity: Quantity,
    /// Ratio, busy fraction or clock.
    pub kind: FieldKind,
    /// Mean of the per-GPU means (base unit: 0..1 or MHz).
    pub mean: f64,
    /// Per GPU.
    pub per_gpu: Vec<GpuActivity>,
}

pub(super) fn measure_activity(gpus: &[GpuSeries], window: &Window) -> Vec<ActivityMeasurement> {
    ACTIVITY_QUANTITIES
        .iter()
        .filter_map(|&quantity| {
            let per_gpu: Vec<GpuActivity> = gpus
                .iter()
                .filter_map(|gpu| {
                    let result = gpu.spans(quantity)?.integrate(window.start_s, window.end_s);
                    Some(GpuActivity {
                        gpu: gpu.gpu.key.display_name(),
                        mean: result.mean()?,
                        coverage: result.covered_s / window.duration_s(),
                    })
                })
                .collect();
            (!per_gpu.is_empty()).then(|| ActivityMeasurement {
                quantity,
                kind: catalog::spec_of(quantity).kind,
                mean: per_gpu.iter().map(|g| g.mean).sum::<f64>() / per_gpu.len() as f64,
                per_gpu,
            })
        })
        .collect()
}
