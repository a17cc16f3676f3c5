//! Where a cell's DCGM series come from: recorded scrapes (a file) or a Prometheus-compatible
//! API. Both deliver raw series for the same computation.

use std::path::Path;

use anyhow::anyhow;
use sol_core::integrate::median_interval_s;
use sol_core::labels::Labels;
use sol_core::source::{FetchRequest, Fetched, MetricSource};
use sol_io::{CampaignDir, CellDir, RecordedScrapes};

use crate::cli::SourceArgs;
use crate::exit::{AppError, input};
use crate::inputs::display_path;

/// The source of one cell.
pub enum CellSource {
    /// A recorded scrapes file.
    Recorded(RecordedScrapes),
}

impl CellSource {
    /// The source the flags name for a cell: recorded scrapes given or found in the cell.
    pub fn for_cell(
        args: &SourceArgs,
        campaign: &CampaignDir,
        cell: &CellDir,
    ) -> Result<CellSource, AppError> {
        let path = args.scrapes.clone().or_else(|| cell.scrapes()).ok_or_else(|| {
            input(anyhow!(
                "cell `{}`: no metric source — no {} in {}, no --scrapes FILE and no --prometheus URL",
                cell.id,
                sol_io::SCRAPES_FILE,
                cell.path.display()
            ))
        })?;
        Ok(CellSource::Recorded(recorded(campaign, &path)))
    }

    /// The source the flags name when there is no cell (`probe --start/--end`).
    pub fn from_flags(args: &SourceArgs) -> Result<CellSource, AppError> {
        let path = args
            .scrapes
            .clone()
            .ok_or_else(|| input(anyhow!("give a source: --prometheus URL or --scrapes FILE")))?;
        Ok(CellSource::Recorded(RecordedScrapes {
            display_name: path.display().to_string(),
            path,
        }))
    }

    /// Every series of a catalog metric in the request's scope and range, as label sets with
    /// `__name__`, and the median sample spacing seen — what the probe judges.
    pub fn list_series(
        &self,
        request: &FetchRequest,
    ) -> Result<(Vec<Labels>, Option<f64>), AppError> {
        match self {
            CellSource::Recorded(_) => {
                let fetched = self.fetch(request)?;
                let mut spacings: Vec<f64> = fetched
                    .series
                    .iter()
                    .filter_map(|s| median_interval_s(&s.samples))
                    .collect();
                spacings.sort_by(f64::total_cmp);
                let interval = spacings.get(spacings.len() / 2).copied();
                let listed = fetched
                    .series
                    .into_iter()
                    .map(|s| {
                        let mut labels = s.labels;
                        labels.insert("__name__".to_string(), s.metric);
                        labels
                    })
                    .collect();
                Ok((listed, interval))
            }
        }
    }

    /// How provenance names the source.
    pub fn captured_source(&self) -> String {
        match self {
            CellSource::Recorded(r) => format!("recorded_scrapes:{}", r.display_name),
        }
    }

    /// Fetches the request's raw samples.
    pub fn fetch(&self, request: &FetchRequest) -> Result<Fetched, AppError> {
        match self {
            // Every failure of a recorded source is a problem with the file: exit 2.
            CellSource::Recorded(r) => r.fetch(request).map_err(input),
        }
    }
}

fn recorded(campaign: &CampaignDir, path: &Path) -> RecordedScrapes {
    RecordedScrapes {
        display_name: display_path(campaign, path),
        path: path.to_path_buf(),
    }
}
