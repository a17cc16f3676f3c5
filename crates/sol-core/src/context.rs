//! The full-context descriptor of a benchmark cell: what ran, where, and under which load. It
//! travels with every number so a %SoL figure is never read without its conditions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Request arrival rate as the bench tool configured it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestRate {
    /// Requests per second.
    PerSecond(f64),
    /// `"inf"`: all requests sent at once (closed-loop, bounded only by concurrency).
    Unbounded(UnboundedRate),
}

/// Marker serialised as the string `"inf"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnboundedRate {
    /// Unbounded arrival rate.
    #[serde(rename = "inf")]
    Inf,
}

/// Everything known about the cell's workload and deployment. All fields are optional: each
/// bench format fills what it records, flags and `atlas.jsonl` fill the rest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Context {
    /// Bench tool that wrote the result (`inference_perfbench_v1`, `vllm`, `guidellm`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bench_tool: Option<String>,
    /// Bench tool version, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bench_tool_version: Option<String>,
    /// Bench result file the window and context came from (file name within the cell).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bench_file: Option<String>,
    /// Index of the run within a multi-run bench file (GuideLLM benchmark, vLLM appended run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bench_index: Option<usize>,
    /// Model name or path as the bench file reports it (an opaque string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Hardware as described by the bench or the atlas (`8xH100-SXM`, `NVIDIA H200`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hardware: Option<String>,
    /// Ceilings row key when the bench or atlas names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hw_key: Option<String>,
    /// Weight / compute precision (`bf16`, `fp8`, `nvfp4`, `awq`, …) — selects the tensor peak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quant: Option<String>,
    /// KV-cache dtype (`auto`, `fp8`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_cache_dtype: Option<String>,
    /// Tensor-parallel degree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensor_parallel: Option<u32>,
    /// Data-parallel degree (replicas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_parallel: Option<u32>,
    /// Pipeline-parallel degree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_parallel: Option<u32>,
    /// Expert-parallel degree (within TP × DP; does not add GPUs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expert_parallel: Option<u32>,
    /// Serving engine (`vllm`, `sglang`, `trtllm`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// Engine version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    /// Container image of the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Other serving flags worth keeping (`max_num_seqs`, `enable_chunked_prefill`, …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub serving_config: BTreeMap<String, String>,
    /// Dataset name (`random`, `sharegpt`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// Input sequence length in tokens (configured, else mean measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_len_tokens: Option<f64>,
    /// Output sequence length in tokens (configured, else mean measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_len_tokens: Option<f64>,
    /// Configured concurrency (max in-flight requests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Configured request arrival rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_rate: Option<RequestRate>,
    /// Requests the run was asked to send.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_prompts: Option<u64>,
    /// Requests completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed: Option<u64>,
    /// Requests failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<u64>,
    /// Input tokens over the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_input_tokens: Option<u64>,
    /// Output tokens over the run (numerator of tokens per joule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_output_tokens: Option<u64>,
    /// Output token throughput reported by the bench, tokens/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens_per_s: Option<f64>,
    /// Request throughput reported by the bench, requests/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_s: Option<f64>,
    /// `warm` or `cold` (caches, compiled graphs) when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_state: Option<String>,
    /// Any other key the bench recorded (e.g. vLLM `--metadata`), as strings.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

impl Context {
    /// GPUs the deployment uses: TP × DP × PP, when the tensor-parallel degree is known.
    /// `None` when TP is unknown — never a habitual 8.
    pub fn expected_gpus(&self) -> Option<u32> {
        let tp = self.tensor_parallel?;
        let dp = self.data_parallel.unwrap_or(1);
        let pp = self.pipeline_parallel.unwrap_or(1);
        tp.checked_mul(dp)?.checked_mul(pp)
    }

    /// Fills every field that is unset here from `other` (this context wins where both are set).
    pub fn fill_from(&mut self, other: &Context) {
        macro_rules! fill {
            ($($field:ident),* $(,)?) => {$(
                if self.$field.is_none() {
                    self.$field = other.$field.clone();
                }
            )*};
        }
        fill!(
            bench_tool,
            bench_tool_version,
            bench_file,
            bench_index,
            model,
            hardware,
            hw_key,
            quant,
            kv_cache_dtype,
            tensor_parallel,
            data_parallel,
            pipeline_parallel,
            expert_parallel,
            engine,
            engine_version,
            image,
            dataset,
            input_len_tokens,
            output_len_tokens,
            concurrency,
            request_rate,
            num_prompts,
            completed,
            failed,
            total_input_tokens,
            total_output_tokens,
            output_tokens_per_s,
            requests_per_s,
            cache_state,
        );
        for (key, value) in &other.serving_config {
            self.serving_config
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
        for (key, value) in &other.extra {
            self.extra
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_gpus_needs_tp_and_multiplies_dp_pp() {
        let mut ctx = Context::default();
        assert_eq!(ctx.expected_gpus(), None);
        ctx.tensor_parallel = Some(4);
        assert_eq!(ctx.expected_gpus(), Some(4));
        ctx.data_parallel = Some(2);
        ctx.pipeline_parallel = Some(2);
        assert_eq!(ctx.expected_gpus(), Some(16));
    }

    #[test]
    fn fill_from_keeps_own_values() {
        let mut ctx = Context {
            model: Some("a".into()),
            ..Context::default()
        };
        let other = Context {
            model: Some("b".into()),
            tensor_parallel: Some(8),
            ..Context::default()
        };
        ctx.fill_from(&other);
        assert_eq!(ctx.model.as_deref(), Some("a"));
        assert_eq!(ctx.tensor_parallel, Some(8));
    }

    #[test]
    fn request_rate_serialises_inf_as_string() {
        let inf = serde_json::to_string(&RequestRate::Unbounded(UnboundedRate::Inf)).unwrap();
        assert_eq!(inf, "\"inf\"");
        let back: RequestRate = serde_json::from_str("30.0").unwrap();
        assert_eq!(back, RequestRate::PerSecond(30.0));
    }
}
