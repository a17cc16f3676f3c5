//! `dcgm-sol record`: runs a bench command while scraping the dcgm-exporter(s) directly, so no
//! monitoring stack is needed and nothing ages out. Every scrape is journaled as it arrives; at
//! the end the cell gets `dcgm-scrapes.prom` (OpenMetrics with timestamps) and
//! `dcgm-record.json` (the command's exact window), then is correlated. Exits with the
//! command's exit code.

use std::process::ExitCode;
use std::sync::mpsc;

use anyhow::{Context as _, anyhow};
use sol_core::record::{
    MANIFEST_SCHEMA, Outcome, RecordGap, RecordManifest, decode_journal, to_openmetrics,
};
use sol_io::{
    CampaignDir, CellDir, RECORD_JOURNAL, RECORD_MANIFEST, SCRAPES_FILE, read_text, write_atomic,
};

use crate::cli::{
    CellArgs, CorrelateArgs, GlobalArgs, RecordArgs, ScopeArgs, SourceArgs, WindowArgs,
};
use crate::exit::{AppError, input, runtime};
use crate::recorder::child::{self, Finished};
use crate::recorder::journal::JournalWriter;
use crate::recorder::scraper::Scrapers;

pub fn run(global: &GlobalArgs, args: &RecordArgs) -> Result<ExitCode, AppError> {
    for url in &args.exporters {
        check_exporter_url(url)?;
    }
    let (campaign, cell) =
        CampaignDir::create_cell(&global.campaigns_dir, &args.campaign, &args.cell_id)
            .map_err(input)?;
    let journal_path = cell.file(RECORD_JOURNAL);
    let (sink, entries) = mpsc::channel();
    let journal = JournalWriter::start(&journal_path, entries).map_err(runtime)?;
    tracing::info!(
        "recording {} exporter(s) every {:.3} s into {}",
        args.exporters.len(),
        args.interval.as_secs_f64(),
        journal_path.display()
    );
    let scrapers = Scrapers::start(&args.exporters, args.interval, sink);
    let ran = child::run(&args.command);
    scrapers.stop();
    let journaled = journal.finish().map_err(runtime)?;
    let finished = ran.map_err(input)?;
    let manifest = write_recording(&cell, args, &finished)?;
    tracing::info!(
        "{journaled} scrapes journaled; {} with a body, {} gaps",
        manifest.scrapes,
        manifest.gaps.len()
    );
    for gap in &manifest.gaps {
        tracing::warn!("gap: {} at {:.3}: {}", gap.exporter, gap.at_s, gap.error);
    }
    let passed_on = ExitCode::from(finished.passed_on_code());
    if args.no_correlate {
        return Ok(passed_on);
    }
    match super::correlate::run(global, &correlate_args(&campaign, &cell, args)) {
        Ok(()) => Ok(passed_on),
        // The command's failure is the news; a correlate failure after a good run is the error.
        Err(error) if finished.passed_on_code() == 0 => Err(error),
        Err(error) => {
            crate::output::print_error(&error);
            Ok(passed_on)
        }
    }
}

/// `http(s)://host[:port]/path`; credentials in the URL are refused (they would land in the
/// journal and the manifest).
fn check_exporter_url(url: &str) -> Result<(), AppError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            input(anyhow!(
                "--exporter {url}: give an http:// or https:// URL, e.g. http://node-1:9400/metrics"
            ))
        })?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(input(anyhow!("--exporter {url}: no host")));
    }
    if authority.contains('@') {
        return Err(input(anyhow!(
            "--exporter: a URL with credentials is refused (they would be written into the journal); dcgm-exporter needs none"
        )));
    }
    Ok(())
}

/// Turns the journal into the OpenMetrics file and writes the manifest.
fn write_recording(
    cell: &CellDir,
    args: &RecordArgs,
    finished: &Finished,
) -> Result<RecordManifest, AppError> {
    let journal_path = cell.file(RECORD_JOURNAL);
    let text = read_text(&journal_path).map_err(runtime)?;
    let decoded = decode_journal(&text);
    let mut gaps = Vec::new();
    let mut bodies = Vec::new();
    for entry in &decoded.entries {
        match &entry.outcome {
            Outcome::Body(body) => bodies.push((entry.taken_at_s, body.as_str())),
            Outcome::Gap(error) => gaps.push(RecordGap {
                exporter: entry.exporter.clone(),
                at_s: entry.taken_at_s,
                error: error.clone(),
            }),
        }
    }
    let openmetrics = to_openmetrics(&bodies);
    let mut journal_damage: Vec<String> = decoded
        .bad_lines
        .iter()
        .map(|line| format!("{RECORD_JOURNAL} line {line} does not decode"))
        .collect();
    if decoded.torn_tail {
        journal_damage.push(format!(
            "{RECORD_JOURNAL}: the last line was cut short and dropped"
        ));
    }
    for (index, why) in &openmetrics.rejected {
        let (at_s, _) = bodies[*index];
        journal_damage.push(format!(
            "the scrape taken at {at_s:.3} does not parse: {why}"
        ));
    }
    let scrapes_path = cell.file(SCRAPES_FILE);
    write_atomic(&scrapes_path, openmetrics.text.as_bytes())
        .with_context(|| format!("writing {}", scrapes_path.display()))
        .map_err(runtime)?;
    let manifest = RecordManifest {
        schema: MANIFEST_SCHEMA.to_string(),
        command: args.command.clone(),
        exporters: args.exporters.clone(),
        interval_s: args.interval.as_secs_f64(),
        started_s: finished.started_s,
        ended_s: finished.ended_s,
        exit_code: finished.exit_code,
        signal: finished.signal,
        scrapes: bodies.len() - openmetrics.rejected.len(),
        gaps,
        journal_damage,
    };
    let manifest_path = cell.file(RECORD_MANIFEST);
    let manifest_text = crate::output::sorted_json(&manifest).map_err(runtime)?;
    write_atomic(&manifest_path, manifest_text.as_bytes())
        .with_context(|| format!("writing {}", manifest_path.display()))
        .map_err(runtime)?;
    if openmetrics.samples == 0 {
        return Err(runtime(anyhow!(
            "no exporter answered during the run ({} gaps); check --exporter (e.g. curl {}) — {} and {} hold what was tried",
            manifest.gaps.len(),
            args.exporters[0],
            journal_path.display(),
            manifest_path.display()
        )));
    }
    Ok(manifest)
}

/// `correlate --campaign S --cell-id C --scrapes <cell>/dcgm-scrapes.prom` with record's flags.
fn correlate_args(campaign: &CampaignDir, cell: &CellDir, args: &RecordArgs) -> CorrelateArgs {
    CorrelateArgs {
        cell: CellArgs {
            campaign: campaign.slug.clone(),
            cell_id: Some(cell.id.clone()),
        },
        all_cells: false,
        // A sweep file the command wrote (several runs) becomes one cell per run, all measured
        // from this one recording.
        split_runs: true,
        jobs: None,
        eval: args.eval.clone(),
        window: WindowArgs {
            bench_file: None,
            bench_index: None,
            start: None,
            end: None,
            captured_at_is_end: false,
            timezone: args.timezone.clone(),
        },
        source: SourceArgs {
            scrapes: Some(cell.file(SCRAPES_FILE)),
            prometheus: None,
            bearer_token_file: None,
            basic_auth_user: None,
            basic_auth_password_file: None,
            headers: Vec::new(),
            ca_file: None,
            insecure_skip_verify: false,
            timeout_s: 30.0,
            max_series: sol_core::probe::DEFAULT_MAX_SERIES,
            force: false,
        },
        scope: ScopeArgs {
            namespace: None,
            selector: None,
            hosts: Vec::new(),
            gpu_uuids: Vec::new(),
        },
        n_gpus: args.n_gpus,
        dry_run: false,
        emit_llmd: false,
    }
}
