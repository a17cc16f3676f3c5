//! The ceilings data model: hardware rows, their peaks, and the file-level settings.

use std::collections::BTreeMap;

use serde::Serialize;

use super::precision::Precision;

/// A value with the source it was taken from (the `source:` field or the line comment in the
/// ceilings file; `None` when the file gives none).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Where the value comes from, as written in the file (source tags resolve through
    /// [`super::Ceilings::sources`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Units a peak is written in. Bandwidths are decimal SI (1 GB/s = 1e9 B/s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PeakUnits {
    /// Terabytes per second.
    #[serde(rename = "TB/s")]
    TbPerS,
    /// Gigabytes per second.
    #[serde(rename = "GB/s")]
    GbPerS,
    /// 1e15 floating-point operations per second.
    #[serde(rename = "PFLOPS")]
    Pflops,
    /// 1e12 floating-point operations per second.
    #[serde(rename = "TFLOPS")]
    Tflops,
    /// 1e15 integer operations per second.
    #[serde(rename = "POPS")]
    Pops,
    /// 1e12 integer operations per second.
    #[serde(rename = "TOPS")]
    Tops,
}

impl PeakUnits {
    /// Reads a units string (`TB/s`, `gb/s`, `PFLOPS`, `TFLOP/s`, `TOPS`…), case-insensitive.
    pub fn parse(text: &str) -> Option<PeakUnits> {
        match text.trim().to_ascii_lowercase().as_str() {
            "tb/s" | "tbps" => Some(PeakUnits::TbPerS),
            "gb/s" | "gbps" => Some(PeakUnits::GbPerS),
            "pflops" | "pflop/s" => Some(PeakUnits::Pflops),
            "tflops" | "tflop/s" => Some(PeakUnits::Tflops),
            "pops" | "pop/s" => Some(PeakUnits::Pops),
            "tops" | "top/s" => Some(PeakUnits::Tops),
            _ => None,
        }
    }

    /// The canonical label (`TB/s`, `PFLOPS`, …).
    pub fn label(self) -> &'static str {
        match self {
            PeakUnits::TbPerS => "TB/s",
            PeakUnits::GbPerS => "GB/s",
            PeakUnits::Pflops => "PFLOPS",
            PeakUnits::Tflops => "TFLOPS",
            PeakUnits::Pops => "POPS",
            PeakUnits::Tops => "TOPS",
        }
    }

    /// Base units (B/s, FLOP/s or op/s) in one of these units.
    pub fn base_per_unit(self) -> f64 {
        match self {
            PeakUnits::TbPerS | PeakUnits::Tflops | PeakUnits::Tops => 1e12,
            PeakUnits::GbPerS => 1e9,
            PeakUnits::Pflops | PeakUnits::Pops => 1e15,
        }
    }

    /// True for byte rates.
    pub fn is_bandwidth(self) -> bool {
        matches!(self, PeakUnits::TbPerS | PeakUnits::GbPerS)
    }
}

/// What a peak is the ceiling of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeakRole {
    /// Device memory bandwidth (HBM or GDDR).
    HbmBandwidth,
    /// NVLink bandwidth, both directions added.
    NvlinkBandwidth,
    /// PCIe bandwidth, both directions added.
    PcieBandwidth,
    /// NVLink-C2C (Grace ↔ GPU) bandwidth, both directions added.
    C2cBandwidth,
    /// Dense tensor-core throughput for one precision.
    TensorCompute,
    /// Non-tensor (CUDA-core) throughput.
    VectorCompute,
    /// Anything else; kept and shown, never used by the maths.
    Other,
}

impl PeakRole {
    /// Every role, in display order.
    pub const ALL: [PeakRole; 7] = [
        PeakRole::HbmBandwidth,
        PeakRole::NvlinkBandwidth,
        PeakRole::PcieBandwidth,
        PeakRole::C2cBandwidth,
        PeakRole::TensorCompute,
        PeakRole::VectorCompute,
        PeakRole::Other,
    ];

    /// The name used in ceilings files (`hbm_bandwidth`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            PeakRole::HbmBandwidth => "hbm_bandwidth",
            PeakRole::NvlinkBandwidth => "nvlink_bandwidth",
            PeakRole::PcieBandwidth => "pcie_bandwidth",
            PeakRole::C2cBandwidth => "c2c_bandwidth",
            PeakRole::TensorCompute => "tensor_compute",
            PeakRole::VectorCompute => "vector_compute",
            PeakRole::Other => "other",
        }
    }

    /// Reads a `role:` value.
    pub fn parse(text: &str) -> Option<PeakRole> {
        let text = text.trim().to_ascii_lowercase();
        PeakRole::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// True for links whose DCGM bytes come as a TX and an RX series (per-direction peaks apply).
    pub fn is_link(self) -> bool {
        matches!(
            self,
            PeakRole::NvlinkBandwidth | PeakRole::PcieBandwidth | PeakRole::C2cBandwidth
        )
    }

    /// True for byte-rate roles.
    pub fn is_bandwidth(self) -> bool {
        self == PeakRole::HbmBandwidth || self.is_link()
    }

    /// True for operation-rate roles.
    pub fn is_compute(self) -> bool {
        matches!(self, PeakRole::TensorCompute | PeakRole::VectorCompute)
    }
}

/// One per-GPU peak of a hardware row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Peak {
    /// Peak key within the row (`hbm3e_tbps`); a %SoL names its ceiling `<hw_key>.<key>`.
    pub key: String,
    /// Other keys that name this peak (`hbm_tbps`, `bf16_dense_tflops`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Peak per GPU, in `units`. Links: both directions added.
    pub value: f64,
    /// Units of `value` and `per_direction`.
    pub units: PeakUnits,
    /// Per-direction value of a link, in `units`, when the file gives one (else half of `value`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_direction: Option<f64>,
    /// What the peak is the ceiling of.
    pub role: PeakRole,
    /// Precision of a compute peak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dtype: Option<Precision>,
    /// DCGM field the file maps this peak to (informational; the maths uses the field catalog).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dcgm_metric: Option<String>,
    /// DCGM byte-rate fields (TX, RX) the file maps this peak to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dcgm_metrics_bytes: Vec<String>,
    /// Unit of `dcgm_metric` as the file states it (`ratio`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dcgm_unit: Option<String>,
    /// DCGM field the file names as a fallback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dcgm_fallback_metric: Option<String>,
    /// Where the number comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The file lists the number among its weak values (a runtime query should replace it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub weak: bool,
}

impl Peak {
    /// The peak in base units: B/s for bandwidth, FLOP/s or op/s for compute.
    pub fn value_base(&self) -> f64 {
        self.value * self.units.base_per_unit()
    }

    /// One direction of a link in B/s (the given per-direction value, else half the
    /// bidirectional one); `None` for peaks that are not links.
    pub fn per_direction_base(&self) -> Option<f64> {
        self.role
            .is_link()
            .then(|| self.per_direction.unwrap_or(self.value / 2.0) * self.units.base_per_unit())
    }

    /// The units label (`TB/s`, `PFLOPS`, …).
    pub fn units_label(&self) -> &'static str {
        self.units.label()
    }

    /// True when `name` is this peak's key or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        self.key == name || self.aliases.iter().any(|alias| alias == name)
    }
}

/// The clock a tensor peak is scaled against (DESIGN.md §3: SM_CLOCK / this clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockBasis {
    /// `tensor_peak_clock_mhz`: the clock the dense tensor peaks are quoted at.
    TensorPeakClock,
    /// `boost_mhz` (max SM clock), used when the tensor-peak clock is unknown; under-reads tensor
    /// activity by tensor_peak_clock / boost (H100 SXM: 1830 / 1980 ≈ 0.92).
    BoostClock,
}

/// Whether DRAM_ACTIVE needs the 8/9 GDDR ECC correction (reference/dcgm-fields.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GddrEccCorrection {
    /// HBM memory: no correction.
    NotApplicable,
    /// GDDR on a compute capability where DCGM's own validator applies it (7.5, 8.6, 8.9).
    Apply,
    /// GDDR on another or an unknown compute capability (e.g. 12.0): unverified, flag it.
    Unverified,
    /// The row does not say which memory it has.
    UnknownMemoryType,
}

/// Compute capabilities on which dcgmproftester divides GDDR DRAM_ACTIVE by 9/8.
const GDDR_ECC_VERIFIED_CC: [(u32, u32); 3] = [(7, 5), (8, 6), (8, 9)];

/// How a row is recognised from the exporter's `modelName` label (the default table's `match:`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelMatchRule {
    /// Exact device names (`NVIDIA H100 80GB HBM3`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_names: Vec<String>,
    /// Device-name prefixes (`NVIDIA GH200`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_names_prefix: Vec<String>,
    /// Compute capability the device reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_capability: Option<String>,
    /// Matches only devices with at least this much memory (GiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_mem_gib: Option<f64>,
    /// Matches only devices with less than this much memory (GiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_mem_gib: Option<f64>,
}

/// One hardware row: a GPU product on a platform, with its per-GPU peaks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HwRow {
    /// Row key (`h100_sxm`, `b200_hgx`).
    pub key: String,
    /// Other keys that resolve to this row (`b200_sm100`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Display name (the device name DCGM reports, where known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hw_name: Option<String>,
    /// File the row came from, or the built-in table.
    pub origin: String,
    /// Compute capability (`9.0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_capability: Option<Sourced<String>>,
    /// Streaming multiprocessors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sm_count: Option<Sourced<f64>>,
    /// Memory technology (`HBM3`, `HBM3e`, `GDDR6`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_type: Option<Sourced<String>>,
    /// Memory capacity as marketed, GB (display only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_gb: Option<Sourced<f64>>,
    /// Max SM clock, MHz.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boost_mhz: Option<Sourced<f64>>,
    /// SM clock the dense tensor peaks are quoted at, MHz.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensor_peak_clock_mhz: Option<Sourced<f64>>,
    /// Memory clock the bandwidth peak assumes, MHz.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_clock_max_mhz: Option<Sourced<f64>>,
    /// Board power, W.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tdp_w: Option<Sourced<f64>>,
    /// Peaks, ordered by role, then precision, then key.
    pub peaks: Vec<Peak>,
    /// How the row is recognised from a DCGM `modelName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_match: Option<ModelMatchRule>,
    /// Fields of the file the file itself marks weak.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub weak_fields: Vec<String>,
    /// The file's confidence level for the row, with its note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Sourced<String>>,
}

impl HwRow {
    /// A row with a key and origin and nothing else.
    pub(super) fn empty(key: &str, origin: &str) -> HwRow {
        HwRow {
            key: key.to_string(),
            aliases: Vec::new(),
            hw_name: None,
            origin: origin.to_string(),
            compute_capability: None,
            sm_count: None,
            mem_type: None,
            mem_gb: None,
            boost_mhz: None,
            tensor_peak_clock_mhz: None,
            mem_clock_max_mhz: None,
            tdp_w: None,
            peaks: Vec::new(),
            model_match: None,
            weak_fields: Vec::new(),
            confidence: None,
        }
    }

    /// True when `name` is the row key or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        self.key == name || self.aliases.iter().any(|alias| alias == name)
    }

    /// The peak with this key or alias.
    pub fn peak(&self, key_or_alias: &str) -> Option<&Peak> {
        self.peaks
            .iter()
            .find(|peak| peak.key == key_or_alias)
            .or_else(|| self.peaks.iter().find(|peak| peak.answers_to(key_or_alias)))
    }

    /// The peaks with this role, in row order.
    pub fn peaks_with_role(&self, role: PeakRole) -> impl Iterator<Item = &Peak> {
        self.peaks.iter().filter(move |peak| peak.role == role)
    }

    /// The clock tensor activity is scaled against: `tensor_peak_clock_mhz`, else `boost_mhz`.
    pub fn tensor_clock_reference_mhz(&self) -> Option<(f64, ClockBasis)> {
        let tensor_clock = self.tensor_peak_clock_mhz.as_ref();
        let boost_clock = self.boost_mhz.as_ref();
        tensor_clock
            .map(|clock| (clock.value, ClockBasis::TensorPeakClock))
            .or_else(|| boost_clock.map(|clock| (clock.value, ClockBasis::BoostClock)))
    }

    /// Compute capability as (major, minor), when known and well-formed.
    pub fn compute_capability_version(&self) -> Option<(u32, u32)> {
        let text = &self.compute_capability.as_ref()?.value;
        let (major, minor) = text.trim().split_once('.').unwrap_or((text.trim(), "0"));
        Some((major.parse().ok()?, minor.parse().ok()?))
    }

    /// Hopper (CC 9.0) or later, where DRAM_ACTIVE is already a share of theoretical bandwidth;
    /// `None` when the compute capability is unknown.
    pub fn is_hopper_or_later(&self) -> Option<bool> {
        self.compute_capability_version()
            .map(|(major, _)| major >= 9)
    }

    /// Whether DRAM_ACTIVE needs the 8/9 GDDR ECC correction, and whether that is verified.
    pub fn gddr_ecc_correction(&self) -> GddrEccCorrection {
        let Some(mem_type) = &self.mem_type else {
            return GddrEccCorrection::UnknownMemoryType;
        };
        if !mem_type.value.to_ascii_lowercase().starts_with("gddr") {
            return GddrEccCorrection::NotApplicable;
        }
        match self.compute_capability_version() {
            Some(cc) if GDDR_ECC_VERIFIED_CC.contains(&cc) => GddrEccCorrection::Apply,
            _ => GddrEccCorrection::Unverified,
        }
    }

    /// True when the 8/9 correction applies and is verified (GDDR on CC 7.5 / 8.6 / 8.9).
    pub fn needs_gddr_ecc_correction(&self) -> bool {
        self.gddr_ecc_correction() == GddrEccCorrection::Apply
    }
}

/// Whether a profiler category is bound by bytes or by operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    /// Bound by a bandwidth peak.
    Bandwidth,
    /// Bound by a compute peak.
    Compute,
}

/// The peak a profiler kernel category is attributed against (`category_ceiling_map`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryCeiling {
    /// Peak key (`nvlink5_tbps`).
    pub metric: String,
    /// Bandwidth or compute.
    pub bound: Bound,
}

/// Category name → ceiling.
pub type CategoryCeilingMap = BTreeMap<String, CategoryCeiling>;

/// The seed's `dcgm_config` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DcgmConfig {
    /// Windows shorter than this get a short-sweep warning, seconds.
    pub min_sweep_seconds: f64,
    /// Scrape interval assumed when the data does not show one, seconds.
    pub expected_scrape_interval_s: f64,
    /// Metrics whose presence proves the PROF group is being collected.
    pub prof_group_probe_metrics: Vec<String>,
}

impl Default for DcgmConfig {
    fn default() -> Self {
        DcgmConfig {
            min_sweep_seconds: 60.0,
            expected_scrape_interval_s: 15.0,
            prof_group_probe_metrics: vec![
                "DCGM_FI_PROF_DRAM_ACTIVE".to_string(),
                "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE".to_string(),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link_peak(value: f64, per_direction: Option<f64>, units: PeakUnits) -> Peak {
        Peak {
            key: "link".into(),
            aliases: vec![],
            value,
            units,
            per_direction,
            role: PeakRole::NvlinkBandwidth,
            dtype: None,
            dcgm_metric: None,
            dcgm_metrics_bytes: vec![],
            dcgm_unit: None,
            dcgm_fallback_metric: None,
            source: None,
            weak: false,
        }
    }

    #[test]
    fn base_units_are_decimal_si() {
        // 1.8 TB/s = 1.8e12 B/s; half of it per direction = 0.9e12 B/s.
        let nvlink = link_peak(1.8, None, PeakUnits::TbPerS);
        assert_eq!(nvlink.value_base(), 1.8e12);
        assert_eq!(nvlink.per_direction_base(), Some(0.9e12));
        // An explicit per-direction value wins: 100 GB/s bidirectional, 60 GB/s one way = 60e9.
        let odd = link_peak(100.0, Some(60.0), PeakUnits::GbPerS);
        assert_eq!(odd.per_direction_base(), Some(60e9));
    }

    #[test]
    fn per_direction_is_only_for_links() {
        let mut hbm = link_peak(3.35, None, PeakUnits::TbPerS);
        hbm.role = PeakRole::HbmBandwidth;
        assert_eq!(hbm.per_direction_base(), None);
    }

    #[test]
    fn units_parse_case_insensitively() {
        assert_eq!(PeakUnits::parse("tb/s"), Some(PeakUnits::TbPerS));
        assert_eq!(PeakUnits::parse("TFLOP/s"), Some(PeakUnits::Tflops));
        assert_eq!(PeakUnits::parse("POPS"), Some(PeakUnits::Pops));
        assert_eq!(PeakUnits::parse("furlongs"), None);
    }

    fn row_with(mem_type: Option<&str>, cc: Option<&str>) -> HwRow {
        let sourced = |text: &str| Sourced {
            value: text.to_string(),
            source: None,
        };
        HwRow {
            mem_type: mem_type.map(sourced),
            compute_capability: cc.map(sourced),
            ..HwRow::empty("x", "test")
        }
    }

    #[test]
    fn gddr_ecc_correction_follows_memory_and_compute_capability() {
        use GddrEccCorrection::*;
        assert_eq!(
            row_with(Some("GDDR6"), Some("8.9")).gddr_ecc_correction(),
            Apply
        );
        assert!(row_with(Some("GDDR6"), Some("8.9")).needs_gddr_ecc_correction());
        assert_eq!(
            row_with(Some("GDDR7"), Some("12.0")).gddr_ecc_correction(),
            Unverified
        );
        assert_eq!(
            row_with(Some("GDDR6"), None).gddr_ecc_correction(),
            Unverified
        );
        assert_eq!(
            row_with(Some("HBM3e"), Some("10.0")).gddr_ecc_correction(),
            NotApplicable
        );
        assert_eq!(
            row_with(None, Some("8.9")).gddr_ecc_correction(),
            UnknownMemoryType
        );
        assert!(!row_with(Some("GDDR7"), Some("12.0")).needs_gddr_ecc_correction());
    }

    #[test]
    fn hopper_or_later_reads_the_major_version() {
        assert_eq!(
            row_with(None, Some("8.9")).is_hopper_or_later(),
            Some(false)
        );
        assert_eq!(row_with(None, Some("9.0")).is_hopper_or_later(), Some(true));
        assert_eq!(
            row_with(None, Some("10.3")).is_hopper_or_later(),
            Some(true)
        );
        assert_eq!(row_with(None, Some("12")).is_hopper_or_later(), Some(true));
        assert_eq!(row_with(None, None).is_hopper_or_later(), None);
        assert_eq!(row_with(None, Some("sm_90")).is_hopper_or_later(), None);
    }
}
