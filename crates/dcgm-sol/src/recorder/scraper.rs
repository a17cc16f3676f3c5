//! One thread per exporter, scraping at a fixed tick from the first scrape (taken before the
//! command starts) to a final one right after the stop request (after it ends). A scrape that
//! fails is sent as a gap and the next tick tries again.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sol_core::record::{JournalEntry, Outcome};

/// Largest exporter answer read (a 72-GPU node with every field is a few MB).
const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// Running scrapers.
pub struct Scrapers {
    stops: Vec<Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl Scrapers {
    /// Starts one scraper per exporter; returns once every exporter has been scraped once.
    pub fn start(exporters: &[String], interval: Duration, sink: Sender<JournalEntry>) -> Scrapers {
        let first_round = Arc::new(Barrier::new(exporters.len() + 1));
        let timeout = interval.clamp(Duration::from_millis(500), Duration::from_secs(10));
        let mut stops = Vec::new();
        let mut threads = Vec::new();
        for url in exporters {
            let (stop, stopped) = mpsc::channel::<()>();
            let (url, sink, first_round) = (url.clone(), sink.clone(), first_round.clone());
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .user_agent(concat!("dcgm-sol/", env!("CARGO_PKG_VERSION")))
                .build()
                .new_agent();
            threads.push(std::thread::spawn(move || {
                let scrape = || {
                    // A send fails only when the journal writer is gone: nothing left to do.
                    let _ = sink.send(scrape_once(&agent, &url));
                };
                scrape();
                first_round.wait();
                let mut next = Instant::now() + interval;
                loop {
                    let wait = next.saturating_duration_since(Instant::now());
                    match stopped.recv_timeout(wait) {
                        Err(RecvTimeoutError::Timeout) => scrape(),
                        // Stop asked (or the recorder is gone): one last scrape, then done.
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                            scrape();
                            return;
                        }
                    }
                    // A slow scrape skips the ticks it overran instead of bursting to catch up.
                    next += interval;
                    let now = Instant::now();
                    while next <= now {
                        next += interval;
                    }
                }
            }));
            stops.push(stop);
        }
        first_round.wait();
        Scrapers { stops, threads }
    }

    /// Asks every scraper for its final scrape and waits for them.
    pub fn stop(self) {
        for stop in &self.stops {
            let _ = stop.send(());
        }
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

/// Epoch seconds now, from this machine's clock.
pub fn epoch_now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// One GET of the exporter, stamped with the midpoint of request and answer.
fn scrape_once(agent: &ureq::Agent, url: &str) -> JournalEntry {
    let sent_s = epoch_now_s();
    let outcome = match fetch(agent, url) {
        Ok(body) => Outcome::Body(body),
        Err(error) => Outcome::Gap(error),
    };
    let answered_s = epoch_now_s();
    JournalEntry {
        exporter: url.to_string(),
        taken_at_s: (sent_s + answered_s) / 2.0,
        outcome,
    }
}

fn fetch(agent: &ureq::Agent, url: &str) -> Result<String, String> {
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    response
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_string()
        .map_err(|e| format!("reading the answer: {e}"))
}
