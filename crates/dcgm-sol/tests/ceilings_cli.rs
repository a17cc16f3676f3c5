//! `dcgm-sol ceilings [list | show KEY]`: the built-in rows and aliases, a peak with its source,
//! an unknown key refused with the known ones listed, JSON that parses, and a user ceilings file
//! (the seed's format, via --ceilings or $SOL_CEILINGS_YAML) shown with its origin.

mod common;

use std::fs;
use std::process::Output;

use common::Scratch;

const SEED_CEILINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/seed-ceilings.yaml");

/// Runs `dcgm-sol <args>` and returns stdout, failing with stderr unless it succeeded.
fn stdout_of(output: Output) -> String {
    assert!(
        output.status.success(),
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn run(args: &[&str]) -> String {
    stdout_of(Scratch::empty().cmd(args).output().unwrap())
}

fn run_json(args: &[&str]) -> serde_json::Value {
    let text = run(args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The `list` line of a row: it starts with the key and a space.
fn list_line<'a>(listing: &'a str, key: &str) -> &'a str {
    listing
        .lines()
        .find(|line| line.starts_with(&format!("{key} ")))
        .unwrap_or_else(|| panic!("no `{key}` row in:\n{listing}"))
}

fn json_row<'a>(list: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    list["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["key"] == key)
        .unwrap_or_else(|| panic!("no `{key}` row"))
}

fn json_peak<'a>(row: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    row["peaks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|peak| peak["key"] == key)
        .unwrap_or_else(|| panic!("no `{key}` peak in {}", row["key"]))
}

/// A failing run: exit `code`, every needle in stderr, no panic, nothing on stdout.
fn assert_refused(output: &Output, code: i32, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "stderr lacks `{needle}`:\n{stderr}"
        );
    }
    assert!(output.stdout.is_empty(), "half an answer on stdout");
}

#[test]
fn list_holds_the_main_rows_and_the_b200_alias() {
    let listing = run(&["ceilings", "list"]);
    for key in ["h100_sxm", "h200_sxm", "b200_hgx", "gb300_nvl72"] {
        assert!(list_line(&listing, key).contains("built-in"), "{key}");
    }
    assert!(list_line(&listing, "b200_hgx").contains("b200_sm100"));
    // `ceilings` alone lists too.
    assert_eq!(run(&["ceilings"]), listing);

    let list = run_json(&["--json", "ceilings", "list"]);
    for key in ["h100_sxm", "h200_sxm", "b200_hgx", "gb300_nvl72"] {
        json_row(&list, key);
    }
    let aliases = &json_row(&list, "b200_hgx")["aliases"];
    assert!(
        aliases.as_array().unwrap().contains(&"b200_sm100".into()),
        "{aliases}"
    );
}

#[test]
fn show_h200_gives_the_hbm_peak_with_its_source() {
    let text = run(&["ceilings", "show", "h200_sxm"]);
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|line| line.trim_start().starts_with("hbm3e_tbps = 4.8 TB/s"))
        .unwrap_or_else(|| panic!("no hbm3e_tbps = 4.8 TB/s in:\n{text}"));
    // The peak's own block (indented below it) carries its source.
    let source = lines[at + 1..]
        .iter()
        .take_while(|line| line.starts_with("      "))
        .find_map(|line| line.trim_start().strip_prefix("source:"))
        .unwrap_or_else(|| panic!("hbm3e_tbps has no source line in:\n{text}"));
    assert!(!source.trim().is_empty() && !source.contains("none given"));

    let row = run_json(&["--json", "ceilings", "show", "h200_sxm"]);
    assert_eq!(row["key"], "h200_sxm");
    let hbm = json_peak(&row, "hbm3e_tbps");
    assert_eq!(hbm["value"], 4.8);
    assert_eq!(hbm["units"], "TB/s");
    assert!(!hbm["source"].as_str().unwrap().is_empty());
}

#[test]
fn show_of_the_seed_alias_gives_the_hgx_b200_row() {
    let row = run_json(&["--json", "ceilings", "show", "b200_sm100"]);
    assert_eq!(row["key"], "b200_hgx");
    assert_eq!(json_peak(&row, "hbm3e_tbps")["value"], 7.7);
}

#[test]
fn show_of_an_unknown_key_lists_the_known_keys() {
    let output = Scratch::empty()
        .cmd(&["ceilings", "show", "nope"])
        .output()
        .unwrap();
    assert_refused(
        &output,
        2,
        &["`nope`", "h100_sxm", "h200_sxm", "b200_hgx", "gb300_nvl72"],
    );
}

#[test]
fn user_ceilings_file_shows_its_row_with_its_origin() {
    let listing = run(&["--ceilings", SEED_CEILINGS, "ceilings", "list"]);
    let line = list_line(&listing, "b200_sm100");
    assert!(line.contains("seed-ceilings.yaml"), "{line}");
    assert!(line.contains("hbm3e_tbps 8 TB/s"), "{line}");

    let text = run(&[
        "--ceilings",
        SEED_CEILINGS,
        "ceilings",
        "show",
        "b200_sm100",
    ]);
    assert!(
        text.lines()
            .any(|l| l.starts_with("origin:") && l.contains("seed-ceilings.yaml")),
        "{text}"
    );
    assert!(text.contains("hbm3e_tbps = 8 TB/s"), "{text}");

    let row = run_json(&[
        "--json",
        "--ceilings",
        SEED_CEILINGS,
        "ceilings",
        "show",
        "b200_sm100",
    ]);
    assert!(
        row["origin"]
            .as_str()
            .unwrap()
            .contains("seed-ceilings.yaml")
    );
    assert_eq!(json_peak(&row, "hbm3e_tbps")["value"], 8.0);
    assert_eq!(json_peak(&row, "nvlink5_tbps")["value"], 1.8);
    assert_eq!(json_peak(&row, "nvfp4_dense_pflops")["value"], 9.0);

    let list = run_json(&["--json", "--ceilings", SEED_CEILINGS, "ceilings", "list"]);
    assert_eq!(
        list["category_ceiling_map"]["NCCL"]["metric"],
        "nvlink5_tbps"
    );
    assert!(
        list["category_ceiling_map_origin"]
            .as_str()
            .unwrap()
            .contains("seed-ceilings.yaml")
    );
    assert_eq!(list["dcgm_config"]["min_sweep_seconds"], 60.0);
}

#[test]
fn ceilings_file_from_the_environment_is_used() {
    let output = Scratch::empty()
        .cmd(&["--json", "ceilings", "show", "b200_sm100"])
        .env("SOL_CEILINGS_YAML", SEED_CEILINGS)
        .output()
        .unwrap();
    let row: serde_json::Value = serde_json::from_str(&stdout_of(output)).unwrap();
    assert!(
        row["origin"]
            .as_str()
            .unwrap()
            .contains("seed-ceilings.yaml")
    );
    assert_eq!(json_peak(&row, "hbm3e_tbps")["value"], 8.0);
}

#[test]
fn broken_ceilings_files_are_refused_naming_file_and_place() {
    let scratch = Scratch::empty();
    let seed = fs::read_to_string(SEED_CEILINGS).unwrap();
    let path = scratch.path().join("broken-ceilings.yaml");
    let path_arg = path.to_str().unwrap();
    // Line 6 is the hbm3e_tbps entry (after three comment lines, the row key and hw_name).
    let hbm_line = "  hbm3e_tbps:        {value: 8.0,  units: TB/s,";
    assert!(seed.lines().nth(5).unwrap().starts_with(hbm_line));
    let cases: [(String, &[&str]); 3] = [
        (
            seed.replacen(
                hbm_line,
                "  hbm3e_tbps:        {value: 8.0   units: TB/s,",
                1,
            ),
            &["line 6"],
        ),
        (
            seed.replacen("{value: 8.0,  units: TB/s,", "{units: TB/s,", 1),
            &["b200_sm100.hbm3e_tbps", "value"],
        ),
        (
            seed.replacen(
                "units: TB/s,   dcgm_metric",
                "units: furlongs, dcgm_metric",
                1,
            ),
            &["furlongs", "TB/s"],
        ),
    ];
    for (text, needles) in cases {
        assert_ne!(text, seed, "the damage must apply");
        fs::write(&path, text).unwrap();
        let output = scratch
            .cmd(&["--ceilings", path_arg, "ceilings", "list"])
            .output()
            .unwrap();
        let mut needles = needles.to_vec();
        needles.push("broken-ceilings.yaml");
        assert_refused(&output, 2, &needles);
    }
    let missing = scratch.path().join("no-such-ceilings.yaml");
    let output = scratch
        .cmd(&["--ceilings", missing.to_str().unwrap(), "ceilings", "list"])
        .output()
        .unwrap();
    assert_refused(&output, 2, &["no-such-ceilings.yaml"]);
}
