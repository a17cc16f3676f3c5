//! Shared helpers of the binary's integration tests: a scratch campaigns directory holding a
//! copy of the shipped example campaign, and a command builder.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// Repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The shipped example campaign.
pub fn example_campaign() -> PathBuf {
    repo_root().join("examples/campaigns/h200-tp8-sweep")
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A temporary campaigns directory with the example campaign copied in (outputs removed).
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn with_example() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("h200-tp8-sweep");
        copy_tree(&example_campaign(), &target);
        for cell in fs::read_dir(target.join("cells")).unwrap() {
            let cell = cell.unwrap().path();
            let _ = fs::remove_file(cell.join("dcgm_correlation.json"));
            let _ = fs::remove_file(cell.join("dcgm-frozen.yaml"));
        }
        Scratch { dir }
    }

    pub fn empty() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cell(&self, campaign: &str, cell: &str) -> PathBuf {
        self.path().join(campaign).join("cells").join(cell)
    }

    /// `dcgm-sol --campaigns-dir <scratch> <args>` with a fixed environment.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("dcgm-sol").unwrap();
        cmd.env_remove("SOL_CEILINGS_YAML")
            .env_remove("SOL_CAMPAIGNS_DIR")
            .env_remove("PROMETHEUS_URL")
            .env_remove("PROMETHEUS_BEARER_TOKEN")
            .env_remove("PROMETHEUS_BASIC_AUTH_PASSWORD")
            .env("TZ", "UTC");
        cmd.arg("--campaigns-dir").arg(self.path()).args(args);
        cmd
    }

    pub fn read_json(&self, path: &Path) -> serde_json::Value {
        serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
    }
}

/// The resource row of a dcgm_correlation.json.
pub fn row<'a>(result: &'a serde_json::Value, resource: &str) -> &'a serde_json::Value {
    result["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == resource)
        .unwrap_or_else(|| panic!("no {resource} row"))
}

/// |a − b| ≤ tolerance, with a readable failure.
pub fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} vs expected {expected} (±{tolerance})"
    );
}
