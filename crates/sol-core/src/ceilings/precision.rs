//! Numeric precisions of tensor and vector peaks, and how a bench's quantisation names one.

use std::fmt;

use serde::Serialize;

/// Precision a peak is quoted for. Variant order runs from narrowest to widest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 4-bit float (NVFP4, MXFP4).
    Fp4,
    /// 6-bit float (MXFP6).
    Fp6,
    /// 8-bit float (E4M3 / E5M2).
    Fp8,
    /// 8-bit integer.
    Int8,
    /// bfloat16.
    Bf16,
    /// IEEE half precision.
    Fp16,
    /// TensorFloat-32 (FP32 inputs on tensor cores).
    Tf32,
    /// IEEE single precision.
    Fp32,
    /// IEEE double precision.
    Fp64,
}

/// Quantisation names (lowercase, `-` read as `_`) and the precision their matmuls run at.
const QUANT_PRECISIONS: &[(&[&str], Precision, &str)] = &[
    (
        &["nvfp4", "fp4", "mxfp4", "modelopt_fp4"],
        Precision::Fp4,
        "4-bit float weights and activations run on FP4 tensor cores",
    ),
    (
        &["fp6", "mxfp6"],
        Precision::Fp6,
        "6-bit float weights and activations run on FP6 tensor cores",
    ),
    (
        &[
            "fp8",
            "fp8_e4m3",
            "fp8_e5m2",
            "modelopt",
            "fbgemm_fp8",
            "w8a8_fp8",
        ],
        Precision::Fp8,
        "FP8 weights and activations run on FP8 tensor cores",
    ),
    (
        &["int8", "w8a8", "smoothquant"],
        Precision::Int8,
        "INT8 weights and activations run on INT8 tensor cores",
    ),
    (
        &["bf16", "bfloat16"],
        Precision::Bf16,
        "bf16 weights and activations",
    ),
    (
        &["fp16", "float16", "half"],
        Precision::Fp16,
        "fp16 weights and activations",
    ),
    (
        &[
            "awq",
            "gptq",
            "w4a16",
            "marlin",
            "int4",
            "awq_marlin",
            "gptq_marlin",
        ],
        Precision::Bf16,
        "weight-only quantisation: weights are dequantised and the matmuls run in 16-bit \
         (bf16 assumed; fp16 has the same peak)",
    ),
];

impl Precision {
    /// Lowercase name (`bf16`), as used in peak keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Fp4 => "fp4",
            Precision::Fp6 => "fp6",
            Precision::Fp8 => "fp8",
            Precision::Int8 => "int8",
            Precision::Bf16 => "bf16",
            Precision::Fp16 => "fp16",
            Precision::Tf32 => "tf32",
            Precision::Fp32 => "fp32",
            Precision::Fp64 => "fp64",
        }
    }

    /// Reads a dtype name as written in a `dtype:` field or a peak-key prefix (`nvfp4`, `bf16`).
    pub fn from_name(name: &str) -> Option<Precision> {
        match name.trim().to_ascii_lowercase().as_str() {
            "fp4" | "nvfp4" | "mxfp4" => Some(Precision::Fp4),
            "fp6" | "mxfp6" => Some(Precision::Fp6),
            "fp8" => Some(Precision::Fp8),
            "int8" => Some(Precision::Int8),
            "bf16" => Some(Precision::Bf16),
            "fp16" => Some(Precision::Fp16),
            "tf32" => Some(Precision::Tf32),
            "fp32" => Some(Precision::Fp32),
            "fp64" => Some(Precision::Fp64),
            _ => None,
        }
    }

    /// Precisions to try, in order, when a part has no tensor peak for this one: the next wider
    /// formats a framework would fall back to (FP8 on Ampere runs as 16-bit; INT8 likewise).
    pub(super) fn wider_fallbacks(self) -> &'static [Precision] {
        const CHAIN: [Precision; 5] = [
            Precision::Fp4,
            Precision::Fp6,
            Precision::Fp8,
            Precision::Bf16,
            Precision::Fp16,
        ];
        match self {
            Precision::Int8 => &CHAIN[3..],
            Precision::Fp16 => &CHAIN[3..4],
            _ => CHAIN
                .iter()
                .position(|step| *step == self)
                .map_or(&[], |position| &CHAIN[position + 1..]),
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The precision a bench's quantisation label computes in, with the reason, or `None` when the
/// label is not recognised (case-insensitive; `-` and `_` are the same).
pub fn precision_from_quant(quant: &str) -> Option<(Precision, &'static str)> {
    let normalised = quant.trim().to_ascii_lowercase().replace('-', "_");
    QUANT_PRECISIONS
        .iter()
        .find(|(names, _, _)| names.contains(&normalised.as_str()))
        .map(|(_, precision, why)| (*precision, *why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quant_labels_map_to_the_precision_the_matmuls_run_at() {
        let cases = [
            ("NVFP4", Precision::Fp4),
            ("modelopt_fp4", Precision::Fp4),
            ("mxfp4", Precision::Fp4),
            ("fp8", Precision::Fp8),
            ("FP8-E4M3", Precision::Fp8),
            ("modelopt", Precision::Fp8),
            ("w8a8_fp8", Precision::Fp8),
            ("w8a8", Precision::Int8),
            ("SmoothQuant", Precision::Int8),
            ("bfloat16", Precision::Bf16),
            ("half", Precision::Fp16),
            ("mxfp6", Precision::Fp6),
            ("AWQ", Precision::Bf16),
            ("gptq_marlin", Precision::Bf16),
            ("w4a16", Precision::Bf16),
        ];
        for (quant, expected) in cases {
            assert_eq!(
                precision_from_quant(quant).map(|(p, _)| p),
                Some(expected),
                "{quant}"
            );
        }
    }

    #[test]
    fn weight_only_quant_says_why_it_is_16_bit() {
        let (_, why) = precision_from_quant("awq").unwrap();
        assert!(why.contains("weight-only"), "{why}");
    }

    #[test]
    fn unknown_quant_is_none_not_a_guess() {
        assert_eq!(precision_from_quant("auto"), None);
        assert_eq!(precision_from_quant(""), None);
        assert_eq!(precision_from_quant("fp8ish"), None);
    }

    #[test]
    fn fallbacks_run_towards_wider_formats() {
        use Precision::*;
        assert_eq!(Fp4.wider_fallbacks(), &[Fp6, Fp8, Bf16, Fp16]);
        assert_eq!(Fp8.wider_fallbacks(), &[Bf16, Fp16]);
        assert_eq!(Int8.wider_fallbacks(), &[Bf16, Fp16]);
        assert_eq!(Bf16.wider_fallbacks(), &[Fp16]);
        assert_eq!(Fp16.wider_fallbacks(), &[Bf16]);
        assert!(Tf32.wider_fallbacks().is_empty());
    }
}
