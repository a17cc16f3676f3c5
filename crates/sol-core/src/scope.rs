//! Which series belong to the workload: namespace, pod/label selector, hosts and GPU UUIDs — and
//! the same scope as PromQL, with every user-supplied value escaped (DESIGN.md §3 "Scope").
//!
//! Workload labels reach Prometheus either as they are (`namespace`, `pod`) or, behind a
//! ServiceMonitor with `honorLabels: false`, renamed to `exported_namespace` / `exported_pod`
//! while `namespace`/`pod` name the exporter. A scope item therefore matches either spelling.

use regex::Regex;
use serde::{Deserialize, Serialize};

use std::collections::BTreeSet;

use crate::labels::{GpuKey, HOST_LABELS, Labels, UUID_LABELS};
use crate::series::RawSeries;

/// A label matcher operator, as in PromQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchOp {
    /// `=`
    #[serde(rename = "=")]
    Eq,
    /// `!=`
    #[serde(rename = "!=")]
    Ne,
    /// `=~` (fully anchored regular expression)
    #[serde(rename = "=~")]
    Re,
    /// `!~`
    #[serde(rename = "!~")]
    Nre,
}

impl MatchOp {
    fn symbol(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::Ne => "!=",
            MatchOp::Re => "=~",
            MatchOp::Nre => "!~",
        }
    }
}

/// One `name op value` item of `--selector`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabelMatcher {
    /// Label name (matched as is and as `exported_<name>`).
    pub name: String,
    /// Operator.
    pub op: MatchOp,
    /// Value or regular expression.
    pub value: String,
    #[serde(skip)]
    regex: Option<Regex>,
}

impl PartialEq for LabelMatcher {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, self.op, &self.value) == (&other.name, other.op, &other.value)
    }
}

/// A scope that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// An item of `--selector` is not `name=value`, `name!=value`, `name=~regex` or `name!~regex`.
    #[error(
        "selector item `{0}` is not `name=value`, `name!=value`, `name=~regex` or `name!~regex`"
    )]
    BadItem(String),
    /// The label name is not a Prometheus label name.
    #[error("selector label `{0}` is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)")]
    BadLabelName(String),
    /// The regular expression does not compile.
    #[error("selector regex `{value}` for `{name}` is invalid: {reason}")]
    BadRegex {
        /// Label name.
        name: String,
        /// The expression.
        value: String,
        /// Why.
        reason: String,
    },
}

impl LabelMatcher {
    /// Builds a matcher, compiling the regex (anchored as Prometheus does).
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<LabelMatcher, ScopeError> {
        if !is_label_name(name) {
            return Err(ScopeError::BadLabelName(name.to_string()));
        }
        let regex = match op {
            MatchOp::Re | MatchOp::Nre => Some(Regex::new(&format!("^(?:{value})$")).map_err(
                |e| ScopeError::BadRegex {
                    name: name.to_string(),
                    value: value.to_string(),
                    reason: e.to_string(),
                },
            )?),
            MatchOp::Eq | MatchOp::Ne => None,
        };
        Ok(LabelMatcher {
            name: name.to_string(),
            op,
            value: value.to_string(),
            regex,
        })
    }

    fn value_matches(&self, value: &str) -> bool {
        match (&self.regex, self.op) {
            (Some(re), _) => re.is_match(value),
            (None, _) => value == self.value,
        }
    }

    /// Whether a series' labels satisfy this item under either spelling (`name` or
    /// `exported_name`). An absent label reads as the empty string, as in PromQL.
    pub fn matches(&self, labels: &Labels) -> bool {
        let plain = labels.get(&self.name).map(String::as_str).unwrap_or("");
        let exported = labels
            .get(&format!("exported_{}", self.name))
            .map(String::as_str)
            .unwrap_or("");
        match self.op {
            MatchOp::Eq | MatchOp::Re => self.value_matches(plain) || self.value_matches(exported),
            MatchOp::Ne | MatchOp::Nre => {
                let positive = |v: &str| self.value_matches(v);
                !positive(plain) && !positive(exported)
            }
        }
    }

    fn promql(&self, label: &str) -> String {
        format!(
            "{label}{}\"{}\"",
            self.op.symbol(),
            escape_promql_string(&self.value)
        )
    }
}

/// Parses `--selector k=v,k2!=v2,app=~vllm-.*`. Commas inside values are not supported (use a
/// regex character class instead).
pub fn parse_selector(text: &str) -> Result<Vec<LabelMatcher>, ScopeError> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let (name, op, value) = ["=~", "!~", "!=", "="]
                .iter()
                .find_map(|symbol| item.split_once(symbol).map(|(n, v)| (n, *symbol, v)))
                .ok_or_else(|| ScopeError::BadItem(item.to_string()))?;
            let op = match op {
                "=~" => MatchOp::Re,
                "!~" => MatchOp::Nre,
                "!=" => MatchOp::Ne,
                _ => MatchOp::Eq,
            };
            LabelMatcher::new(name.trim(), op, value.trim())
        })
        .collect()
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Escapes a value for a double-quoted PromQL string: backslash, quote and newline.
pub fn escape_promql_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
    out
}

/// Most values one `=~` matcher lists: 64 GPU UUIDs make ~3 KB of PromQL.
pub const VALUES_PER_MATCHER: usize = 64;

/// Which labels of the data carry the host and the GPU UUID, once a probe has looked: host and
/// UUID scope items then filter on the server instead of after the fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// `Hostname`, `hostname`, `node` or `instance`.
    pub host_label: Option<String>,
    /// `UUID`, `uuid` or `gpu_uuid`.
    pub uuid_label: Option<String>,
}

/// The workload's series: every set item must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    /// Workload namespace (`namespace` or `exported_namespace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Label selector items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selector: Vec<LabelMatcher>,
    /// Host names (any of the host labels).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// GPU UUIDs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpu_uuids: Vec<String>,
}

impl Scope {
    /// Whether a series carries the workload's labels (namespace and selector items).
    pub fn matches_workload(&self, labels: &Labels) -> bool {
        let namespace_ok = self.namespace.as_ref().is_none_or(|ns| {
            labels.get("namespace") == Some(ns) || labels.get("exported_namespace") == Some(ns)
        });
        namespace_ok && self.selector.iter().all(|m| m.matches(labels))
    }

    /// Whether a series is on an allowed host and GPU.
    pub fn matches_placement(&self, labels: &Labels) -> bool {
        let host_ok = self.hosts.is_empty()
            || HOST_LABELS
                .iter()
                .any(|l| labels.get(*l).is_some_and(|h| self.hosts.contains(h)));
        let uuid_ok = self.gpu_uuids.is_empty()
            || UUID_LABELS
                .iter()
                .any(|l| labels.get(*l).is_some_and(|u| self.gpu_uuids.contains(u)));
        host_ok && uuid_ok
    }

    /// Applies the scope to fetched series. Host and UUID items filter each series. Workload
    /// items (namespace, selector) pick the GPUs that carry them at some point, and then every
    /// series of those GPUs is kept: pod-attribution labels come and go (exporter churn), and a
    /// stretch without them is still the workload's GPU time.
    pub fn select(&self, series: Vec<RawSeries>) -> Vec<RawSeries> {
        let placed: Vec<RawSeries> = series
            .into_iter()
            .filter(|s| self.matches_placement(&s.labels))
            .collect();
        if self.namespace.is_none() && self.selector.is_empty() {
            return placed;
        }
        let identity = |s: &RawSeries| GpuKey::from_labels(&s.labels).map(|k| k.identity());
        let gpus: BTreeSet<(String, Option<String>)> = placed
            .iter()
            .filter(|s| self.matches_workload(&s.labels))
            .filter_map(identity)
            .collect();
        placed
            .into_iter()
            .filter(|s| {
                self.matches_workload(&s.labels) || identity(s).is_some_and(|id| gpus.contains(&id))
            })
            .collect()
    }

    /// The selector text the seed's `pod_label_selector` field holds (`k=v,...`), if any.
    pub fn selector_text(&self) -> Option<String> {
        (!self.selector.is_empty()).then(|| {
            self.selector
                .iter()
                .map(|m| format!("{}{}{}", m.name, m.op.symbol(), m.value))
                .collect::<Vec<_>>()
                .join(",")
        })
    }

    /// PromQL series selectors for `metric` covering this scope, one per alternative spelling
    /// (`namespace` vs `exported_namespace`, …): range vectors cannot be joined with `or`, so
    /// their union is the scope. Host and UUID items become matchers only on the labels
    /// `placement` names (what a probe found the data to use); otherwise they are applied to
    /// the answer ([`Scope::select`]).
    pub fn promql_selectors(&self, metric: &str, placement: &Placement) -> Vec<String> {
        let mut alternatives: Vec<Vec<String>> = vec![Vec::new()];
        let mut branch = |options: Vec<String>| {
            alternatives = alternatives
                .iter()
                .flat_map(|base| {
                    options
                        .iter()
                        .map(move |o| base.iter().cloned().chain([o.clone()]).collect())
                })
                .collect();
        };
        if let Some(ns) = &self.namespace {
            let value = escape_promql_string(ns);
            branch(vec![
                format!("namespace=\"{value}\""),
                format!("exported_namespace=\"{value}\""),
            ]);
        }
        for matcher in &self.selector {
            match matcher.op {
                MatchOp::Eq | MatchOp::Re => {
                    branch(vec![
                        matcher.promql(&matcher.name),
                        matcher.promql(&format!("exported_{}", matcher.name)),
                    ]);
                }
                MatchOp::Ne | MatchOp::Nre => {
                    branch(vec![format!(
                        "{},{}",
                        matcher.promql(&matcher.name),
                        matcher.promql(&format!("exported_{}", matcher.name))
                    )]);
                }
            }
        }
        let any_of = |values: &[String]| {
            escape_promql_string(
                &values
                    .iter()
                    .map(|v| regex::escape(v))
                    .collect::<Vec<_>>()
                    .join("|"),
            )
        };
        // Long value lists are split over several selectors (their union is the same set):
        // servers cap the query length (VictoriaMetrics: 16 KiB by default).
        let in_groups = |label: &str, values: &[String]| -> Vec<String> {
            values
                .chunks(VALUES_PER_MATCHER)
                .map(|group| format!("{label}=~\"{}\"", any_of(group)))
                .collect()
        };
        if let (Some(label), false) = (&placement.host_label, self.hosts.is_empty()) {
            branch(in_groups(label, &self.hosts));
        }
        if let (Some(label), false) = (&placement.uuid_label, self.gpu_uuids.is_empty()) {
            branch(in_groups(label, &self.gpu_uuids));
        }
        alternatives
            .into_iter()
            .map(|items| {
                if items.is_empty() {
                    metric.to_string()
                } else {
                    format!("{metric}{{{}}}", items.join(","))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::Sample;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn namespace_matches_either_spelling() {
        let scope = Scope {
            namespace: Some("inference".into()),
            ..Scope::default()
        };
        assert!(scope.matches_workload(&labels(&[("namespace", "inference")])));
        // ServiceMonitor with honorLabels: false — the workload namespace is exported_namespace.
        assert!(scope.matches_workload(&labels(&[
            ("namespace", "gpu-operator"),
            ("exported_namespace", "inference")
        ])));
        assert!(!scope.matches_workload(&labels(&[("namespace", "gpu-operator")])));
    }

    #[test]
    fn selector_items_all_apply_and_are_not_dropped() {
        let scope = Scope {
            selector: parse_selector("pod=~vllm-.*, container!=sidecar").unwrap(),
            ..Scope::default()
        };
        assert!(scope.matches_workload(&labels(&[
            ("exported_pod", "vllm-0"),
            ("container", "main")
        ])));
        assert!(!scope.matches_workload(&labels(&[("pod", "vllm-0"), ("container", "sidecar")])));
        assert!(!scope.matches_workload(&labels(&[("pod", "other")])));
        assert_eq!(
            scope.selector_text().as_deref(),
            Some("pod=~vllm-.*,container!=sidecar")
        );
    }

    #[test]
    fn bad_selectors_are_refused() {
        assert_eq!(
            parse_selector("justaword").unwrap_err(),
            ScopeError::BadItem("justaword".into())
        );
        assert!(matches!(
            parse_selector("1pod=x"),
            Err(ScopeError::BadLabelName(_))
        ));
        assert!(matches!(
            parse_selector("pod=~(unclosed"),
            Err(ScopeError::BadRegex { .. })
        ));
    }

    #[test]
    fn promql_escapes_hostile_values_and_expands_spellings() {
        let scope = Scope {
            namespace: Some("a\"} or vector(1) #\\".into()),
            ..Scope::default()
        };
        let selectors = scope.promql_selectors("DCGM_FI_PROF_DRAM_ACTIVE", &Placement::default());
        assert_eq!(
            selectors,
            vec![
                r#"DCGM_FI_PROF_DRAM_ACTIVE{namespace="a\"} or vector(1) #\\"}"#.to_string(),
                r#"DCGM_FI_PROF_DRAM_ACTIVE{exported_namespace="a\"} or vector(1) #\\"}"#
                    .to_string(),
            ]
        );
        // Host and UUID filter on the server only on labels a probe found; regex metacharacters
        // in the values are escaped.
        let placed = Scope {
            hosts: vec!["n1.example".into()],
            gpu_uuids: vec!["GPU-a".into()],
            ..Scope::default()
        };
        assert_eq!(
            placed.promql_selectors("M", &Placement::default()),
            vec!["M".to_string()]
        );
        let found = Placement {
            host_label: Some("hostname".into()),
            uuid_label: Some("UUID".into()),
        };
        assert_eq!(
            placed.promql_selectors("M", &found),
            vec![r#"M{hostname=~"n1\\.example",UUID=~"GPU\\-a"}"#.to_string()]
        );
    }

    #[test]
    fn long_uuid_lists_are_split_over_selectors() {
        // 130 UUIDs = 64 + 64 + 2: three selectors whose union is the list, each query short.
        let uuids: Vec<String> = (0..130).map(|i| format!("GPU-{i:036}")).collect();
        let scope = Scope {
            gpu_uuids: uuids.clone(),
            ..Scope::default()
        };
        let placement = Placement {
            host_label: None,
            uuid_label: Some("UUID".into()),
        };
        let selectors = scope.promql_selectors("M", &placement);
        assert_eq!(selectors.len(), 3);
        assert!(selectors.iter().all(|s| s.len() < 16 * 1024));
        // Every UUID appears in exactly one selector (escaped `-` as `\\-` in PromQL text).
        for uuid in &uuids {
            let needle = uuid.replace('-', "\\\\-");
            let holders = selectors
                .iter()
                .filter(|s| {
                    s.contains(&format!("\"{needle}|"))
                        || s.contains(&format!("|{needle}|"))
                        || s.contains(&format!("|{needle}\""))
                        || s.contains(&format!("\"{needle}\""))
                })
                .count();
            assert_eq!(holders, 1, "{uuid}");
        }
    }

    #[test]
    fn hosts_and_uuids_filter() {
        let scope = Scope {
            hosts: vec!["n2".into()],
            gpu_uuids: vec!["GPU-b".into()],
            ..Scope::default()
        };
        assert!(scope.matches_placement(&labels(&[("hostname", "n2"), ("UUID", "GPU-b")])));
        assert!(!scope.matches_placement(&labels(&[("Hostname", "n1"), ("UUID", "GPU-b")])));
    }

    #[test]
    fn a_gpu_of_the_workload_keeps_its_unlabelled_stretches() {
        // GPU-a carries namespace=inference for t ≤ 60 and no pod labels afterwards (label
        // churn); GPU-b belongs to another namespace. Both stretches of GPU-a are kept, GPU-b not.
        let series = |pairs: &[(&str, &str)], t: f64| RawSeries {
            metric: "DCGM_FI_PROF_DRAM_ACTIVE".into(),
            labels: labels(pairs),
            samples: vec![Sample { t_s: t, value: 0.5 }],
        };
        let scope = Scope {
            namespace: Some("inference".into()),
            ..Scope::default()
        };
        let kept = scope.select(vec![
            series(&[("UUID", "GPU-a"), ("namespace", "inference")], 60.0),
            series(&[("UUID", "GPU-a")], 70.0),
            series(&[("UUID", "GPU-b"), ("namespace", "other")], 60.0),
        ]);
        let times: Vec<f64> = kept.iter().map(|s| s.samples[0].t_s).collect();
        assert_eq!(times, vec![60.0, 70.0]);
    }
}
