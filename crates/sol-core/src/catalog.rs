//! The DCGM field catalog: every metric the tool reads, by every name it has been exported under,
//! with its field id, the unit that name carries, its kind and its tier.
//!
//! The maths asks this table what a value means; it never trusts an exporter's `# TYPE` line
//! (PROF byte rates and DEV NVLink bandwidth were long declared `counter`, which they are not).
//! Names and units: reference/dcgm-fields.md §2 (DCGM 4.6.0 aliases, 4.6.1 SI fields, exporter 4.9
//! renames). A value is converted to the quantity's base unit as soon as it is read.

use serde::{Deserialize, Serialize};

/// What kind of number a quantity is, which decides how it is validated and integrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Interval average in [0, 1] (PROF activity ratios).
    Ratio,
    /// Interval average in bytes per second (PROF PCIe/NVLink/C2C, DEV NVLink bandwidth).
    BytesPerSecond,
    /// Share of time busy in [0, 1] (legacy names report percent). A time share, never a SoL.
    BusyFraction,
    /// Monotonic counter (energy, base unit joules); resets on driver reload.
    Counter,
    /// Clock snapshot, base unit MHz.
    ClockMhz,
    /// Power, base unit watts.
    PowerW,
}

/// Which DCGM family produced a quantity: profiling (PROF, DCGM_FI_PROF_*) or device (DEV) fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldFamily {
    /// DCGM_FI_PROF_*: interval averages from the profiling module / NVML GPM.
    Prof,
    /// DCGM_FI_DEV_*: NVML device fields.
    Dev,
}

/// DCGM's storage type for a field, which decides its blank sentinels (dcgm_structs.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// 32-bit integer: blanks from 2147483632 (0x7ffffff0); 4294967295 also seen (-1 as uint32).
    Int32,
    /// 64-bit integer: blanks from 9223372036854775792 (0x7ffffffffffffff0).
    Int64,
    /// Double: blanks from 140737488355328 (2^47).
    Double,
}

impl Storage {
    /// Whether a raw value (as exported, before unit scaling) is a DCGM blank sentinel.
    pub fn is_blank(self, raw: f64) -> bool {
        raw >= self.blank_from()
    }

    /// The lowest blank sentinel of this storage: raw values from it up are blanks.
    pub fn blank_from(self) -> f64 {
        match self {
            // 4294967295 (uint32 -1) is above the int32 blank range too.
            Storage::Int32 => 2_147_483_632.0,
            // The sentinels 9223372036854775792..795 all round to 2^63 as f64.
            Storage::Int64 => 9_223_372_036_854_775_792.0,
            Storage::Double => 140_737_488_355_328.0,
        }
    }
}

/// A physical quantity the tool reads. Several metric names (and field ids) may carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// DRAM (HBM/GDDR) interface activity (1005). Hopper+: fraction of theoretical bandwidth.
    DramActive,
    /// Any tensor pipe active vs peak sustained rate at the current clock (1004).
    TensorActive,
    /// Graphics/compute engine active (1001).
    GrEngineActive,
    /// SMs with at least one warp resident (1002).
    SmActive,
    /// Resident warps / max warps (1003).
    SmOccupancy,
    /// Non-tensor FP64 pipe (1006).
    Fp64Active,
    /// FMA pipe, FP32 and integer on perfworks (1007).
    Fp32Active,
    /// Non-tensor FP16 pipe (1008) — not the tensor cores.
    Fp16Active,
    /// FP16/BF16 MMA tensor pipe (1014).
    HmmaActive,
    /// Integer tensor pipe (1013).
    ImmaActive,
    /// PCIe bytes sent by the GPU, headers included (1009).
    PcieTx,
    /// PCIe bytes received by the GPU, headers included (1010).
    PcieRx,
    /// NVLink bytes sent, all links (1011).
    NvlinkTx,
    /// NVLink bytes received, all links (1012).
    NvlinkRx,
    /// Grace↔GPU chip-to-chip payload bytes sent (1077).
    C2cTx,
    /// Grace↔GPU chip-to-chip payload bytes received (1079).
    C2cRx,
    /// DEV NVLink payload bandwidth, RX+TX over all links (449) — a rate, not a counter.
    NvlinkBandwidthTotal,
    /// SM clock (100 MHz, 1603 Hz).
    SmClock,
    /// Memory clock (101 MHz, 1604 Hz).
    MemClock,
    /// Maximum memory clock (114).
    MaxMemClock,
    /// Board power, 1 s average on Ampere+ (155).
    PowerUsage,
    /// Instantaneous board power (157); used only when 155 is absent.
    PowerInstant,
    /// Energy since driver (re)load (156 mJ, 1611 J).
    TotalEnergy,
    /// Share of time at least one kernel ran (203).
    GpuUtil,
    /// Share of time device memory was read or written (204) — not a bandwidth.
    MemCopyUtil,
}

/// One exported metric name for a quantity, with the factor that converts it to the base unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricName {
    /// Metric name as stored in Prometheus.
    pub name: &'static str,
    /// DCGM field id behind this name.
    pub field_id: u16,
    /// Multiply the exported value by this to get the quantity's base unit.
    pub scale_to_base: f64,
}

/// Catalog entry of one quantity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldSpec {
    /// The quantity.
    pub quantity: Quantity,
    /// How it is validated and integrated.
    pub kind: FieldKind,
    /// PROF or DEV.
    pub family: FieldFamily,
    /// DCGM storage type (decides the blank sentinels).
    pub storage: Storage,
    /// Every name it is exported under, preferred first.
    pub names: &'static [MetricName],
}

/// 449's unit: 1000 KiB/s (DCGM divides KiB/s by 1000), so one unit is 1 024 000 B/s.
pub const NVLINK_BANDWIDTH_UNIT_BYTES_PER_S: f64 = 1_024_000.0;

const fn name(name: &'static str, field_id: u16, scale_to_base: f64) -> MetricName {
    MetricName {
        name,
        field_id,
        scale_to_base,
    }
}

const fn spec(
    quantity: Quantity,
    kind: FieldKind,
    family: FieldFamily,
    storage: Storage,
    names: &'static [MetricName],
) -> FieldSpec {
    FieldSpec {
        quantity,
        kind,
        family,
        storage,
        names,
    }
}

use FieldFamily::{Dev, Prof};
use FieldKind::*;
use Storage::{Double, Int32, Int64};

/// The whole catalog. DCGM 4.6.0 `*_UTIL_RATIO` names keep the legacy units; the exporter 4.9
/// names of DEV fields use SI units (Hz, J, ratio, B/s) per its release notes.
pub const CATALOG: &[FieldSpec] = &[
    spec(
        Quantity::DramActive,
        Ratio,
        Prof,
        Double,
        &[
            name("DCGM_FI_PROF_DRAM_ACTIVE", 1005, 1.0),
            name("DCGM_FI_PROF_DRAM_UTIL_RATIO", 1005, 1.0),
        ],
    ),
    spec(
        Quantity::TensorActive,
        Ratio,
        Prof,
        Double,
        &[
            name("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", 1004, 1.0),
            name("DCGM_FI_PROF_TENSOR_UTIL_RATIO", 1004, 1.0),
        ],
    ),
    spec(
        Quantity::GrEngineActive,
        Ratio,
        Prof,
        Double,
        &[
            name("DCGM_FI_PROF_GR_ENGINE_ACTIVE", 1001, 1.0),
            name("DCGM_FI_PROF_GR_ENGINE_UTIL_RATIO", 1001, 1.0),
        ],
    ),
    spec(
        Quantity::SmActive,
        Ratio,
        Prof,
        Double,
        &[
            name("DCGM_FI_PROF_SM_ACTIVE", 1002, 1.0),
            name("DCGM_FI_PROF_SM_UTIL_RATIO", 1002, 1.0),
        ],
    ),
    spec(
        Quantity::SmOccupancy,
        Ratio,
        Prof,
        Double,
        &[
            name("DCGM_FI_PROF_SM_OCCUPANCY", 1003, 1.0),
            name("DCGM_FI_PROF_SM_OCCUPANCY_RATIO", 1003, 1.0),
        ],
    ),
    spec(
        Quantity::Fp64Active,
        Ratio,
        Prof,
        Double,
        &[
            name("DCGM_FI_PROF_PIPE_FP64_ACTIVE", 1006, 1.0),
            name("DCGM_FI_PROF_FP64_UTIL_RATIO", 1006, 1.0),
        ],
    ),
    spec(
        Quantity::Fp32Active,
        Ratio,
        Prof,
        Double,
        &[
            name("DCGM_FI_PROF_PIPE_FP32_ACTIVE", 1007, 1.0),
            name("DCGM_FI_PROF_FP32_UTIL_RATIO", 1007, 1.0),
        ],
    ),
    spec(
        Quantity::Fp16Active,
        Ratio,
        Prof,
        Double,
        &[
            name("DCGM_FI_PROF_PIPE_FP16_ACTIVE", 1008, 1.0),
            name("DCGM_FI_PROF_FP16_UTIL_RATIO", 1008, 1.0),
        ],
    ),
    spec(
        Quantity::HmmaActive,
        Ratio,
        Prof,
        Double,
        &[
            name("DCGM_FI_PROF_PIPE_TENSOR_HMMA_ACTIVE", 1014, 1.0),
            name("DCGM_FI_PROF_HMMA_UTIL_RATIO", 1014, 1.0),
        ],
    ),
    spec(
        Quantity::ImmaActive,
        Ratio,
        Prof,
        Double,
        &[
            name("DCGM_FI_PROF_PIPE_TENSOR_IMMA_ACTIVE", 1013, 1.0),
            name("DCGM_FI_PROF_IMMA_UTIL_RATIO", 1013, 1.0),
        ],
    ),
    spec(
        Quantity::PcieTx,
        BytesPerSecond,
        Prof,
        Int64,
        &[name("DCGM_FI_PROF_PCIE_TX_BYTES", 1009, 1.0)],
    ),
    spec(
        Quantity::PcieRx,
        BytesPerSecond,
        Prof,
        Int64,
        &[name("DCGM_FI_PROF_PCIE_RX_BYTES", 1010, 1.0)],
    ),
    spec(
        Quantity::NvlinkTx,
        BytesPerSecond,
        Prof,
        Int64,
        &[name("DCGM_FI_PROF_NVLINK_TX_BYTES", 1011, 1.0)],
    ),
    spec(
        Quantity::NvlinkRx,
        BytesPerSecond,
        Prof,
        Int64,
        &[name("DCGM_FI_PROF_NVLINK_RX_BYTES", 1012, 1.0)],
    ),
    spec(
        Quantity::C2cTx,
        BytesPerSecond,
        Prof,
        Int64,
        &[name("DCGM_FI_PROF_C2C_TX_DATA_BYTES", 1077, 1.0)],
    ),
    spec(
        Quantity::C2cRx,
        BytesPerSecond,
        Prof,
        Int64,
        &[name("DCGM_FI_PROF_C2C_RX_DATA_BYTES", 1079, 1.0)],
    ),
    spec(
        Quantity::NvlinkBandwidthTotal,
        BytesPerSecond,
        Dev,
        Int64,
        &[
            name(
                "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL",
                449,
                NVLINK_BANDWIDTH_UNIT_BYTES_PER_S,
            ),
            // exporter 4.9: "NVLink throughput from MB/s to bytes per second".
            name("DCGM_FI_DEV_NVLINK_THROUGHPUT_TOTAL", 449, 1.0),
        ],
    ),
    spec(
        Quantity::SmClock,
        ClockMhz,
        Dev,
        Int32,
        &[
            name("DCGM_FI_DEV_SM_CLOCK", 100, 1.0),
            name("DCGM_FI_DEV_SM_CLOCK_HERTZ", 1603, 1e-6),
        ],
    ),
    spec(
        Quantity::MemClock,
        ClockMhz,
        Dev,
        Int32,
        &[
            name("DCGM_FI_DEV_MEM_CLOCK", 101, 1.0),
            name("DCGM_FI_DEV_MEMORY_CLOCK_HERTZ", 1604, 1e-6),
        ],
    ),
    spec(
        Quantity::MaxMemClock,
        ClockMhz,
        Dev,
        Int32,
        &[name("DCGM_FI_DEV_MAX_MEM_CLOCK", 114, 1.0)],
    ),
    spec(
        Quantity::PowerUsage,
        PowerW,
        Dev,
        Double,
        &[
            name("DCGM_FI_DEV_POWER_USAGE", 155, 1.0),
            name("DCGM_FI_DEV_BOARD_POWER_WATTS", 155, 1.0),
        ],
    ),
    spec(
        Quantity::PowerInstant,
        PowerW,
        Dev,
        Double,
        &[
            name("DCGM_FI_DEV_POWER_USAGE_INSTANT", 157, 1.0),
            name("DCGM_FI_DEV_BOARD_POWER_RAW_WATTS", 157, 1.0),
        ],
    ),
    spec(
        Quantity::TotalEnergy,
        Counter,
        Dev,
        Int64,
        &[
            name("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", 156, 1e-3),
            name("DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL", 1611, 1.0),
        ],
    ),
    spec(
        Quantity::GpuUtil,
        BusyFraction,
        Dev,
        Int32,
        &[
            name("DCGM_FI_DEV_GPU_UTIL", 203, 0.01),
            name("DCGM_FI_DEV_GPU_UTIL_RATIO", 203, 1.0),
        ],
    ),
    spec(
        Quantity::MemCopyUtil,
        BusyFraction,
        Dev,
        Int32,
        &[name("DCGM_FI_DEV_MEM_COPY_UTIL", 204, 0.01)],
    ),
];

/// Names whose unit differs between releases that export them: the unit assumed, stated in the
/// result so a reader on the other release can correct it (reference/dcgm-fields.md §2.3).
const UNIT_ASSUMPTIONS: &[(&str, &str)] = &[
    (
        "DCGM_FI_DEV_NVLINK_THROUGHPUT_TOTAL",
        "read as bytes/s (dcgm-exporter 4.9 unit); DCGM 4.6.0 exporters that use this name carry 1000 KiB/s — multiply by 1 024 000 if so",
    ),
    (
        "DCGM_FI_DEV_GPU_UTIL_RATIO",
        "read as a 0–1 ratio (dcgm-exporter 4.9); DCGM 4.6.0 names field 203 this way in percent — such values above 1.5 are rejected",
    ),
    (
        "DCGM_FI_DEV_SM_CLOCK_HERTZ",
        "read in Hz (DCGM 4.6.1 SI field)",
    ),
    (
        "DCGM_FI_DEV_MEMORY_CLOCK_HERTZ",
        "read in Hz (DCGM 4.6.1 SI field)",
    ),
    (
        "DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL",
        "read in J (DCGM 4.6.1 SI field)",
    ),
];

/// The unit assumption behind a metric name whose unit changed between releases, if any.
pub fn unit_assumption(metric: &str) -> Option<&'static str> {
    UNIT_ASSUMPTIONS
        .iter()
        .find(|(name, _)| *name == metric)
        .map(|(_, note)| *note)
}

/// The catalog entry of a quantity.
pub fn spec_of(quantity: Quantity) -> &'static FieldSpec {
    CATALOG
        .iter()
        .find(|spec| spec.quantity == quantity)
        // invariant: CATALOG has one entry per Quantity variant (checked by a test).
        .unwrap_or(&CATALOG[0])
}

/// Finds the quantity and name entry for an exported metric name.
pub fn lookup(metric: &str) -> Option<(&'static FieldSpec, &'static MetricName)> {
    CATALOG.iter().find_map(|spec| {
        spec.names
            .iter()
            .find(|n| n.name == metric)
            .map(|n| (spec, n))
    })
}

/// Every metric name the catalog knows, for queries and scrape filtering.
pub fn all_metric_names() -> impl Iterator<Item = &'static str> {
    CATALOG
        .iter()
        .flat_map(|spec| spec.names.iter().map(|n| n.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Quantity; 25] = [
        Quantity::DramActive,
        Quantity::TensorActive,
        Quantity::GrEngineActive,
        Quantity::SmActive,
        Quantity::SmOccupancy,
        Quantity::Fp64Active,
        Quantity::Fp32Active,
        Quantity::Fp16Active,
        Quantity::HmmaActive,
        Quantity::ImmaActive,
        Quantity::PcieTx,
        Quantity::PcieRx,
        Quantity::NvlinkTx,
        Quantity::NvlinkRx,
        Quantity::C2cTx,
        Quantity::C2cRx,
        Quantity::NvlinkBandwidthTotal,
        Quantity::SmClock,
        Quantity::MemClock,
        Quantity::MaxMemClock,
        Quantity::PowerUsage,
        Quantity::PowerInstant,
        Quantity::TotalEnergy,
        Quantity::GpuUtil,
        Quantity::MemCopyUtil,
    ];

    #[test]
    fn one_entry_per_quantity_and_names_are_unique() {
        for quantity in ALL {
            assert_eq!(
                CATALOG.iter().filter(|s| s.quantity == quantity).count(),
                1,
                "{quantity:?}"
            );
        }
        assert_eq!(CATALOG.len(), ALL.len());
        let mut names: Vec<_> = all_metric_names().collect();
        let total = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), total, "a metric name is listed twice");
    }

    #[test]
    fn units_follow_the_name_not_the_magnitude() {
        // 449 legacy: 200 000 units of 1000 KiB/s = 200 000 × 1 024 000 B/s = 2.048e11 B/s.
        let (spec, legacy) = lookup("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL").unwrap();
        assert_eq!(spec.kind, FieldKind::BytesPerSecond);
        assert_eq!(200_000.0 * legacy.scale_to_base, 2.048e11);
        // Energy: 156 is mJ, 1611 is J.
        assert_eq!(
            lookup("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION")
                .unwrap()
                .1
                .scale_to_base,
            1e-3
        );
        assert_eq!(
            lookup("DCGM_FI_DEV_GPU_ENERGY_JOULES_TOTAL")
                .unwrap()
                .1
                .scale_to_base,
            1.0
        );
        // GPU_UTIL percent vs ratio; SM clock MHz vs Hz (1.98e9 Hz = 1980 MHz).
        assert_eq!(
            lookup("DCGM_FI_DEV_GPU_UTIL").unwrap().1.scale_to_base,
            0.01
        );
        assert_eq!(
            lookup("DCGM_FI_DEV_SM_CLOCK_HERTZ")
                .unwrap()
                .1
                .scale_to_base
                * 1.98e9,
            1980.0
        );
        // PROF byte rates are gauges in B/s whatever the exporter's TYPE line says.
        assert_eq!(
            lookup("DCGM_FI_PROF_NVLINK_TX_BYTES").unwrap().0.kind,
            FieldKind::BytesPerSecond
        );
        assert_eq!(
            lookup("DCGM_FI_DEV_FB_USED"),
            None,
            "capacity is never a bandwidth source"
        );
    }

    #[test]
    fn blank_sentinels_by_storage() {
        assert!(Storage::Int64.is_blank("9223372036854775794".parse().unwrap()));
        assert!(!Storage::Int64.is_blank(5_551_899_580.0));
        assert!(Storage::Int32.is_blank(4_294_967_295.0));
        assert!(Storage::Int32.is_blank(2_147_483_632.0));
        assert!(!Storage::Int32.is_blank(1980.0));
        assert!(Storage::Double.is_blank(140_737_488_355_328.0));
        assert!(!Storage::Double.is_blank(0.929_26));
    }
}
