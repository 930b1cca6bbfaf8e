//! Whether other processes have been using the machine's cores.
//!
//! A multi-threaded whisper.cpp decode is only faster when its threads have the
//! cores to themselves: ggml's threads spin at barriers, and with one other busy
//! process on a 2-core machine a two-thread Mandarin turn took twice as long as a
//! single-threaded one (benches/interview_latency.rs with `yes > /dev/null`
//! running). [`CpuWatch`] reads the machine's and this process's CPU time from
//! `/proc` (two short reads; a crate for it would bring far more than it saves)
//! and tells how much of a core everything else used since the last look.

use std::time::{Duration, Instant};

/// Others' average use, in cores, above which the machine is not quiet.
const BUSY_CORES: f64 = 0.25;
/// Looks closer together than this reuse the last verdict (the counters tick
/// every 10 ms).
const MIN_WINDOW: Duration = Duration::from_millis(200);

#[derive(Debug)]
pub struct CpuWatch {
    last: Option<Sample>,
    quiet: bool,
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    /// Busy clock ticks of all cores, and of this process.
    machine: u64,
    own: u64,
}

impl CpuWatch {
    /// Starts watching (the first verdict covers the time from here).
    pub fn new() -> Self {
        CpuWatch {
            last: sample(),
            quiet: false,
        }
    }

    /// True when other processes used less than a quarter of a core on average
    /// since the last look. False where `/proc` cannot be read.
    pub fn others_quiet(&mut self) -> bool {
        let Some(now) = sample() else {
            return false;
        };
        let Some(last) = self.last else {
            self.last = Some(now);
            return false;
        };
        let window = now.at.duration_since(last.at);
        if window < MIN_WINDOW {
            return self.quiet;
        }
        let others = now
            .machine
            .saturating_sub(last.machine)
            .saturating_sub(now.own.saturating_sub(last.own));
        self.quiet = others_cores(others, window) < BUSY_CORES;
        self.last = Some(now);
        self.quiet
    }
}

impl Default for CpuWatch {
    fn default() -> Self {
        Self::new()
    }
}

/// Clock ticks per second of `/proc`'s counters (USER_HZ: 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

fn others_cores(ticks: u64, window: Duration) -> f64 {
    ticks as f64 / TICKS_PER_SECOND / window.as_secs_f64().max(1e-3)
}

fn sample() -> Option<Sample> {
    let at = Instant::now();
    let machine = machine_busy(&std::fs::read_to_string("/proc/stat").ok()?)?;
    let own = process_busy(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
    Some(Sample { at, machine, own })
}

/// All cores' busy ticks from `/proc/stat`'s `cpu` line: user, nice, system,
/// irq, softirq and steal (not idle, not iowait).
fn machine_busy(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let at = |i: usize| v.get(i).copied().unwrap_or(0);
    (v.len() >= 4).then(|| at(0) + at(1) + at(2) + at(5) + at(6) + at(7))
}

/// This process's user + system ticks from `/proc/self/stat` (fields 14 and
/// 15; the command name before them may hold spaces and parentheses).
fn process_busy(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) is index 11 here.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_line_counts_busy_ticks_only() {
        let stat = "cpu  100 5 50 9000 70 3 2 1 0 0\ncpu0 50 2 25 4500 35 1 1 0 0 0\n";
        // user + nice + system + irq + softirq + steal; idle and iowait left out.
        assert_eq!(machine_busy(stat), Some(100 + 5 + 50 + 3 + 2 + 1));
        assert_eq!(machine_busy("intr 1 2 3\n"), None);
        assert_eq!(machine_busy("cpu  1 x 3 4\n"), None);
    }

    #[test]
    fn the_process_line_is_read_after_the_name() {
        let stat = "4242 (voxhire (a) b) S 1 4242 4242 0 -1 4194560 900 0 0 0 731 120 0 0 20 0 9 0";
        assert_eq!(process_busy(stat), Some(731 + 120));
        assert_eq!(process_busy("4242 (voxhire) S 1"), None);
    }

    #[test]
    fn a_quarter_core_of_others_is_busy() {
        let second = Duration::from_secs(1);
        assert!(others_cores(20, second) < BUSY_CORES);
        assert!(others_cores(25, second) >= BUSY_CORES);
        assert!((others_cores(100, Duration::from_secs(2)) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn a_busy_thread_in_another_process_is_seen() {
        let mut watch = CpuWatch::new();
        std::thread::sleep(MIN_WINDOW);
        // Reset the window, then keep one core busy in a child process.
        watch.others_quiet();
        let mut hog = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .expect("sh");
        std::thread::sleep(Duration::from_millis(600));
        let quiet = watch.others_quiet();
        let _ = hog.kill();
        let _ = hog.wait();
        assert!(
            !quiet,
            "a process spinning on a core for 600 ms went unseen"
        );
    }
}
