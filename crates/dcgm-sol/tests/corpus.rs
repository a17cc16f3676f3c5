//! The bad-input corpus (issue 7): every malformed or hostile input listed in
//! `testdata/bad-inputs/cases.json`, each run through the real binary in its own scratch copy of
//! the example campaign and checked against the outcome a demanding user should get — an exit
//! code with stderr naming the file, field or URL and what to do, or a flagged result.
//!
//! Every case also keeps the invariants of a run on any input: no panic, no hang (killed after
//! 60 s), no file written or changed in the scratch directory beyond what its verb may write
//! (nothing at all when `correlate` or `fold` fails), no temporary file left behind, and only
//! read requests to the loopback Prometheus server. Cases run in parallel; all failures are
//! reported together. `SOL_CORPUS_CASE=<name>` runs one case. testdata/bad-inputs/README.md
//! says how to add one.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use common::{Scratch, repo_root};
use serde::Deserialize;
use serde_json::Value;

const CAMPAIGN: &str = "h200-tp8-sweep";
/// A run still going after this long is a hang: it is killed and the case fails.
const HANG_AFTER: Duration = Duration::from_secs(60);
/// Cases run at once (each is one short process; the generated ones hold ~100 MB).
const WORKERS: usize = 3;
/// Prefix of the temporary files of an atomic write and of the lake's staging directory.
const TEMPORARY_PREFIX: &str = ".dcgm-sol-";
/// Size of the generated "single enormous line" inputs.
const HUGE_LINE_BYTES: usize = 100 * 1024 * 1024;
/// Depth of the generated nested JSON and YAML.
const NESTING_DEPTH: usize = 100_000;

// ---------------------------------------------------------------------------------- manifest

/// `testdata/bad-inputs/cases.json`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    /// What the loopback server answers on a path a case does not override.
    server_baseline: BTreeMap<String, Route>,
    cases: Vec<Case>,
}

/// One canned HTTP answer.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Route {
    #[serde(default = "ok_status")]
    status: u16,
    /// Body file under testdata/bad-inputs/.
    body: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
}

fn ok_status() -> u16 {
    200
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    kind: Kind,
    /// What is hostile about the input and what the user should get.
    why: String,
    /// The input file under testdata/bad-inputs/, or `directory` (a directory where a file is
    /// expected), or `symlink-outside-file` / `symlink-outside-dir` (a symbolic link to a file
    /// or directory outside the campaign, which no run may write through) …
    #[serde(default)]
    input: Option<String>,
    /// … or a generator of this test (huge or pathological inputs are never committed).
    #[serde(default)]
    generate: Option<String>,
    /// `cell:<id>/<name>`, `campaign:<name>`, `arg:<flag>` (a file in the scratch directory
    /// passed as `<flag> <path>`) or `server:<path>`.
    place: String,
    /// HTTP status of a `server:` placement.
    #[serde(default = "ok_status")]
    status: u16,
    /// Extra headers of a `server:` placement.
    #[serde(default)]
    headers: Vec<(String, String)>,
    /// `results` (every cell gets the example's dcgm_correlation.json) or
    /// `remove:<location>`, applied before the input is placed.
    #[serde(default)]
    setup: Vec<String>,
    /// The command line after `--campaigns-dir <scratch>`; `{input}` is the placed input,
    /// `{url}` the loopback server, `{scratch}` the scratch directory.
    args: Vec<String>,
    expect: Expect,
}

/// Input kinds, one per place a user's file or a server's answer enters.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Bench,
    Ceilings,
    Frozen,
    Kernels,
    Scrapes,
    Server,
    Result,
    Atlas,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    exit: i32,
    #[serde(default)]
    stderr_contains: Vec<String>,
    /// What a successful run must show.
    #[serde(default)]
    flags: Vec<Flag>,
}

/// A check on an output: `in` is `stdout`, `stderr` or a location (`cell:c008/…`,
/// `campaign:…`); `pointer` (JSON pointer; a segment naming a resource picks the
/// `resources[]` row of that resource) selects a value of a JSON file. Then the text (a
/// string's own text, any other value's JSON) must contain `contains`, must not contain
/// `absent`, or the value must equal `equals` (numbers within `tolerance`, default 1e-6).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Flag {
    #[serde(rename = "in")]
    location: String,
    #[serde(default)]
    pointer: Option<String>,
    #[serde(default)]
    contains: Option<String>,
    #[serde(default)]
    absent: Option<String>,
    #[serde(default)]
    equals: Option<Value>,
    #[serde(default)]
    tolerance: Option<f64>,
}

fn corpus_dir() -> PathBuf {
    repo_root().join("testdata/bad-inputs")
}

fn load_manifest() -> Manifest {
    let path = corpus_dir().join("cases.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// -------------------------------------------------------------------------------- generators

/// The bytes of a `generate` input; `campaign` is the scratch copy of the example campaign.
fn generate(name: &str, campaign: &Path) -> Vec<u8> {
    let c008 = campaign.join("cells/c008");
    let read = |path: &Path| fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match name {
        // Unclosed `[` nest as JSON arrays and as YAML flow sequences alike.
        "nested_brackets" => "[".repeat(NESTING_DEPTH).into_bytes(),
        "deep_yaml_block" => (0..NESTING_DEPTH / 10)
            .map(|depth| format!("{}- \n", "  ".repeat(depth)))
            .collect::<String>()
            .into_bytes(),
        "bundle_with_huge_line" => {
            // The example bundle on one line with a 100 MB string field: still a valid bundle.
            let mut bundle: Value =
                serde_json::from_slice(&read(&c008.join("inference_perfbench_v1.json"))).unwrap();
            bundle["padding"] = Value::String("x".repeat(HUGE_LINE_BYTES));
            serde_json::to_vec(&bundle).unwrap()
        }
        "scrapes_with_huge_line" => {
            // One sample of an unknown metric whose label value is 100 MB, before `# EOF`.
            let text = String::from_utf8(read(&c008.join("dcgm-scrapes.prom"))).unwrap();
            let body = text
                .strip_suffix("# EOF\n")
                .expect("the recording ends with # EOF");
            let blob = "y".repeat(HUGE_LINE_BYTES);
            format!("{body}junk_metric{{blob=\"{blob}\"}} 1 1795183200\n# EOF\n").into_bytes()
        }
        "scrapes_crlf" => {
            let text = String::from_utf8(read(&c008.join("dcgm-scrapes.prom"))).unwrap();
            text.replace('\n', "\r\n").into_bytes()
        }
        "scrapes_bom" => [
            b"\xEF\xBB\xBF".as_slice(),
            &read(&c008.join("dcgm-scrapes.prom")),
        ]
        .concat(),
        "scrapes_cut_mid_line" => {
            // A recorder killed mid-write: no `# EOF`, the last line cut inside its label set.
            let bytes = read(&c008.join("dcgm-scrapes.prom"));
            let half = bytes.len() / 2;
            let line_start = bytes[..half].iter().rposition(|&b| b == b'\n').unwrap() + 1;
            bytes[..line_start + 40].to_vec()
        }
        "guidellm_cut" => {
            let path =
                repo_root().join("testdata/shared-fixtures/bench/guidellm-benchmarks-v2.json");
            let bytes = read(&path);
            bytes[..bytes.len() / 2].to_vec()
        }
        "server_matrix_with_huge_line" => {
            // The baseline answer plus a second series whose label value is 100 MB.
            let path = corpus_dir().join("server/baseline-matrix.json");
            let mut answer: Value = serde_json::from_slice(&read(&path)).unwrap();
            let mut big = answer["data"]["result"][0].clone();
            big["metric"]["blob"] = Value::String("z".repeat(HUGE_LINE_BYTES));
            answer["data"]["result"].as_array_mut().unwrap().push(big);
            serde_json::to_vec(&answer).unwrap()
        }
        other => panic!("no generator `{other}`"),
    }
}

// ------------------------------------------------------------------------------ the scratch

/// Where a location (`cell:<id>/<name>`, `campaign:<name>`, `scratch:<name>`) lies.
fn locate(scratch: &Path, location: &str) -> PathBuf {
    let (area, rest) = location
        .split_once(':')
        .unwrap_or_else(|| panic!("location `{location}` has no area"));
    match area {
        "cell" => scratch.join(CAMPAIGN).join("cells").join(rest),
        "campaign" => scratch.join(CAMPAIGN).join(rest),
        "scratch" => scratch.join(rest),
        other => panic!("unknown area `{other}` in `{location}`"),
    }
}

fn apply_setup(scratch: &Path, step: &str) {
    if step == "results" {
        let results = repo_root().join("testdata/report").join(CAMPAIGN);
        for cell in ["c008", "c032", "c064", "c128"] {
            let target = locate(scratch, &format!("cell:{cell}/dcgm_correlation.json"));
            fs::copy(results.join(format!("{cell}.json")), target).unwrap();
        }
    } else if let Some(location) = step.strip_prefix("remove:") {
        fs::remove_file(locate(scratch, location)).unwrap();
    } else {
        panic!("unknown setup step `{step}`");
    }
}

/// What a case puts at its place.
enum Placed {
    Bytes(Vec<u8>),
    Directory,
    /// A symbolic link to `outside/victim` (a file) or `outside/victim.d` (a directory) of the
    /// scratch directory: outside the campaign, never to be written.
    LinkOutside {
        to_directory: bool,
    },
}

/// Puts `placed` at `path`, replacing a file there.
fn place(scratch: &Path, path: &Path, placed: &Placed) {
    if path.is_file() {
        fs::remove_file(path).unwrap();
    }
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    match placed {
        Placed::Bytes(bytes) => fs::write(path, bytes).unwrap(),
        Placed::Directory => fs::create_dir(path).unwrap(),
        Placed::LinkOutside { to_directory } => {
            let outside = scratch.join("outside");
            fs::create_dir_all(&outside).unwrap();
            let victim = if *to_directory {
                let victim = outside.join("victim.d");
                fs::create_dir_all(&victim).unwrap();
                fs::write(victim.join("keep.txt"), "outside the campaign\n").unwrap();
                victim
            } else {
                let victim = outside.join("victim");
                fs::write(&victim, "outside the campaign\n").unwrap();
                victim
            };
            std::os::unix::fs::symlink(victim, path).unwrap();
        }
    }
}

/// Size and modification time of every file under `root`, by relative path.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.path().symlink_metadata().unwrap();
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                let relative = entry.path().strip_prefix(root).unwrap().to_path_buf();
                files.insert(relative, (meta.len(), meta.modified().unwrap()));
            }
        }
    }
    files
}

// ------------------------------------------------------------------------ loopback server

/// One request the server saw.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
}

/// A tiny HTTP/1.1 server on 127.0.0.1 answering canned bodies by path (query string
/// ignored), 404 elsewhere; one request per connection.
struct LoopbackServer {
    url: String,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Seen>>>,
    accepting: Option<JoinHandle<()>>,
}

/// A route's status, headers and body bytes.
type Answer = (u16, Vec<(String, String)>, Arc<Vec<u8>>);

impl LoopbackServer {
    fn start(routes: BTreeMap<String, Answer>) -> LoopbackServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let routes = Arc::new(routes);
        let accepting = {
            let (stop, seen) = (stop.clone(), seen.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (routes, seen) = (routes.clone(), seen.clone());
                            std::thread::spawn(move || serve(stream, &routes, &seen));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        LoopbackServer {
            url,
            stop,
            seen,
            accepting: Some(accepting),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.accepting.take() {
            let _ = handle.join();
        }
    }
}

fn serve(stream: TcpStream, routes: &BTreeMap<String, Answer>, seen: &Mutex<Vec<Seen>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; content_length];
    let _ = reader.read_exact(&mut body);
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_string();
    let answer = routes.get(&path).cloned();
    seen.lock().unwrap().push(Seen { method, path });
    let (status, headers, body) =
        answer.unwrap_or_else(|| (404, Vec::new(), Arc::new(b"404 page not found\n".to_vec())));
    let mut head = format!("HTTP/1.1 {status} Canned\r\nConnection: close\r\n");
    let sets = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if !sets("content-type") {
        head.push_str("Content-Type: application/json\r\n");
    }
    if !sets("content-length") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (name, value) in &headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = &stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.flush();
}

// ------------------------------------------------------------------------------ one case

/// What a verb may write into the scratch directory, as path prefixes relative to it.
fn allowed_writes(args: &[String], exit: Option<i32>) -> Vec<PathBuf> {
    let verb = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .map_or("", String::as_str);
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let campaign = PathBuf::from(CAMPAIGN);
    let cell = || {
        campaign
            .join("cells")
            .join(value_of("--cell-id").unwrap_or_default())
    };
    match (verb, exit) {
        ("correlate", Some(0)) => vec![
            cell().join("dcgm_correlation.json"),
            cell().join("dcgm-frozen.yaml"),
        ],
        ("fold", Some(0)) => vec![cell().join("dcgm_correlation.json")],
        ("render", _) => vec![campaign.join("report"), campaign.join("report_status.json")],
        ("summary", Some(0)) => vec![campaign.join("sol-summary.md")],
        ("publish", Some(0)) => vec![PathBuf::from("lake")],
        _ => Vec::new(),
    }
}

/// The value a flag's `pointer` selects; a segment that is not an index picks the
/// `resources[]` row with that `resource`.
fn select<'a>(value: &'a Value, pointer: &str) -> Option<&'a Value> {
    pointer
        .split('/')
        .skip(1)
        .try_fold(value, |current, segment| match current {
            Value::Array(items) => match segment.parse::<usize>() {
                Ok(index) => items.get(index),
                Err(_) => items.iter().find(|item| item["resource"] == segment),
            },
            Value::Object(map) => map.get(segment),
            _ => None,
        })
}

/// Why `flag` does not hold, if it does not.
fn check_flag(flag: &Flag, scratch: &Path, output: &Output) -> Option<String> {
    let text = match flag.location.as_str() {
        "stdout" => String::from_utf8_lossy(&output.stdout).into_owned(),
        "stderr" => String::from_utf8_lossy(&output.stderr).into_owned(),
        location => match fs::read_to_string(locate(scratch, location)) {
            Ok(text) => text,
            Err(e) => return Some(format!("flag: cannot read {location}: {e}")),
        },
    };
    let (shown, value) = match &flag.pointer {
        Some(pointer) => {
            let Ok(json) = serde_json::from_str::<Value>(&text) else {
                return Some(format!("flag: {} is not JSON", flag.location));
            };
            match select(&json, pointer) {
                // A string is checked as its text, anything else as its JSON.
                Some(Value::String(text)) => (text.clone(), Some(Value::String(text.clone()))),
                Some(value) => (value.to_string(), Some(value.clone())),
                None => return Some(format!("flag: {} has no {pointer}", flag.location)),
            }
        }
        None => (text, None),
    };
    let place = format!(
        "{}{}",
        flag.location,
        flag.pointer.as_deref().unwrap_or_default()
    );
    let excerpt = || shown.chars().take(600).collect::<String>();
    if let Some(needle) = &flag.contains
        && !shown.contains(needle.as_str())
    {
        return Some(format!("{place} lacks `{needle}`: {}", excerpt()));
    }
    if let Some(needle) = &flag.absent
        && shown.contains(needle.as_str())
    {
        return Some(format!("{place} holds `{needle}`"));
    }
    if let Some(expected) = &flag.equals {
        let same = match (expected.as_f64(), value.as_ref().and_then(Value::as_f64)) {
            (Some(want), Some(got)) => (want - got).abs() <= flag.tolerance.unwrap_or(1e-6),
            _ => value.as_ref() == Some(expected),
        };
        if !same {
            return Some(format!("{place} is {}, expected {expected}", excerpt()));
        }
    }
    None
}

/// Runs one case; returns its failures (empty when it passes).
fn run_case(case: &Case, baseline: &BTreeMap<String, Route>) -> Vec<String> {
    let scratch = Scratch::with_example();
    let root = scratch.path().to_path_buf();
    let work = root.join("work");
    fs::create_dir_all(&work).unwrap();
    for step in &case.setup {
        apply_setup(&root, step);
    }
    let placed = match (case.input.as_deref(), &case.generate) {
        (Some("directory"), None) => Placed::Directory,
        (Some("symlink-outside-file"), None) => Placed::LinkOutside {
            to_directory: false,
        },
        (Some("symlink-outside-dir"), None) => Placed::LinkOutside { to_directory: true },
        (Some(file), None) => Placed::Bytes(fs::read(corpus_dir().join(file)).unwrap()),
        (None, Some(name)) => Placed::Bytes(generate(name, &root.join(CAMPAIGN))),
        _ => panic!("{}: give exactly one of input and generate", case.name),
    };
    let (area, target) = case.place.split_once(':').unwrap();
    let mut args = case.args.clone();
    let mut input_path = String::new();
    let mut server = None;
    match area {
        "server" => {
            let file = |name: &str| Arc::new(fs::read(corpus_dir().join(name)).unwrap());
            let mut routes: BTreeMap<String, Answer> = baseline
                .iter()
                .map(|(path, r)| (path.clone(), (r.status, r.headers.clone(), file(&r.body))))
                .collect();
            let Placed::Bytes(body) = placed else {
                panic!("{}: a server answer is a body", case.name);
            };
            let body = Arc::new(body);
            routes.insert(
                target.to_string(),
                (case.status, case.headers.clone(), body),
            );
            server = Some(LoopbackServer::start(routes));
        }
        "arg" => {
            // A directory is named after its flag (`--ceilings` → `ceilings.d`), so a message
            // saying "directory" is not satisfied by the path alone.
            let name = match (&placed, case.input.as_deref().or(case.generate.as_deref())) {
                (Placed::Bytes(_), Some(name)) => name.rsplit('/').next().unwrap().to_string(),
                _ => format!("{}.d", target.trim_start_matches('-')),
            };
            let path = root.join("inputs").join(name);
            place(&root, &path, &placed);
            input_path = path.display().to_string();
            args.extend([target.to_string(), input_path.clone()]);
        }
        _ => {
            let path = locate(&root, &case.place);
            place(&root, &path, &placed);
            input_path = path.display().to_string();
        }
    }
    let url = server.as_ref().map_or(String::new(), |s| s.url.clone());
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            a.replace("{input}", &input_path)
                .replace("{url}", &url)
                .replace("{scratch}", &root.display().to_string())
        })
        .collect();
    let before = snapshot(&root);
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = Instant::now();
    let output = scratch
        .cmd(&arg_refs)
        .current_dir(&work)
        .env("TMPDIR", &work)
        .env("HOME", &work)
        .timeout(HANG_AFTER)
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let after = snapshot(&root);
    let mut failures = check_outcome(case, &root, &output, elapsed);
    failures.extend(check_writes(&args, &output, &before, &after));
    if let Some(server) = &server {
        for request in server.seen() {
            let read_only = matches!(request.method.as_str(), "GET" | "POST")
                && ["/api/v1/series", "/api/v1/query", "/api/v1/query_range"]
                    .contains(&request.path.as_str());
            if !read_only {
                failures.push(format!(
                    "not a read request: {} {}",
                    request.method, request.path
                ));
            }
        }
    }
    failures
}

fn check_outcome(case: &Case, root: &Path, output: &Output, elapsed: Duration) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut failures = Vec::new();
    if elapsed >= HANG_AFTER {
        failures.push(format!("hung: killed after {} s", HANG_AFTER.as_secs()));
    }
    if stderr.contains("panicked") {
        failures.push("panicked".to_string());
    }
    if output.status.code() != Some(case.expect.exit) {
        failures.push(format!(
            "exit {:?}, expected {}",
            output.status.code(),
            case.expect.exit
        ));
    }
    for needle in &case.expect.stderr_contains {
        if !stderr.contains(needle.as_str()) {
            failures.push(format!("stderr lacks `{needle}`"));
        }
    }
    if output.status.code() == Some(0) {
        failures.extend(
            case.expect
                .flags
                .iter()
                .filter_map(|flag| check_flag(flag, root, output)),
        );
    }
    if !failures.is_empty() {
        let excerpt: String = stderr.chars().take(1500).collect();
        failures.push(format!("stderr was:\n{}", excerpt.trim_end()));
    }
    failures
}

/// Files created or changed beyond the verb's allowance, and temporary files left anywhere.
fn check_writes(
    args: &[String],
    output: &Output,
    before: &BTreeMap<PathBuf, (u64, SystemTime)>,
    after: &BTreeMap<PathBuf, (u64, SystemTime)>,
) -> Vec<String> {
    let allowed = allowed_writes(args, output.status.code());
    let mut failures = Vec::new();
    let paths: BTreeSet<&PathBuf> = before.keys().chain(after.keys()).collect();
    for path in paths {
        let temporary = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(TEMPORARY_PREFIX))
            || path.components().any(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .starts_with(TEMPORARY_PREFIX)
            });
        if temporary && after.contains_key(path) {
            failures.push(format!("temporary file left: {}", path.display()));
        } else if before.get(path) != after.get(path)
            && !allowed.iter().any(|prefix| path.starts_with(prefix))
        {
            let what = match (before.contains_key(path), after.contains_key(path)) {
                (false, _) => "created",
                (true, false) => "removed",
                (true, true) => "changed",
            };
            failures.push(format!("{what} outside its allowance: {}", path.display()));
        }
    }
    failures
}

// ----------------------------------------------------------------------------------- test

#[test]
fn every_corpus_case_gets_its_expected_outcome() {
    let manifest = load_manifest();
    let only = std::env::var("SOL_CORPUS_CASE").ok();
    let mut names = BTreeSet::new();
    for case in &manifest.cases {
        assert!(
            names.insert(&case.name),
            "duplicate case name {}",
            case.name
        );
        assert!(!case.why.trim().is_empty(), "{}: say why", case.name);
    }
    if only.is_none() {
        let kinds: BTreeSet<Kind> = manifest.cases.iter().map(|c| c.kind).collect();
        assert_eq!(kinds.len(), 8, "every input kind has cases: {kinds:?}");
        assert!(
            manifest.cases.len() >= 60,
            "the issue asks for at least 60 cases"
        );
    }
    let cases: Vec<&Case> = manifest
        .cases
        .iter()
        .filter(|c| only.as_ref().is_none_or(|name| &c.name == name))
        .collect();
    assert!(!cases.is_empty(), "no case named {only:?}");
    let next = AtomicUsize::new(0);
    let failed: Mutex<Vec<(String, Kind, Vec<String>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let failures = run_case(case, &manifest.server_baseline);
                    if !failures.is_empty() {
                        failed
                            .lock()
                            .unwrap()
                            .push((case.name.clone(), case.kind, failures));
                    }
                }
            });
        }
    });
    let mut failed = failed.into_inner().unwrap();
    failed.sort();
    let report: Vec<String> = failed
        .iter()
        .map(|(name, kind, failures)| format!("--- {name} ({kind:?})\n{}", failures.join("\n")))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} corpus cases failed:\n{}",
        failed.len(),
        cases.len(),
        report.join("\n")
    );
}
