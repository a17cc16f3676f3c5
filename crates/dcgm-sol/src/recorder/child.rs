//! The wrapped command: started with this process's stdio, its exit status passed through, and
//! SIGINT/SIGTERM/SIGHUP/SIGQUIT sent to `record` forwarded to it. A signal the terminal sent
//! (Ctrl-C, Ctrl-\) already reached the command, which shares our process group, so it is not
//! sent twice.

use std::process::{Command, ExitStatus};

use anyhow::Context as _;
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::origin::WithOrigin;
use signal_hook::low_level::siginfo::Cause;

use super::scraper::epoch_now_s;

/// How the command ran.
#[derive(Debug, Clone, Copy)]
pub struct Finished {
    /// Just before it started, epoch seconds.
    pub started_s: f64,
    /// Just after it ended, epoch seconds.
    pub ended_s: f64,
    /// Its exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
}

impl Finished {
    /// The exit code `record` passes on: the command's, or 128 + the signal (shell convention).
    pub fn passed_on_code(&self) -> u8 {
        match (self.exit_code, self.signal) {
            (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
            (None, Some(signal)) => u8::try_from(128 + (signal & 0x7f)).unwrap_or(1),
            (None, None) => 1,
        }
    }
}

/// Runs `command` to completion, forwarding signals.
pub fn run(command: &[String]) -> anyhow::Result<Finished> {
    let (program, args) = command
        .split_first()
        .context("no command given after `--`")?;
    let mut signals = SignalsInfo::<WithOrigin>::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        .context("installing signal handlers")?;
    let handle = signals.handle();
    let started_s = epoch_now_s();
    let mut child = Command::new(program)
        .args(args)
        .spawn()
        .with_context(|| format!("starting `{program}`"))?;
    let pid = rustix::process::Pid::from_child(&child);
    let forwarder = std::thread::spawn(move || {
        for origin in signals.forever() {
            let from_terminal =
                matches!(origin.cause, Cause::Kernel) && matches!(origin.signal, SIGINT | SIGQUIT);
            if from_terminal {
                continue;
            }
            if let Some(signal) = rustix::process::Signal::from_named_raw(origin.signal) {
                let _ = rustix::process::kill_process(pid, signal);
            }
        }
    });
    let status = child.wait();
    let ended_s = epoch_now_s();
    handle.close();
    let _ = forwarder.join();
    let status = status.with_context(|| format!("waiting for `{program}`"))?;
    Ok(finished(status, started_s, ended_s))
}

fn finished(status: ExitStatus, started_s: f64, ended_s: f64) -> Finished {
    use std::os::unix::process::ExitStatusExt;
    Finished {
        started_s,
        ended_s,
        exit_code: status.code(),
        signal: status.signal(),
    }
}
