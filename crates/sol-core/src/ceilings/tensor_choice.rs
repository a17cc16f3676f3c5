//! Which dense tensor peak a workload is measured against, and the assumption behind the choice.

use serde::Serialize;

use super::error::CeilingsError;
use super::model::{HwRow, Peak, PeakRole};
use super::precision::{Precision, precision_from_quant};

/// The tensor peak chosen for a cell, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TensorPeakChoice {
    /// Key of the chosen peak in the row.
    pub peak_key: String,
    /// Precision of the chosen peak.
    pub precision: Option<Precision>,
    /// The assumption in words, for the resource row's notes.
    pub assumption: String,
}

impl HwRow {
    /// Chooses the dense tensor peak: `explicit_key` (`--tensor-peak`) when given, else the peak
    /// for the quantisation's precision, falling back to the next wider precision present, else
    /// bf16 (then fp16, then the row's only tensor peak) with the assumption written out.
    pub fn tensor_peak(
        &self,
        explicit_key: Option<&str>,
        quant: Option<&str>,
    ) -> Result<TensorPeakChoice, CeilingsError> {
        let quant = quant.map(str::trim).filter(|quant| !quant.is_empty());
        let quant_precision = quant.and_then(precision_from_quant);
        if let Some(key) = explicit_key {
            return self.explicit_tensor_peak(key, quant.zip(quant_precision));
        }
        let (Some(quant), Some((precision, why))) = (quant, quant_precision) else {
            let unknown = match quant {
                Some(quant) => format!("precision unknown (quant `{quant}` not recognised)"),
                None => "precision unknown (no quant in the context)".to_string(),
            };
            return self.default_tensor_peak(&unknown);
        };
        let requested = format!("quant `{quant}` → {precision} ({why})");
        if let Some(peak) = self.tensor_peak_for(precision) {
            return Ok(choice(peak, format!("{requested}: {} dense", peak.key)));
        }
        let wider = precision
            .wider_fallbacks()
            .iter()
            .find_map(|wider| self.tensor_peak_for(*wider));
        if let Some(peak) = wider {
            return Ok(choice(
                peak,
                format!(
                    "{requested}, but {} has no {precision} tensor peak: using the next wider \
                     precision present, {} dense",
                    self.key, peak.key
                ),
            ));
        }
        self.default_tensor_peak(&format!(
            "{requested}, but {} has no {precision} tensor peak nor a wider one",
            self.key
        ))
    }

    fn explicit_tensor_peak(
        &self,
        key: &str,
        quant: Option<(&str, (Precision, &str))>,
    ) -> Result<TensorPeakChoice, CeilingsError> {
        let peak = self
            .peak(key)
            .ok_or_else(|| CeilingsError::UnknownPeakKey {
                hw_key: self.key.clone(),
                key: key.to_string(),
                known: self.peaks.iter().map(|peak| peak.key.clone()).collect(),
            })?;
        if peak.role != PeakRole::TensorCompute {
            return Err(CeilingsError::NotATensorPeak {
                hw_key: self.key.clone(),
                key: key.to_string(),
                role: peak.role.as_str().to_string(),
                tensor_peaks: self.tensor_peak_keys(),
            });
        }
        let mut assumption = format!("tensor peak {} chosen explicitly (--tensor-peak)", peak.key);
        if let Some((quant, (precision, _))) = quant.filter(|(_, (p, _))| Some(*p) != peak.dtype) {
            assumption.push_str(&format!("; note: quant `{quant}` suggests {precision}"));
        }
        Ok(choice(peak, assumption))
    }

    /// bf16, else fp16, else the only tensor peak; `why` says why no precision was known.
    fn default_tensor_peak(&self, why: &str) -> Result<TensorPeakChoice, CeilingsError> {
        for precision in [Precision::Bf16, Precision::Fp16] {
            if let Some(peak) = self.tensor_peak_for(precision) {
                return Ok(choice(
                    peak,
                    format!(
                        "{why}: assumed {precision} dense ({}); pass --tensor-peak KEY to choose \
                         another",
                        peak.key
                    ),
                ));
            }
        }
        let tensor: Vec<&Peak> = self.peaks_with_role(PeakRole::TensorCompute).collect();
        match tensor.as_slice() {
            [only] => Ok(choice(
                only,
                format!(
                    "{why}: using the row's only tensor peak, {}; pass --tensor-peak KEY if that \
                     is not the workload's precision",
                    only.key
                ),
            )),
            [] => Err(CeilingsError::NoTensorPeak {
                hw_key: self.key.clone(),
                reason: "the row has no tensor peak; add one such as bf16_dense_pflops to the \
                         ceilings file"
                    .to_string(),
                tensor_peaks: Vec::new(),
            }),
            _ => Err(CeilingsError::NoTensorPeak {
                hw_key: self.key.clone(),
                reason: format!(
                    "{why} and the row has no bf16 or fp16 tensor peak to assume; pass \
                     --tensor-peak KEY"
                ),
                tensor_peaks: self.tensor_peak_keys(),
            }),
        }
    }

    fn tensor_peak_for(&self, precision: Precision) -> Option<&Peak> {
        self.peaks_with_role(PeakRole::TensorCompute)
            .find(|peak| peak.dtype == Some(precision))
    }

    fn tensor_peak_keys(&self) -> Vec<String> {
        self.peaks_with_role(PeakRole::TensorCompute)
            .map(|peak| peak.key.clone())
            .collect()
    }
}

fn choice(peak: &Peak, assumption: String) -> TensorPeakChoice {
    TensorPeakChoice {
        peak_key: peak.key.clone(),
        precision: peak.dtype,
        assumption,
    }
}

#[cfg(test)]
mod tests {
    use crate::ceilings::{Ceilings, CeilingsError, Precision};

    fn pick(
        hw: &str,
        explicit: Option<&str>,
        quant: Option<&str>,
    ) -> Result<(String, String), CeilingsError> {
        let ceilings = Ceilings::builtin().unwrap();
        let choice = ceilings.row(hw).unwrap().tensor_peak(explicit, quant)?;
        Ok((choice.peak_key, choice.assumption))
    }

    #[test]
    fn quant_selects_the_peak_of_its_precision() {
        let (key, assumption) = pick("h100_sxm", None, Some("fp8")).unwrap();
        assert_eq!(key, "fp8_dense_pflops");
        assert!(assumption.contains("quant `fp8`"), "{assumption}");
        let (key, _) = pick("b200_sm100", None, Some("nvfp4")).unwrap();
        assert_eq!(key, "nvfp4_dense_pflops");
    }

    #[test]
    fn a_missing_precision_falls_back_to_the_next_wider_one() {
        // A100 has no FP8: fp8 → bf16.
        let (key, assumption) = pick("a100_sxm", None, Some("fp8")).unwrap();
        assert_eq!(key, "bf16_dense_pflops");
        assert!(assumption.contains("no fp8 tensor peak"), "{assumption}");
        assert!(assumption.contains("next wider precision"), "{assumption}");
        // H100 has no FP4 nor FP6: fp4 → fp8.
        let (key, _) = pick("h100_sxm", None, Some("nvfp4")).unwrap();
        assert_eq!(key, "fp8_dense_pflops");
    }

    #[test]
    fn weight_only_and_unknown_quant_assume_bf16() {
        let ceilings = Ceilings::builtin().unwrap();
        let choice = ceilings
            .row("h100_sxm")
            .unwrap()
            .tensor_peak(None, Some("awq"))
            .unwrap();
        assert_eq!(choice.peak_key, "bf16_dense_pflops");
        assert_eq!(choice.precision, Some(Precision::Bf16));
        assert!(
            choice.assumption.contains("weight-only"),
            "{}",
            choice.assumption
        );
        for quant in [None, Some("auto"), Some("  ")] {
            let (key, assumption) = pick("h100_sxm", None, quant).unwrap();
            assert_eq!(key, "bf16_dense_pflops");
            assert!(assumption.contains("precision unknown"), "{assumption}");
            assert!(assumption.contains("assumed bf16 dense"), "{assumption}");
            assert!(assumption.contains("--tensor-peak"), "{assumption}");
        }
    }

    #[test]
    fn an_explicit_key_must_be_a_tensor_peak_of_the_row() {
        let (key, assumption) = pick("h100_sxm", Some("fp8_dense_tflops"), Some("bf16")).unwrap();
        assert_eq!(key, "fp8_dense_pflops");
        assert!(
            assumption.contains("explicitly") && assumption.contains("suggests bf16"),
            "{assumption}"
        );
        let err = pick("h100_sxm", Some("hbm3_tbps"), None).unwrap_err();
        let CeilingsError::NotATensorPeak {
            role, tensor_peaks, ..
        } = &err
        else {
            panic!("{err}");
        };
        assert_eq!(role, "hbm_bandwidth");
        assert!(tensor_peaks.contains(&"bf16_dense_pflops".to_string()));
        assert!(err.to_string().contains("bf16_dense_pflops"), "{err}");
        let err = pick("h100_sxm", Some("fp3_dense_pflops"), None).unwrap_err();
        assert!(matches!(err, CeilingsError::UnknownPeakKey { .. }), "{err}");
    }

    #[test]
    fn a_seed_row_with_one_tensor_peak_uses_it_and_notes_the_mismatch() {
        let seed = Ceilings::from_yaml(
            "b200_sm100:\n  nvfp4_dense_pflops: {value: 9.0, units: PFLOPS}\n",
            "seed.yaml",
        )
        .unwrap();
        let row = seed.row("b200_sm100").unwrap();
        let choice = row.tensor_peak(None, Some("fp8")).unwrap();
        assert_eq!(choice.peak_key, "nvfp4_dense_pflops");
        assert_eq!(choice.precision, Some(Precision::Fp4));
        assert!(
            choice.assumption.contains("no fp8 tensor peak"),
            "{}",
            choice.assumption
        );
        assert!(
            choice.assumption.contains("only tensor peak"),
            "{}",
            choice.assumption
        );
    }

    #[test]
    fn no_choice_without_a_tensor_peak_or_with_several_and_no_16_bit() {
        let text = "bare: {hbm3_tbps: {value: 1, units: TB/s}}\n\
                    narrow: {fp8_dense_pflops: {value: 2, units: PFLOPS}, nvfp4_dense_pflops: {value: 4, units: PFLOPS}}\n";
        let ceilings = Ceilings::from_yaml(text, "c.yaml").unwrap();
        let err = ceilings
            .row("bare")
            .unwrap()
            .tensor_peak(None, None)
            .unwrap_err();
        assert!(matches!(err, CeilingsError::NoTensorPeak { .. }), "{err}");
        let err = ceilings
            .row("narrow")
            .unwrap()
            .tensor_peak(None, None)
            .unwrap_err();
        assert!(err.to_string().contains("fp8_dense_pflops"), "{err}");
        // With a quant that the row has, there is no ambiguity.
        let choice = ceilings
            .row("narrow")
            .unwrap()
            .tensor_peak(None, Some("fp8"))
            .unwrap();
        assert_eq!(choice.peak_key, "fp8_dense_pflops");
    }
}
