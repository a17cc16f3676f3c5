//! `render` and `summary` end to end on the shipped example campaign: the HTML checked
//! structurally, opened in headless Chromium (a screenshot in the test's temp dir), broken and
//! missing results listed instead of fatal, and sol-summary.md patched idempotently.
//!
//! The example (examples/campaigns/h200-tp8-sweep, GROUND_TRUTH.json) has four cells: c008,
//! c032, c064 (with kernels.json: page 6b) and c128 (num_prompts 200 < 2 × 128: UNSTEADY, and
//! GPU 3 a straggler). A fifth cell added here holds the counter-tier result of the real vGPU
//! fixture (testdata/report/counter-tier-vgpu.json).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Scratch, repo_root};
use serde_json::Value;

const CAMPAIGN: &str = "h200-tp8-sweep";
const EXAMPLE_CELLS: [&str; 4] = ["c008", "c032", "c064", "c128"];

/// The example campaign correlated (all four cells), plus the counter-tier cell `vgpu`.
fn correlated() -> Scratch {
    let scratch = Scratch::with_example();
    let output = scratch
        .cmd(&[
            "-q",
            "correlate",
            "--campaign",
            CAMPAIGN,
            "--all-cells",
            "--timezone",
            "UTC",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let vgpu = scratch.cell(CAMPAIGN, "vgpu");
    fs::create_dir_all(&vgpu).unwrap();
    fs::copy(
        repo_root().join("testdata/report/counter-tier-vgpu.json"),
        vgpu.join("dcgm_correlation.json"),
    )
    .unwrap();
    scratch
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn render(scratch: &Scratch) -> Output {
    scratch
        .cmd(&["render", "--campaign", CAMPAIGN])
        .output()
        .unwrap()
}

fn campaign_dir(scratch: &Scratch) -> PathBuf {
    scratch.path().join(CAMPAIGN)
}

fn status(scratch: &Scratch) -> Value {
    scratch.read_json(&campaign_dir(scratch).join("report_status.json"))
}

/// The `<section class="cell" …>` of a cell.
fn section<'a>(html: &'a str, cell: &str) -> &'a str {
    let start = html
        .find(&format!("data-cell=\"{cell}\">"))
        .unwrap_or_else(|| panic!("no section for cell {cell}"));
    let end = html[start..].find("</section>").unwrap() + start;
    &html[start..end]
}

#[test]
fn the_example_renders_every_cell_resource_and_caveat() {
    let scratch = correlated();
    let output = render(&scratch);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = campaign_dir(&scratch).join("report");
    let html = fs::read_to_string(report.join("index.html")).unwrap();
    for cell in EXAMPLE_CELLS.iter().chain(&["vgpu"]) {
        let section = section(&html, cell);
        for resource in ["hbm", "tensor", "nvlink", "pcie"] {
            assert!(
                section.contains(&format!("data-resource=\"{resource}\"")),
                "cell {cell} lacks {resource}"
            );
        }
        assert!(section.contains("<svg"), "cell {cell} has no inline chart");
        assert!(
            report.join(format!("page-6-{cell}.svg")).is_file(),
            "no standalone page-6 chart for {cell}"
        );
    }
    // Caveats where the data calls for them, and only there.
    let c128 = section(&html, "c128");
    assert!(c128.contains("data-caveat=\"unsteady\""));
    assert!(c128.contains("data-caveat=\"straggler\""));
    assert!(!section(&html, "c032").contains("data-caveat=\"unsteady\""));
    let vgpu = section(&html, "vgpu");
    assert!(vgpu.contains("data-caveat=\"counter-tier\""));
    assert!(vgpu.contains("busy (not %SoL)"));
    // c128's HBM figure (GROUND_TRUTH: 69.7 % full window, 77.7 % steady) with its ceiling key.
    assert!(c128.contains("69.7 %") && c128.contains("77.7 %"));
    assert!(c128.contains("h200_sxm.hbm3e_tbps"));
    // Page 6b only where kernels.json gave an attribution; the sweep over the four concurrencies.
    assert!(section(&html, "c064").contains("Page 6b"));
    assert!(!section(&html, "c008").contains("Page 6b"));
    assert!(report.join("page-6b-c064.svg").is_file());
    assert!(report.join("sweep.svg").is_file());
    assert!(html.contains("id=\"sweep\""));
    // Inlined charts keep their ids (hatch patterns) distinct on the page.
    let ids: Vec<&str> = html
        .split("id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "duplicate ids on the page");
    assert!(
        ids.iter().any(|id| id.starts_with("sol")),
        "no hatch pattern id: {ids:?}"
    );
    // Self-contained: no script, nothing fetched.
    assert!(!html.contains("<script"));
    for fetch in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(fetch), "the page fetches something: {fetch}");
    }
    // Status: every cell has a result. The four example cells are byte-grounded without ncu
    // evidence (L3); the counter-tier cell grounds nothing and has no attribution (L1), and the
    // campaign is as rigorous as its least rigorous cell.
    let status = status(&scratch);
    assert_eq!(status["dcgm_grounded"], true);
    assert_eq!(status["sol_rigor"], "L1");
    let rigor = &status["cell_rigor"];
    assert_eq!(rigor[0], serde_json::json!(["c008", "L3"]));
    assert_eq!(rigor[4], serde_json::json!(["vgpu", "L1"]));
    assert_eq!(status["cells_total"], 5);
    let pages: Vec<(&str, &str)> = status["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["page"].as_str().unwrap(), p["status"].as_str().unwrap()))
        .collect();
    assert!(pages.contains(&("6", "complete")));
    // 6b: only c064 has an attribution.
    assert!(pages.contains(&("6b", "partial")));
}

#[test]
fn broken_and_missing_results_are_listed_not_fatal() {
    let scratch = correlated();
    fs::write(
        scratch.cell(CAMPAIGN, "c032").join("dcgm_correlation.json"),
        "{\"schema_version\": 1, \"hw_key\"",
    )
    .unwrap();
    fs::remove_file(scratch.cell(CAMPAIGN, "c008").join("dcgm_correlation.json")).unwrap();
    let output = render(&scratch);
    assert!(output.status.success(), "{}", stderr(&output));
    let html = fs::read_to_string(campaign_dir(&scratch).join("report/index.html")).unwrap();
    assert!(
        html.contains("data-cell=\"c064\">"),
        "the readable cells render"
    );
    let completeness = &html[html.find("id=\"completeness\"").unwrap()..];
    assert!(completeness.contains("cell c032") && completeness.contains("invalid JSON"));
    assert!(
        completeness.contains("cell c008")
            && completeness.contains("no dcgm_correlation.json")
            && completeness.contains("--cell-id c008")
    );
    let status = status(&scratch);
    assert_eq!(status["dcgm_grounded"], false);
    assert_eq!(status["sol_rigor"], "L1");
    // No chart is drawn for a cell without a result.
    assert!(
        !campaign_dir(&scratch)
            .join("report/page-6-c008.svg")
            .exists()
    );
}

#[test]
fn a_campaign_without_any_result_fails_and_says_how_to_fix_it() {
    let scratch = Scratch::with_example();
    let output = render(&scratch);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("correlate --campaign h200-tp8-sweep --all-cells"));
}

#[test]
fn a_re_render_removes_charts_of_cells_that_lost_their_result() {
    let scratch = correlated();
    assert!(render(&scratch).status.success());
    let stale = campaign_dir(&scratch).join("report/page-6-c008.svg");
    assert!(stale.is_file());
    fs::remove_file(scratch.cell(CAMPAIGN, "c008").join("dcgm_correlation.json")).unwrap();
    assert!(render(&scratch).status.success());
    assert!(!stale.exists());
}

/// Headless Chromium, flags as this machine needs them (no background networking: the network
/// is closed), a fresh profile.
fn chromium(profile: &Path, args: &[&str]) -> Option<Output> {
    let binary = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok());
    let Some(binary) = binary else {
        assert!(
            std::env::var("SOL_REQUIRE_BACKENDS").as_deref() != Ok("1"),
            "chromium is required (SOL_REQUIRE_BACKENDS=1): install the Debian package chromium"
        );
        eprintln!("chromium not installed: browser check skipped");
        return None;
    };
    Some(
        Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(args)
            .output()
            .unwrap(),
    )
}

/// Width and height of a PNG, from its IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (be(16), be(20))
}

#[test]
fn chromium_renders_the_report_and_every_chart_parses() {
    let scratch = correlated();
    assert!(render(&scratch).status.success());
    let index = campaign_dir(&scratch).join("report/index.html");
    let url = format!("file://{}", index.display());
    let profile = tempfile::tempdir().unwrap();
    // The DOM Chromium built: every cell section and the charts made it through its parser.
    let Some(dom) = chromium(profile.path(), &["--dump-dom", &url]) else {
        return;
    };
    assert!(dom.status.success(), "{}", stderr(&dom));
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    for cell in EXAMPLE_CELLS {
        assert!(
            dom_text.contains(&format!("id=\"cell-{cell}\"")),
            "{cell} missing from the DOM"
        );
    }
    assert!(
        dom_text.matches("<svg").count() >= 5 * 3,
        "inline charts missing from the DOM"
    );
    // A screenshot of the page, kept in the scratch directory.
    let shot = scratch.path().join("report.png");
    let screenshot = chromium(
        profile.path(),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400",
            &url,
        ],
    )
    .unwrap();
    assert!(screenshot.status.success(), "{}", stderr(&screenshot));
    let png = fs::read(&shot).unwrap();
    assert_eq!(png_size(&png), (1280, 2400));
    // A blank page compresses to almost nothing; charts and tables do not.
    assert!(
        png.len() > 50_000,
        "screenshot of {} bytes looks blank",
        png.len()
    );
    // Each standalone SVG is a document Chromium parses (an XML error page names the error).
    let report = campaign_dir(&scratch).join("report");
    for entry in fs::read_dir(&report).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "svg") {
            let parsed = chromium(
                profile.path(),
                &["--dump-dom", &format!("file://{}", path.display())],
            )
            .unwrap();
            let text = String::from_utf8_lossy(&parsed.stdout);
            assert!(
                !text.contains("This page contains the following errors"),
                "{} is not well-formed: {text}",
                path.display()
            );
        }
    }
}

#[test]
fn summary_patches_its_table_and_keeps_the_prose() {
    let scratch = correlated();
    let path = campaign_dir(&scratch).join("sol-summary.md");
    let before = "# H200 TP-8 sweep\n\nNotes written by hand.\n\n## Method\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nClosing words.\n";
    fs::write(&path, before).unwrap();
    let run = || {
        scratch
            .cmd(&["summary", "--campaign", CAMPAIGN])
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", stderr(&first));
    let once = fs::read_to_string(&path).unwrap();
    // The hand-written parts stay, byte for byte, in order.
    for part in [
        "# H200 TP-8 sweep\n\nNotes written by hand.\n",
        "## Method\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nClosing words.\n",
    ] {
        assert!(once.contains(part), "lost: {part:?}\n{once}");
    }
    assert!(once.contains("## Workload-level SoL"));
    assert!(once.contains("cells/c128/dcgm_correlation.json"));
    assert!(once.contains("h200_sxm.hbm3e_tbps"));
    let second = run();
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("unchanged"));
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        once,
        "a second run changed the file"
    );
}
