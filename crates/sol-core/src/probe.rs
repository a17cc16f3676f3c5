//! The pre-flight probe (the seed's "knowledge base" step): before any data query, which DCGM
//! metrics exist in scope, which labels their series carry, how many series there are, which
//! tier each resource will use, and which hosts and GPUs are in scope. Pure: the source lists the
//! series (label sets with `__name__`); this module judges them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::catalog::{self, FieldFamily};
use crate::labels::{GpuKey, HOST_LABELS, Labels, MODEL_NAME_LABELS, UUID_LABELS, first_label};
use crate::measure::{Resource, Tier};
use crate::scope::{Placement, Scope};

/// Default bound on the series in scope. DESIGN.md §3 says 1000, but one GB300 NVL72 rack — a
/// target of the tool — exports 72 GPUs × 14–25 catalog quantities = 1 008–1 800 series; 2000
/// admits one rack and still stops a selector that matches a cluster (256 GPUs × 14 fields is
/// 3 584 series).
pub const DEFAULT_MAX_SERIES: usize = 2000;

/// One metric found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricFound {
    /// Metric name.
    pub metric: String,
    /// `prof` or `dev`.
    pub family: FieldFamily,
    /// Series in scope.
    pub series: usize,
    /// Distinct GPUs (UUID + MIG instance) among them.
    pub gpus: usize,
    /// Label names its series carry.
    pub labels: Vec<String>,
}

/// The tier a resource will use and the metrics behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourcePlan {
    /// The resource.
    pub resource: Resource,
    /// `prof`, `counter` or `absent`.
    pub tier: Tier,
    /// Metric names that will be used.
    pub metrics: Vec<String>,
}

/// Which identity and attribution labels the data carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelPresence {
    /// Host label in use (`Hostname`, `hostname`, `node`, `instance`).
    pub host_label: Option<String>,
    /// UUID label in use.
    pub uuid_label: Option<String>,
    /// Series carry the `gpu` index.
    pub gpu_index: bool,
    /// Workload labels as the exporter wrote them (`pod`, `namespace`).
    pub pod: bool,
    /// Workload labels renamed by a ServiceMonitor (`exported_pod`, `exported_namespace`).
    pub exported_pod: bool,
    /// MIG instance series (`GPU_I_ID`).
    pub mig_instances: bool,
    /// `modelName` values.
    pub model_names: Vec<String>,
}

/// The probe's findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// Series of catalog metrics in scope.
    pub series_total: usize,
    /// The bound.
    pub max_series: usize,
    /// Above the bound: the data query is refused unless forced.
    pub over_limit: bool,
    /// Per metric found.
    pub metrics: Vec<MetricFound>,
    /// Per resource.
    pub resources: Vec<ResourcePlan>,
    /// Label facts.
    pub labels: LabelPresence,
    /// Hosts in scope.
    pub hosts: Vec<String>,
    /// Distinct GPUs in scope.
    pub gpus: usize,
    /// Median sample spacing of one series, when measured.
    pub scrape_interval_s: Option<f64>,
    /// UUIDs of the GPUs in scope under the placement's UUID label, when there are series in
    /// scope and every one carries that label (else `None`).
    pub gpu_uuids: Option<Vec<String>>,
    /// The labels a data query may filter hosts and UUIDs on.
    pub placement: Placement,
    /// Warnings for the user (no host label, workload labels missing, …).
    pub notes: Vec<String>,
}

impl ProbeReport {
    /// Catalog names found in scope: what the data query fetches.
    pub fn metrics_present(&self) -> Vec<&'static str> {
        catalog::all_metric_names()
            .filter(|name| self.metrics.iter().any(|m| m.metric == *name))
            .collect()
    }

    /// The labels a query may filter hosts and UUIDs on.
    pub fn placement(&self) -> Placement {
        self.placement.clone()
    }

    /// The scope the data query uses. A workload scope (namespace, selector) is replaced by
    /// the UUIDs of the GPUs it matched: the listing only sees series carrying the workload's
    /// labels, but a GPU's stretches without them (pod-attribution churn) are its time too —
    /// [`Scope::select`] with the original scope then keeps every series of those GPUs. Without
    /// UUIDs on every series the original scope is queried as is.
    pub fn data_scope(&self, scope: &Scope) -> Scope {
        match &self.gpu_uuids {
            Some(uuids) if scope.namespace.is_some() || !scope.selector.is_empty() => Scope {
                namespace: None,
                selector: Vec::new(),
                hosts: scope.hosts.clone(),
                gpu_uuids: uuids.clone(),
            },
            _ => scope.clone(),
        }
    }
}

/// Judges the series the source listed. `series` carry `__name__`; names outside the catalog
/// are ignored. The scope's host/UUID items are applied here (servers list what the workload
/// labels select).
pub fn build_report(
    series: &[Labels],
    scope: &Scope,
    max_series: usize,
    scrape_interval_s: Option<f64>,
) -> ProbeReport {
    let in_scope: Vec<(&str, &Labels)> = series
        .iter()
        .filter_map(|labels| Some((labels.get("__name__")?.as_str(), labels)))
        .filter(|(name, labels)| catalog::lookup(name).is_some() && scope.matches_placement(labels))
        .collect();
    let mut by_metric: BTreeMap<&str, Vec<&Labels>> = BTreeMap::new();
    for (name, labels) in &in_scope {
        by_metric.entry(name).or_default().push(labels);
    }
    let identity = |l: &Labels| GpuKey::from_labels(l).map(|k| k.identity());
    let metrics: Vec<MetricFound> = by_metric
        .iter()
        .map(|(name, series)| {
            let label_names: BTreeSet<&str> = series
                .iter()
                .flat_map(|l| l.keys().map(String::as_str))
                .filter(|k| *k != "__name__")
                .collect();
            let gpus: BTreeSet<_> = series.iter().filter_map(|l| identity(l)).collect();
            MetricFound {
                metric: (*name).to_string(),
                family: catalog::lookup(name).map_or(FieldFamily::Dev, |(spec, _)| spec.family),
                series: series.len(),
                gpus: gpus.len(),
                labels: label_names.into_iter().map(str::to_string).collect(),
            }
        })
        .collect();
    let present: BTreeSet<_> = by_metric
        .keys()
        .filter_map(|name| catalog::lookup(name).map(|(spec, _)| spec.quantity))
        .collect();
    let names_of = |quantities: &[catalog::Quantity]| -> Vec<String> {
        by_metric
            .keys()
            .filter(|name| {
                catalog::lookup(name).is_some_and(|(spec, _)| quantities.contains(&spec.quantity))
            })
            .map(|name| (*name).to_string())
            .collect()
    };
    let resources = Resource::ALL
        .iter()
        .map(|&resource| {
            let prof = resource.prof_quantities();
            let counter: Vec<_> = resource.counter_quantity().into_iter().collect();
            let (tier, metrics) = if prof.iter().any(|q| present.contains(q)) {
                (Tier::Prof, names_of(&prof))
            } else if counter.iter().any(|q| present.contains(q)) {
                (Tier::Counter, names_of(&counter))
            } else {
                (Tier::Absent, Vec::new())
            };
            ResourcePlan {
                resource,
                tier,
                metrics,
            }
        })
        .collect();
    let all: Vec<&Labels> = in_scope.iter().map(|(_, l)| *l).collect();
    let labels = label_presence(&all);
    let hosts: BTreeSet<String> = all
        .iter()
        .filter_map(|l| first_label(l, &HOST_LABELS))
        .map(str::to_string)
        .collect();
    let gpus: BTreeSet<_> = all.iter().filter_map(|l| identity(l)).collect();
    let placement = Placement {
        host_label: filter_label(&all, &HOST_LABELS, &scope.hosts),
        uuid_label: filter_label(&all, &UUID_LABELS, &scope.gpu_uuids),
    };
    let uuids: Option<BTreeSet<String>> = placement
        .uuid_label
        .as_ref()
        .map(|label| all.iter().filter_map(|l| l.get(label).cloned()).collect());
    let mut notes = Vec::new();
    if all.is_empty() {
        notes.push("no DCGM series in scope: check the URL, the window, and the scope flags (--namespace matches namespace or exported_namespace)".to_string());
    }
    if !all.is_empty() && labels.host_label.is_none() {
        notes.push("series carry no host label (Hostname/hostname/node/instance): GPUs are told apart by UUID only".to_string());
    }
    if labels.uuid_label.is_none() && !all.is_empty() {
        notes.push(
            "series carry no UUID label: GPUs are identified by host + gpu index".to_string(),
        );
    }
    if scope.namespace.is_some() && !labels.pod && !labels.exported_pod {
        notes.push("the namespace scope matched series without pod attribution labels: is the exporter's own namespace being selected? With a ServiceMonitor the workload namespace is exported_namespace".to_string());
    }
    let series_total = all.len();
    ProbeReport {
        series_total,
        max_series,
        over_limit: series_total > max_series,
        metrics,
        resources,
        labels,
        hosts: hosts.into_iter().collect(),
        gpus: gpus.len(),
        scrape_interval_s,
        gpu_uuids: uuids
            .filter(|u| !u.is_empty())
            .map(|u| u.into_iter().collect()),
        placement,
        notes,
    }
}

/// The first of `candidates` (in their order of preference) that every series carries,
/// non-empty, with a value in `wanted` when any are wanted: the one label a server-side filter
/// can use without losing a series. `None` when no label qualifies.
fn filter_label(series: &[&Labels], candidates: &[&str], wanted: &[String]) -> Option<String> {
    candidates
        .iter()
        .find(|name| {
            !series.is_empty()
                && series.iter().all(|l| {
                    l.get(**name)
                        .is_some_and(|v| !v.is_empty() && (wanted.is_empty() || wanted.contains(v)))
                })
        })
        .map(|name| name.to_string())
}

/// The label most series use among `candidates`; ties go to the earlier candidate (scraped
/// series carry both `Hostname` and `instance`).
fn dominant_label(series: &[&Labels], candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .rev()
        .map(|name| {
            (
                series
                    .iter()
                    .filter(|l| l.get(*name).is_some_and(|v| !v.is_empty()))
                    .count(),
                *name,
            )
        })
        .filter(|(count, _)| *count > 0)
        .max_by_key(|(count, _)| *count)
        .map(|(_, name)| name.to_string())
}

fn label_presence(series: &[&Labels]) -> LabelPresence {
    let has = |name: &str| series.iter().any(|l| l.contains_key(name));
    let models: BTreeSet<String> = series
        .iter()
        .filter_map(|l| first_label(l, &MODEL_NAME_LABELS))
        .map(str::to_string)
        .collect();
    LabelPresence {
        host_label: dominant_label(series, &HOST_LABELS),
        uuid_label: dominant_label(series, &UUID_LABELS),
        gpu_index: has("gpu"),
        pod: has("pod") || has("namespace"),
        exported_pod: has("exported_pod") || has("exported_namespace"),
        mig_instances: has("GPU_I_ID"),
        model_names: models.into_iter().collect(),
    }
}

/// The report as text.
pub fn render_probe(report: &ProbeReport) -> String {
    let mut out = format!(
        "{} series in scope ({} GPUs on {} host(s)); bound {}{}\n",
        report.series_total,
        report.gpus,
        report.hosts.len(),
        report.max_series,
        if report.over_limit {
            " — OVER THE BOUND: narrow the scope or pass --force"
        } else {
            ""
        }
    );
    if let Some(interval) = report.scrape_interval_s {
        out.push_str(&format!("scrape interval seen: {interval:.1} s\n"));
    }
    let l = &report.labels;
    out.push_str(&format!(
        "labels: host {} · UUID {} · gpu index {} · pod/namespace {} · exported_pod/namespace {} · MIG instances {} · models {}\n",
        l.host_label.as_deref().unwrap_or("none"),
        l.uuid_label.as_deref().unwrap_or("none"),
        yes_no(l.gpu_index),
        yes_no(l.pod),
        yes_no(l.exported_pod),
        yes_no(l.mig_instances),
        if l.model_names.is_empty() { "?".to_string() } else { l.model_names.join(", ") }
    ));
    out.push_str("resources:\n");
    for r in &report.resources {
        out.push_str(&format!(
            "  {:<7} {:<8} {}\n",
            r.resource.label(),
            format!("{:?}", r.tier).to_lowercase(),
            r.metrics.join(", ")
        ));
    }
    out.push_str("metrics:\n");
    for m in &report.metrics {
        out.push_str(&format!(
            "  {:<42} {:>5} series {:>4} GPUs  [{}]\n",
            m.metric,
            m.series,
            m.gpus,
            m.labels.join(",")
        ));
    }
    if !report.hosts.is_empty() {
        out.push_str(&format!("hosts: {}\n", report.hosts.join(", ")));
    }
    for note in &report.notes {
        out.push_str(&format!("! {note}\n"));
    }
    out
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, pairs: &[(&str, &str)]) -> Labels {
        let mut labels: Labels = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        labels.insert("__name__".into(), name.into());
        labels
    }

    #[test]
    fn tiers_labels_gpus_and_the_bound() {
        // Two GPUs on one host with DRAM_ACTIVE (PROF), one of them also split by pod labels
        // (2 series, 1 GPU); GPU_UTIL (DEV) on both; an unknown metric is ignored.
        let a = [
            ("UUID", "GPU-a"),
            ("Hostname", "n1"),
            ("gpu", "0"),
            ("modelName", "NVIDIA H100 80GB HBM3"),
        ];
        let a_pod = [
            ("UUID", "GPU-a"),
            ("Hostname", "n1"),
            ("gpu", "0"),
            ("exported_pod", "vllm-0"),
        ];
        let b = [("UUID", "GPU-b"), ("Hostname", "n1"), ("gpu", "1")];
        let listed = vec![
            series("DCGM_FI_PROF_DRAM_ACTIVE", &a),
            series("DCGM_FI_PROF_DRAM_ACTIVE", &a_pod),
            series("DCGM_FI_PROF_DRAM_ACTIVE", &b),
            series("DCGM_FI_DEV_GPU_UTIL", &a),
            series("DCGM_FI_DEV_GPU_UTIL", &b),
            series("up", &[("job", "x")]),
        ];
        let report = build_report(&listed, &Scope::default(), 4, Some(15.0));
        assert_eq!(report.series_total, 5);
        assert!(report.over_limit, "5 series > bound 4");
        assert_eq!(report.gpus, 2);
        assert_eq!(report.hosts, vec!["n1".to_string()]);
        let dram = &report.metrics[1];
        assert_eq!(
            (dram.metric.as_str(), dram.series, dram.gpus),
            ("DCGM_FI_PROF_DRAM_ACTIVE", 3, 2)
        );
        let tier = |r: Resource| {
            report
                .resources
                .iter()
                .find(|p| p.resource == r)
                .unwrap()
                .tier
        };
        assert_eq!(tier(Resource::Hbm), Tier::Prof);
        assert_eq!(
            tier(Resource::Tensor),
            Tier::Counter,
            "GPU_UTIL is the tensor fallback"
        );
        assert_eq!(tier(Resource::Nvlink), Tier::Absent);
        assert_eq!(report.labels.host_label.as_deref(), Some("Hostname"));
        assert!(report.labels.exported_pod && !report.labels.pod);
        assert_eq!(
            report.metrics_present(),
            vec!["DCGM_FI_PROF_DRAM_ACTIVE", "DCGM_FI_DEV_GPU_UTIL"]
        );
        assert_eq!(report.placement().uuid_label.as_deref(), Some("UUID"));
        let text = render_probe(&report);
        assert!(text.contains("OVER THE BOUND"), "{text}");
        assert!(text.contains("scrape interval seen: 15.0 s"), "{text}");
    }

    #[test]
    fn empty_scope_says_what_to_check() {
        let report = build_report(&[], &Scope::default(), DEFAULT_MAX_SERIES, None);
        assert!(!report.over_limit);
        assert!(report.notes[0].contains("no DCGM series in scope"));
        assert_eq!(report.gpu_uuids, None, "no UUID list may widen a query");
    }

    /// One series per GPU and catalog quantity (its preferred name), GPUs 4 to a host.
    fn rack(gpus: usize, quantities: usize) -> Vec<Labels> {
        (0..gpus)
            .flat_map(|gpu| {
                crate::catalog::CATALOG[..quantities]
                    .iter()
                    .map(move |spec| {
                        let (uuid, host) = (format!("GPU-{gpu}"), format!("n{}", gpu / 4));
                        series(spec.names[0].name, &[("UUID", &uuid), ("Hostname", &host)])
                    })
            })
            .collect()
    }

    #[test]
    fn the_default_bound_admits_a_rack_and_stops_a_cluster() {
        // A GB300 NVL72 rack with all 25 catalog quantities: 72 × 25 = 1 800 ≤ 2 000.
        let report = build_report(&rack(72, 25), &Scope::default(), DEFAULT_MAX_SERIES, None);
        assert_eq!(report.series_total, 1800);
        assert!(!report.over_limit);
        // A selector matching 256 GPUs with 14 fields each: 3 584 > 2 000.
        let report = build_report(&rack(256, 14), &Scope::default(), DEFAULT_MAX_SERIES, None);
        assert_eq!(report.series_total, 3584);
        assert!(report.over_limit);
    }

    #[test]
    fn a_workload_scope_becomes_the_uuids_it_matched() {
        // The listing saw GPU-a and GPU-b under the namespace (the server applied it); the
        // host item stays, the UUIDs replace the namespace.
        let listed = vec![
            series(
                "DCGM_FI_PROF_DRAM_ACTIVE",
                &[
                    ("UUID", "GPU-b"),
                    ("Hostname", "n1"),
                    ("exported_namespace", "inf"),
                ],
            ),
            series(
                "DCGM_FI_PROF_DRAM_ACTIVE",
                &[
                    ("UUID", "GPU-a"),
                    ("Hostname", "n1"),
                    ("exported_namespace", "inf"),
                ],
            ),
        ];
        let scope = Scope {
            namespace: Some("inf".into()),
            hosts: vec!["n1".into()],
            ..Scope::default()
        };
        let report = build_report(&listed, &scope, DEFAULT_MAX_SERIES, None);
        let data = report.data_scope(&scope);
        assert_eq!(data.namespace, None);
        assert_eq!(data.hosts, vec!["n1".to_string()]);
        assert_eq!(
            data.gpu_uuids,
            vec!["GPU-a".to_string(), "GPU-b".to_string()]
        );
        // Placement-only scopes are queried as given.
        let placed = Scope {
            hosts: vec!["n1".into()],
            ..Scope::default()
        };
        assert_eq!(report.data_scope(&placed), placed);
    }

    #[test]
    fn server_side_filters_use_the_label_every_series_matches_on() {
        // Scraped series carry both Hostname and instance (as in the real H100 query fixture):
        // a tie in use. The host asked for is a Hostname value, so the filter must be on
        // Hostname — on instance it would match nothing.
        let listed = vec![
            series(
                "DCGM_FI_PROF_DRAM_ACTIVE",
                &[
                    ("UUID", "GPU-a"),
                    ("Hostname", "n1"),
                    ("instance", "10.0.0.5:9400"),
                ],
            ),
            series(
                "DCGM_FI_PROF_DRAM_ACTIVE",
                &[
                    ("UUID", "GPU-b"),
                    ("Hostname", "n1"),
                    ("instance", "10.0.0.5:9400"),
                ],
            ),
        ];
        let scope = Scope {
            hosts: vec!["n1".into()],
            ..Scope::default()
        };
        let report = build_report(&listed, &scope, DEFAULT_MAX_SERIES, None);
        assert_eq!(report.placement().host_label.as_deref(), Some("Hostname"));
        assert_eq!(report.labels.host_label.as_deref(), Some("Hostname"));
        let selectors = scope.promql_selectors("DCGM_FI_PROF_DRAM_ACTIVE", &report.placement());
        assert_eq!(
            selectors,
            vec![r#"DCGM_FI_PROF_DRAM_ACTIVE{Hostname=~"n1"}"#.to_string()]
        );
        // Asked by instance, the filter moves to instance.
        let by_instance = Scope {
            hosts: vec!["10.0.0.5:9400".into()],
            ..Scope::default()
        };
        let report = build_report(&listed, &by_instance, DEFAULT_MAX_SERIES, None);
        assert_eq!(report.placement().host_label.as_deref(), Some("instance"));
        // UUIDs under two spellings: no single label holds them all, so no UUID filter and no
        // UUID list (the namespace scope is then queried as given).
        let mixed = vec![
            series(
                "DCGM_FI_PROF_DRAM_ACTIVE",
                &[("UUID", "GPU-a"), ("namespace", "inf")],
            ),
            series(
                "DCGM_FI_PROF_DRAM_ACTIVE",
                &[("gpu_uuid", "GPU-b"), ("namespace", "inf")],
            ),
        ];
        let workload = Scope {
            namespace: Some("inf".into()),
            ..Scope::default()
        };
        let report = build_report(&mixed, &workload, DEFAULT_MAX_SERIES, None);
        assert_eq!(report.placement().uuid_label, None);
        assert_eq!(report.gpu_uuids, None);
        assert_eq!(report.data_scope(&workload), workload);
    }

    #[test]
    fn series_without_uuids_keep_the_workload_scope() {
        // An old exporter without UUID labels: a UUID list would drop its series.
        let listed = vec![
            series(
                "DCGM_FI_PROF_DRAM_ACTIVE",
                &[("UUID", "GPU-a"), ("namespace", "inf")],
            ),
            series(
                "DCGM_FI_PROF_DRAM_ACTIVE",
                &[("gpu", "1"), ("Hostname", "n2"), ("namespace", "inf")],
            ),
        ];
        let scope = Scope {
            namespace: Some("inf".into()),
            ..Scope::default()
        };
        let report = build_report(&listed, &scope, DEFAULT_MAX_SERIES, None);
        assert_eq!(report.gpu_uuids, None);
        assert_eq!(report.data_scope(&scope), scope);
    }
}
