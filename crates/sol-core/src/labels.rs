//! Series label sets and the physical-GPU identity derived from them (DESIGN.md §3).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A series' labels, sorted by name (deterministic everywhere they are printed).
pub type Labels = BTreeMap<String, String>;

/// Labels naming the host of a GPU, in order of preference. `Hostname` became `hostname` in
/// dcgm-exporter 4.5.3-4.8.2; `instance` is the exporter's address and changes on restart, so it
/// is the last resort.
pub const HOST_LABELS: [&str; 4] = ["Hostname", "hostname", "node", "instance"];

/// Labels holding the GPU UUID (`uuid` with `--use-old-namespace`, `gpu_uuid` on link entities).
pub const UUID_LABELS: [&str; 3] = ["UUID", "uuid", "gpu_uuid"];

/// The MIG GPU-instance label; absent on GPU-level series.
pub const GPU_INSTANCE_LABEL: &str = "GPU_I_ID";

/// The exporter's GPU model name label.
pub const MODEL_NAME_LABELS: [&str; 2] = ["modelName", "model_name"];

/// One physical GPU (or one MIG GPU instance of it): host + UUID + GPU instance.
///
/// Pod/workload labels, `exported_*`, the exporter's own pod and driver-version labels are not
/// part of it, so the pod-attribution duplicates of one GPU share one key, and two hosts with
/// the same `gpu` index are two keys. A UUID is globally unique, so series are joined on it
/// alone ([`GpuKey::identity`]) and the host is carried for display: a host label that changes
/// (an exporter restart renaming `instance`, `Hostname` → `hostname`) never splits a GPU.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GpuKey {
    /// Host name (empty when the series carries no host label).
    pub host: String,
    /// GPU UUID; `gpu:<index>` when the series carries no UUID label.
    pub uuid: String,
    /// MIG GPU instance id; `None` for GPU-level series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_instance: Option<String>,
}

impl GpuKey {
    /// Derives the identity from a label set. Returns `None` when the series names neither a UUID
    /// nor a `gpu` index (it cannot be attributed to a GPU).
    pub fn from_labels(labels: &Labels) -> Option<GpuKey> {
        let host = first_label(labels, &HOST_LABELS)
            .unwrap_or_default()
            .to_string();
        let uuid = match first_label(labels, &UUID_LABELS) {
            Some(uuid) => uuid.to_string(),
            None => format!("gpu:{}", labels.get("gpu")?),
        };
        let gpu_instance = labels
            .get(GPU_INSTANCE_LABEL)
            .filter(|id| !id.is_empty())
            .cloned();
        Some(GpuKey {
            host,
            uuid,
            gpu_instance,
        })
    }

    /// What makes two series the same GPU: the UUID (and GPU instance) when the series carries a
    /// UUID, else host + `gpu` index.
    pub fn identity(&self) -> (String, Option<String>) {
        let id = if self.uuid.starts_with("gpu:") {
            format!("{}/{}", self.host, self.uuid)
        } else {
            self.uuid.clone()
        };
        (id, self.gpu_instance.clone())
    }

    /// Whether this key is a MIG GPU instance rather than a whole GPU.
    pub fn is_gpu_instance(&self) -> bool {
        self.gpu_instance.is_some()
    }

    /// `host/UUID` or `host/UUID/GI 13`, for tables and notes.
    pub fn display_name(&self) -> String {
        let host = if self.host.is_empty() {
            "?"
        } else {
            &self.host
        };
        match &self.gpu_instance {
            Some(gi) => format!("{host}/{}/GI {gi}", self.uuid),
            None => format!("{host}/{}", self.uuid),
        }
    }
}

/// The host of a series and the rank of the label it came from (0 = `Hostname`, best).
pub fn host_of(labels: &Labels) -> Option<(usize, &str)> {
    HOST_LABELS.iter().enumerate().find_map(|(rank, name)| {
        labels
            .get(*name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .map(|v| (rank, v))
    })
}

/// The value of the first label of `names` present (and non-empty) in `labels`.
pub fn first_label<'a>(labels: &'a Labels, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|name| {
        labels
            .get(*name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn pod_labels_do_not_change_identity() {
        let plain = labels(&[("gpu", "6"), ("UUID", "GPU-a"), ("Hostname", "n1")]);
        let with_pod = labels(&[
            ("gpu", "6"),
            ("UUID", "GPU-a"),
            ("Hostname", "n1"),
            ("pod", "vllm-0"),
            ("exported_namespace", "ws"),
        ]);
        assert_eq!(GpuKey::from_labels(&plain), GpuKey::from_labels(&with_pod));
    }

    #[test]
    fn same_index_on_two_hosts_is_two_gpus_and_hostname_case_is_one_host() {
        let a = labels(&[("gpu", "0"), ("UUID", "GPU-a"), ("Hostname", "n1")]);
        let b = labels(&[("gpu", "0"), ("UUID", "GPU-b"), ("Hostname", "n2")]);
        assert_ne!(GpuKey::from_labels(&a), GpuKey::from_labels(&b));
        let old = labels(&[("UUID", "GPU-a"), ("Hostname", "n1")]);
        let new = labels(&[("UUID", "GPU-a"), ("hostname", "n1")]);
        assert_eq!(GpuKey::from_labels(&old), GpuKey::from_labels(&new));
    }

    #[test]
    fn mig_instance_is_its_own_key_and_index_is_the_fallback() {
        let gi = labels(&[("UUID", "GPU-a"), ("GPU_I_ID", "13"), ("Hostname", "n1")]);
        let key = GpuKey::from_labels(&gi).unwrap();
        assert!(key.is_gpu_instance());
        assert_eq!(key.display_name(), "n1/GPU-a/GI 13");
        let bare = labels(&[("gpu", "3")]);
        assert_eq!(GpuKey::from_labels(&bare).unwrap().uuid, "gpu:3");
        assert_eq!(GpuKey::from_labels(&labels(&[("job", "x")])), None);
    }
}
