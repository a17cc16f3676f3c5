//! The campaign layout (DESIGN.md §1) and its confinement: a campaign slug or cell id is one
//! plain path component, and the directory it names must resolve inside its parent (a symlink
//! pointing out is refused). Outputs are written only inside the cell directory.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Recorded exporter scrapes of a cell.
pub const SCRAPES_FILE: &str = "dcgm-scrapes.prom";
/// The cell's result.
pub const OUTPUT_CORRELATION: &str = "dcgm_correlation.json";
/// The cell's frozen snapshot.
pub const OUTPUT_FROZEN: &str = "dcgm-frozen.yaml";
/// The seed's bench bundle, preferred over other bench files.
pub const PERFBENCH_FILE: &str = "inference_perfbench_v1.json";
/// Profiler categories.
pub const KERNELS_FILE: &str = "kernels.json";
/// What `record` ran and when (the exact window), in the cell.
pub const RECORD_MANIFEST: &str = "dcgm-record.json";
/// `record`'s scrape journal, appended as scrapes come in.
pub const RECORD_JOURNAL: &str = "dcgm-scrapes.journal";
/// Ending of the copy of an llm-d report that `correlate --emit-llmd` writes, our numbers in its
/// `results.observability`.
pub const LLMD_WITH_SOL_SUFFIX: &str = ".with-dcgm-sol.yaml";
/// In a cell made from one run of another cell's multi-run bench file: which file and run.
pub const BENCH_RUN_REF: &str = "dcgm-bench-run.json";
/// In a cell whose runs were split into cells of their own: it is a container, not a cell.
pub const SPLIT_MARKER: &str = "dcgm-split.json";

/// The content of [`BENCH_RUN_REF`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BenchRunRef {
    /// The cell holding the bench file (and the recording, if any).
    pub from_cell: String,
    /// The bench file's name in that cell.
    pub bench_file: String,
    /// The run's index in the file.
    pub index: usize,
    /// The run's label (`constant 2 req/s`).
    pub label: String,
}

/// A layout problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// Not a single plain path component.
    #[error("{what} `{name}` is not allowed: {reason}")]
    BadName {
        /// `campaign slug` or `cell id`.
        what: &'static str,
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// Resolves outside its parent (symlink).
    #[error("{what} `{name}` resolves to {resolved}, outside {parent}: refused")]
    Escapes {
        /// `campaign` or `cell`.
        what: &'static str,
        /// The name.
        name: String,
        /// Where it points.
        resolved: PathBuf,
        /// Where it must stay.
        parent: PathBuf,
    },
    /// Missing directory.
    #[error("{what} {path} does not exist{hint}")]
    NotFound {
        /// What is missing.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// What to do.
        hint: String,
    },
    /// I/O failure.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
}

fn check_component(what: &'static str, name: &str) -> Result<(), LayoutError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name == "." || name == ".." {
        Some("`.` and `..` name other directories")
    } else if name.contains(['/', '\\']) {
        Some("it contains a path separator")
    } else if name.chars().any(char::is_control) {
        Some("it contains a control character")
    } else if name.len() > 255 {
        Some("it is longer than 255 bytes")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(LayoutError::BadName {
            what,
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

fn create_dirs(path: &Path) -> Result<(), LayoutError> {
    fs::create_dir_all(path).map_err(|source| LayoutError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn canonical(path: &Path) -> Result<PathBuf, LayoutError> {
    fs::canonicalize(path).map_err(|source| LayoutError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Joins `name` to `parent` and checks the result stays inside `parent` once symlinks resolve.
fn confined_child(
    what_name: &'static str,
    what_dir: &'static str,
    parent: &Path,
    name: &str,
    hint: &str,
) -> Result<PathBuf, LayoutError> {
    check_component(what_name, name)?;
    let path = parent.join(name);
    if !path.is_dir() {
        return Err(LayoutError::NotFound {
            what: what_dir,
            path,
            hint: hint.to_string(),
        });
    }
    let parent_real = canonical(parent)?;
    let real = canonical(&path)?;
    if !real.starts_with(&parent_real) || real == parent_real {
        return Err(LayoutError::Escapes {
            what: what_dir,
            name: name.to_string(),
            resolved: real,
            parent: parent_real,
        });
    }
    Ok(real)
}

/// A campaign directory.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignDir {
    /// Slug.
    pub slug: String,
    /// Canonical path.
    pub path: PathBuf,
}

/// A cell directory.
#[derive(Debug, Clone, PartialEq)]
pub struct CellDir {
    /// Cell id.
    pub id: String,
    /// Canonical path.
    pub path: PathBuf,
}

impl CampaignDir {
    /// Opens `<campaigns_dir>/<slug>`.
    pub fn open(campaigns_dir: &Path, slug: &str) -> Result<CampaignDir, LayoutError> {
        if !campaigns_dir.is_dir() {
            return Err(LayoutError::NotFound {
                what: "campaigns directory",
                path: campaigns_dir.to_path_buf(),
                hint: " (pass --campaigns-dir DIR)".to_string(),
            });
        }
        let path = confined_child(
            "campaign slug",
            "campaign",
            campaigns_dir,
            slug,
            " (check --campaign and --campaigns-dir)",
        )?;
        Ok(CampaignDir {
            slug: slug.to_string(),
            path,
        })
    }

    /// Opens `<campaigns_dir>/<slug>/cells/<id>`, creating the campaign, its `cells` directory
    /// and the cell when missing (for `record`, which starts a cell). Names are checked before
    /// anything is created, and each existing level must stay inside its parent.
    pub fn create_cell(
        campaigns_dir: &Path,
        slug: &str,
        id: &str,
    ) -> Result<(CampaignDir, CellDir), LayoutError> {
        check_component("campaign slug", slug)?;
        check_component("cell id", id)?;
        let campaign_path = campaigns_dir.join(slug);
        if !campaign_path.exists() {
            create_dirs(&campaign_path)?;
        }
        let campaign = CampaignDir::open(campaigns_dir, slug)?;
        let cell = campaign.new_cell(id)?;
        Ok((campaign, cell))
    }

    /// Opens `cells/<id>`, creating `cells` and the cell when missing; each existing level must
    /// stay inside its parent.
    pub fn new_cell(&self, id: &str) -> Result<CellDir, LayoutError> {
        check_component("cell id", id)?;
        let cells = self.cells_dir();
        create_dirs(&cells)?;
        let resolved = canonical(&cells)?;
        if !resolved.starts_with(&self.path) {
            return Err(LayoutError::Escapes {
                what: "cells directory",
                name: "cells".to_string(),
                resolved,
                parent: self.path.clone(),
            });
        }
        let cell_path = cells.join(id);
        if !cell_path.exists() {
            create_dirs(&cell_path)?;
        }
        self.cell(id)
    }

    fn cells_dir(&self) -> PathBuf {
        self.path.join("cells")
    }

    /// Opens `cells/<id>`.
    pub fn cell(&self, id: &str) -> Result<CellDir, LayoutError> {
        let hint = format!(
            " (cells of campaign `{}` live in {})",
            self.slug,
            self.cells_dir().display()
        );
        let path = confined_child("cell id", "cell", &self.cells_dir(), id, &hint)?;
        Ok(CellDir {
            id: id.to_string(),
            path,
        })
    }

    /// Every cell id (directory under `cells/`), sorted; cells split into one cell per run
    /// (holding [`SPLIT_MARKER`]) are containers and left out.
    pub fn cell_ids(&self) -> Result<Vec<String>, LayoutError> {
        let dir = self.cells_dir();
        let entries = fs::read_dir(&dir).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => LayoutError::NotFound {
                what: "cells directory",
                path: dir.clone(),
                hint: String::new(),
            },
            _ => LayoutError::Io {
                path: dir.clone(),
                source,
            },
        })?;
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| LayoutError::Io {
                path: dir.clone(),
                source,
            })?;
            if entry.path().is_dir() && !entry.path().join(SPLIT_MARKER).exists() {
                ids.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// `atlas.jsonl`, if present.
    pub fn atlas_path(&self) -> Option<PathBuf> {
        Some(self.path.join("atlas.jsonl")).filter(|p| p.exists())
    }
}

impl CellDir {
    /// A file in the cell.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The cell's recorded scrapes, if present.
    pub fn scrapes(&self) -> Option<PathBuf> {
        // Anything by that name: a directory there is an error to report, not "no recording".
        Some(self.file(SCRAPES_FILE)).filter(|p| p.exists())
    }

    /// Which run of which cell's bench file this cell is, when it was split off one.
    pub fn bench_run_ref(&self) -> Option<PathBuf> {
        Some(self.file(BENCH_RUN_REF)).filter(|p| p.is_file())
    }

    /// The cell's kernels.json, if present.
    pub fn kernels(&self) -> Option<PathBuf> {
        Some(self.file(KERNELS_FILE)).filter(|p| p.exists())
    }

    /// Bench result candidates: every `.json`/`.jsonl`/`.yaml`/`.yml` file that is not one of our inputs or
    /// outputs, sorted by name.
    pub fn bench_candidates(&self) -> Result<Vec<PathBuf>, LayoutError> {
        let entries = fs::read_dir(&self.path).map_err(|source| LayoutError::Io {
            path: self.path.clone(),
            source,
        })?;
        let mut found = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|source| LayoutError::Io {
                    path: self.path.clone(),
                    source,
                })?
                .path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // JSON, JSON Lines, and YAML (llm-d reports); never our own outputs.
            let is_bench_text = [".json", ".jsonl", ".yaml", ".yml"]
                .iter()
                .any(|extension| name.ends_with(extension));
            let ours = name == OUTPUT_CORRELATION
                || name == OUTPUT_FROZEN
                || name.ends_with(LLMD_WITH_SOL_SUFFIX)
                || name == KERNELS_FILE
                || name == RECORD_MANIFEST
                || name == BENCH_RUN_REF
                || name == SPLIT_MARKER
                || name.starts_with("ncu")
                || name.starts_with('.');
            if path.is_file() && is_bench_text && !ours {
                found.push(path);
            }
        }
        found.sort();
        Ok(found)
    }

    /// Whether Nsight Compute evidence sits in the cell (`ncu*.json` or `*.ncu-rep`): rigor L4.
    pub fn has_ncu_evidence(&self) -> bool {
        fs::read_dir(&self.path).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                (name.starts_with("ncu") && name.ends_with(".json")) || name.ends_with(".ncu-rep")
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign() -> (tempfile::TempDir, CampaignDir) {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join("camp/cells/c1")).unwrap();
        let campaign = CampaignDir::open(root.path(), "camp").unwrap();
        (root, campaign)
    }

    #[test]
    fn refuses_names_that_leave_their_parent() {
        let (_root, campaign) = campaign();
        for bad in ["..", ".", "", "a/b", "../camp", "/etc", "c\n1"] {
            assert!(
                matches!(campaign.cell(bad), Err(LayoutError::BadName { .. })),
                "{bad:?}"
            );
        }
        assert!(matches!(
            campaign.cell("nope"),
            Err(LayoutError::NotFound { .. })
        ));
        assert_eq!(campaign.cell("c1").unwrap().id, "c1");
        assert_eq!(campaign.cell_ids().unwrap(), vec!["c1".to_string()]);
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_symlinked_cell_pointing_outside() {
        let (root, campaign) = campaign();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("camp/cells/evil")).unwrap();
        assert!(matches!(
            campaign.cell("evil"),
            Err(LayoutError::Escapes { .. })
        ));
    }

    #[test]
    fn bench_candidates_skip_our_files() {
        let (_root, campaign) = campaign();
        let cell = campaign.cell("c1").unwrap();
        for name in [
            "vllm.json",
            "dcgm_correlation.json",
            "kernels.json",
            "ncu-report.json",
            "notes.txt",
        ] {
            fs::write(cell.file(name), "{}").unwrap();
        }
        assert_eq!(
            cell.bench_candidates().unwrap(),
            vec![cell.file("vllm.json")]
        );
        assert!(cell.has_ncu_evidence());
    }
}
