//! Which exported values are usable (reference/dcgm-fields.md §5–§6): DCGM blank sentinels,
//! NaN/Inf, ratios outside [0, 1.5] (clamped to 1 above 1 with a flag), busy shares above 100 %,
//! negative rates, counters and clocks.

use serde::{Deserialize, Serialize};

use crate::catalog::{FieldKind, FieldSpec, MetricName, Quantity, Storage};
use crate::ceilings::{HwRow, PeakRole};

/// Upper bound of a plausible ratio; values in (1, 1.5] happen under MIG (DCGM #152) and are
/// clamped to 1, anything above is corrupt.
pub const RATIO_CORRUPT_ABOVE: f64 = 1.5;

/// Why a value was not used as exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// A DCGM blank / not-supported sentinel leaked through the exporter.
    BlankSentinel,
    /// NaN or infinite.
    NotFinite,
    /// Outside the physical range of the field (negative rate, ratio > 1.5, busy share > 100 %,
    /// clock ≤ 0).
    OutOfRange,
    /// A byte rate above twice the link's peak for that direction (corrupt or misattributed).
    AboveLinkPeak,
}

/// The verdict on one exported value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Usable, converted to the quantity's base unit.
    Keep(f64),
    /// A ratio in (1, 1.5], clamped to 1.
    Clamped(f64),
    /// Not usable.
    Reject(Rejection),
}

/// Judges one raw exported value of `spec` exported under `name`.
pub fn judge(spec: &FieldSpec, name: &MetricName, raw: f64) -> Verdict {
    if raw.is_nan() || raw.is_infinite() {
        return Verdict::Reject(Rejection::NotFinite);
    }
    // No byte rate reaches 2^47 B/s (140 TB/s): that is the FP64 blank whatever the storage.
    if spec.storage.is_blank(raw)
        || (spec.kind == FieldKind::BytesPerSecond && Storage::Double.is_blank(raw))
    {
        return Verdict::Reject(Rejection::BlankSentinel);
    }
    let value = raw * name.scale_to_base;
    match spec.kind {
        FieldKind::Ratio => {
            if !(0.0..=RATIO_CORRUPT_ABOVE).contains(&value) {
                Verdict::Reject(Rejection::OutOfRange)
            } else if value > 1.0 {
                Verdict::Clamped(1.0)
            } else {
                Verdict::Keep(value)
            }
        }
        FieldKind::BusyFraction if !(0.0..=1.0).contains(&value) => {
            Verdict::Reject(Rejection::OutOfRange)
        }
        FieldKind::ClockMhz if value <= 0.0 => Verdict::Reject(Rejection::OutOfRange),
        _ if value < 0.0 => Verdict::Reject(Rejection::OutOfRange),
        _ => Verdict::Keep(value),
    }
}

/// The raw values [`judge`] keeps exactly as exported (`Keep` with the same bits), as an
/// inclusive range — `None` when the name's unit differs from the base unit, so every value
/// is converted. One comparison per sample then tells whether a series can be used as it is.
pub fn kept_as_is(spec: &FieldSpec, name: &MetricName) -> Option<(f64, f64)> {
    if name.scale_to_base != 1.0 {
        return None;
    }
    let below = |limit: f64| f64::from_bits(limit.to_bits() - 1);
    let mut highest = below(spec.storage.blank_from());
    if spec.kind == FieldKind::BytesPerSecond {
        highest = highest.min(below(Storage::Double.blank_from()));
    }
    let (lowest, highest) = match spec.kind {
        FieldKind::Ratio | FieldKind::BusyFraction => (0.0, highest.min(1.0)),
        // The smallest positive value: a clock must be above zero.
        FieldKind::ClockMhz => (f64::from_bits(1), highest),
        _ => (0.0, highest),
    };
    Some((lowest, highest))
}

/// Byte rates above twice the link's peak for that direction are corrupt (dcgm-fields.md §5):
/// the limit per byte-rate quantity for a hardware row. Links the row has no peak for get none.
pub fn link_rate_limits(row: &HwRow) -> Vec<(Quantity, f64)> {
    let mut limits = Vec::new();
    let mut per_link = |role: PeakRole, tx: Quantity, rx: Quantity| {
        if let Some(peak) = row.peaks_with_role(role).next() {
            let per_direction = peak.per_direction_base().unwrap_or(peak.value_base() / 2.0);
            limits.push((tx, 2.0 * per_direction));
            limits.push((rx, 2.0 * per_direction));
            if role == PeakRole::NvlinkBandwidth {
                limits.push((Quantity::NvlinkBandwidthTotal, 2.0 * peak.value_base()));
            }
        }
    };
    per_link(
        PeakRole::NvlinkBandwidth,
        Quantity::NvlinkTx,
        Quantity::NvlinkRx,
    );
    per_link(PeakRole::PcieBandwidth, Quantity::PcieTx, Quantity::PcieRx);
    per_link(PeakRole::C2cBandwidth, Quantity::C2cTx, Quantity::C2cRx);
    limits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::lookup;

    fn verdict(metric: &str, raw: f64) -> Verdict {
        let (spec, name) = lookup(metric).unwrap();
        judge(spec, name, raw)
    }

    #[test]
    fn sentinels_and_nan_are_rejected() {
        assert_eq!(
            verdict("DCGM_FI_PROF_PCIE_TX_BYTES", 9_223_372_036_854_775_794.0),
            Verdict::Reject(Rejection::BlankSentinel)
        );
        // The FP64 blank (2^47) on a ratio: multiplied by 100 it showed as 1.407e16 elsewhere.
        assert_eq!(
            verdict("DCGM_FI_PROF_DRAM_ACTIVE", 140_737_488_355_328.0),
            Verdict::Reject(Rejection::BlankSentinel)
        );
        assert_eq!(
            verdict("DCGM_FI_PROF_DRAM_ACTIVE", f64::NAN),
            Verdict::Reject(Rejection::NotFinite)
        );
        assert_eq!(
            verdict("DCGM_FI_DEV_GPU_UTIL", 4_294_967_295.0),
            Verdict::Reject(Rejection::BlankSentinel)
        );
    }

    #[test]
    fn link_limits_are_twice_the_per_direction_peak() {
        // H100 SXM NVLink4: 0.45 TB/s per direction → 0.9e12 B/s per TX/RX sample; DEV 449
        // (RX+TX) against 2 × 0.9e12. PCIe5 64 GB/s per direction → 128e9.
        let ceilings = crate::ceilings::Ceilings::builtin().unwrap();
        let limits = link_rate_limits(ceilings.row("h100_sxm").unwrap());
        let limit = |q: Quantity| limits.iter().find(|(x, _)| *x == q).map(|(_, l)| *l);
        assert_eq!(limit(Quantity::NvlinkTx), Some(0.9e12));
        assert_eq!(limit(Quantity::NvlinkBandwidthTotal), Some(1.8e12));
        assert_eq!(limit(Quantity::PcieRx), Some(128e9));
        assert_eq!(limit(Quantity::C2cTx), None);
    }

    #[test]
    fn kept_as_is_is_exactly_what_judge_keeps_unchanged() {
        let edges = [
            0.0,
            -0.0,
            f64::from_bits(1),
            -f64::from_bits(1),
            0.5,
            1.0,
            1.0 + f64::EPSILON,
            1.5,
            100.0,
            4845.0,
            2_147_483_631.0,
            2_147_483_632.0,
            140_737_488_355_327.98,
            140_737_488_355_328.0,
            9_223_372_036_854_775_792.0,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -1.0,
        ];
        for spec in crate::catalog::CATALOG {
            for name in spec.names {
                for raw in edges {
                    let kept = matches!(judge(spec, name, raw), Verdict::Keep(v) if v.to_bits() == raw.to_bits());
                    let in_range =
                        kept_as_is(spec, name).is_some_and(|(lo, hi)| lo <= raw && raw <= hi);
                    // Never a value judge would change; for names in base units, every value it
                    // keeps (a scaled name is always copied, though a scaled 0 stays 0).
                    if name.scale_to_base == 1.0 {
                        assert_eq!(in_range, kept, "{} {raw}", name.name);
                    } else {
                        assert!(!in_range, "{} {raw}", name.name);
                    }
                }
            }
        }
    }

    #[test]
    fn ranges_per_kind() {
        assert_eq!(
            verdict("DCGM_FI_PROF_DRAM_ACTIVE", 1.2),
            Verdict::Clamped(1.0)
        );
        assert_eq!(
            verdict("DCGM_FI_PROF_DRAM_ACTIVE", 1.6),
            Verdict::Reject(Rejection::OutOfRange)
        );
        assert_eq!(
            verdict("DCGM_FI_PROF_DRAM_ACTIVE", -0.1),
            Verdict::Reject(Rejection::OutOfRange)
        );
        // 101 % busy is impossible; 100 % is 1.0 as a fraction.
        assert_eq!(
            verdict("DCGM_FI_DEV_GPU_UTIL", 101.0),
            Verdict::Reject(Rejection::OutOfRange)
        );
        assert_eq!(verdict("DCGM_FI_DEV_GPU_UTIL", 100.0), Verdict::Keep(1.0));
        assert_eq!(
            verdict("DCGM_FI_DEV_SM_CLOCK", 0.0),
            Verdict::Reject(Rejection::OutOfRange)
        );
        assert_eq!(
            verdict("DCGM_FI_PROF_NVLINK_RX_BYTES", -5.0),
            Verdict::Reject(Rejection::OutOfRange)
        );
        // mJ → J: 5 551 899 580 mJ = 5 551 899.58 J.
        assert_eq!(
            verdict("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", 5_551_899_580.0),
            Verdict::Keep(5_551_899.58)
        );
    }
}
