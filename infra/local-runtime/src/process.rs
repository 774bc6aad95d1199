//! Functions as processes, as Lambda runs them: each function's own binary (the one SAM
//! deploys as `bootstrap`) started with `AWS_LAMBDA_RUNTIME_API` pointing at a
//! [`RuntimeApi`], the environment the template gives the function, and the variables the
//! Lambda service sets. A process that exits is started again, as Lambda starts a new
//! execution environment.

use crate::runtime_api::{BindError, InvokeError, RuntimeApi};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Where the function binaries are and how many processes each function gets.
#[derive(Debug, Clone)]
pub struct ProcessOptions {
    /// e.g. `target/release`: holds `webhook-intake`, `normalize`, …
    pub bin_dir: PathBuf,
    /// Processes per function: each handles one invocation at a time, so this is the
    /// function's concurrency.
    pub per_function: usize,
    /// Each process's stdout and stderr (its logs) go to `<dir>/<function>-<n>.log`; none:
    /// discarded.
    pub log_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("function binary {0} not found (build it with `cargo build --release`)")]
    MissingBinary(PathBuf),
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error("could not start {binary}: {source}")]
    Spawn {
        binary: PathBuf,
        source: std::io::Error,
    },
}

/// The running processes of one function and the Runtime API they poll.
pub struct FunctionProcesses {
    pub logical_id: String,
    api: Arc<RuntimeApi>,
    timeout: Duration,
    pids: Arc<Mutex<Vec<Option<u32>>>>,
    stop: watch::Sender<bool>,
    supervisors: Vec<JoinHandle<()>>,
}

/// What one function process is and what it has used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessStats {
    pub pid: u32,
    /// Peak resident set size (`VmHWM` in /proc/<pid>/status), in KiB; `None` off Linux.
    pub peak_rss_kib: Option<u64>,
    /// Resident set size now (`VmRSS` in /proc/<pid>/status), in KiB; `None` off Linux.
    pub rss_kib: Option<u64>,
    /// Open file descriptors now (entries of /proc/<pid>/fd); `None` off Linux.
    pub open_fds: Option<usize>,
}

impl FunctionProcesses {
    /// Starts `options.per_function` processes of `binary` with `env` (the template's
    /// environment for the function, with any overrides).
    pub async fn start(
        logical_id: &str,
        physical_name: &str,
        binary: &str,
        env: &BTreeMap<String, String>,
        timeout: Duration,
        options: &ProcessOptions,
    ) -> Result<FunctionProcesses, ProcessError> {
        let path = options.bin_dir.join(binary);
        if !path.is_file() {
            return Err(ProcessError::MissingBinary(path));
        }
        let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
        let arn = format!("arn:aws:lambda:{region}:000000000000:function:{physical_name}");
        let api = Arc::new(RuntimeApi::start(&arn).await?);
        let mut env = env.clone();
        env.extend(lambda_service_environment(&api.endpoint(), physical_name));
        let pids = Arc::new(Mutex::new(vec![None; options.per_function.max(1)]));
        let (stop, stopped) = watch::channel(false);
        let mut supervisors = Vec::new();
        for slot in 0..options.per_function.max(1) {
            let log = options
                .log_dir
                .as_ref()
                .map(|dir| dir.join(format!("{binary}-{slot}.log")));
            // The first start's failure is the caller's error; later ones are logged.
            let child = spawn(&path, &env, log.as_deref())?;
            supervisors.push(tokio::spawn(supervise(
                child,
                slot,
                path.clone(),
                env.clone(),
                log,
                pids.clone(),
                stopped.clone(),
            )));
        }
        Ok(FunctionProcesses {
            logical_id: logical_id.to_owned(),
            api,
            timeout,
            pids,
            stop,
            supervisors,
        })
    }

    /// Invokes the function with a JSON event, waiting at most its timeout.
    pub async fn invoke(&self, event: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        self.api.invoke(event, self.timeout).await
    }

    /// The live processes, their peak and current memory and their open descriptors.
    pub fn stats(&self) -> Vec<ProcessStats> {
        let pids: Vec<u32> = self
            .pids
            .lock()
            .map(|p| p.iter().flatten().copied().collect())
            .unwrap_or_default();
        pids.into_iter()
            .map(|pid| ProcessStats {
                pid,
                peak_rss_kib: peak_rss_kib(pid),
                rss_kib: rss_kib(pid),
                open_fds: open_fds(pid),
            })
            .collect()
    }

    /// Stops every process (after the invocations in flight: callers stop feeding first),
    /// then the Runtime API.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for supervisor in self.supervisors {
            let _ = supervisor.await;
        }
        if let Ok(api) = Arc::try_unwrap(self.api) {
            api.stop().await;
        }
    }
}

fn spawn(
    path: &Path,
    env: &BTreeMap<String, String>,
    log: Option<&Path>,
) -> Result<tokio::process::Child, ProcessError> {
    let spawn_error = |source| ProcessError::Spawn {
        binary: path.to_owned(),
        source,
    };
    logged_command(path, env, log)
        .map_err(spawn_error)?
        .spawn()
        .map_err(spawn_error)
}

/// A function process's command: `env` over this process's environment (its AWS
/// credentials, region, endpoint and RUST_LOG stand in for what Lambda's execution role and
/// region give a function), stdout and stderr appended to `log` (none: discarded), killed
/// when dropped.
pub fn logged_command(
    program: &Path,
    env: &BTreeMap<String, String>,
    log: Option<&Path>,
) -> std::io::Result<tokio::process::Command> {
    let (stdout, stderr) = match log {
        Some(file) => {
            let out = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(file)?;
            let err = out.try_clone()?;
            (Stdio::from(out), Stdio::from(err))
        }
        None => (Stdio::null(), Stdio::null()),
    };
    let mut command = tokio::process::Command::new(program);
    command
        .envs(env)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .kill_on_drop(true);
    Ok(command)
}

async fn supervise(
    mut child: tokio::process::Child,
    slot: usize,
    path: PathBuf,
    env: BTreeMap<String, String>,
    log: Option<PathBuf>,
    pids: Arc<Mutex<Vec<Option<u32>>>>,
    mut stop: watch::Receiver<bool>,
) {
    let set_pid = |pid: Option<u32>| {
        if let Ok(mut pids) = pids.lock() {
            pids[slot] = pid;
        }
    };
    loop {
        set_pid(child.id());
        let exited = tokio::select! {
            status = child.wait() => Some(status),
            _ = stop.wait_for(|s| *s) => None,
        };
        let Some(status) = exited else {
            let _ = child.start_kill();
            let _ = child.wait().await;
            set_pid(None);
            return;
        };
        set_pid(None);
        tracing::warn!(binary = %path.display(), ?status, "function process exited; starting a new one");
        // Not synchronisation: keeps a binary that cannot start from spinning.
        tokio::time::sleep(Duration::from_millis(200)).await;
        if *stop.borrow() {
            return;
        }
        match spawn(&path, &env, log.as_deref()) {
            Ok(next) => child = next,
            Err(e) => {
                tracing::error!(error = %e, "could not restart a function process");
                return;
            }
        }
    }
}

/// What the Lambda service sets in every execution environment of the function
/// `physical_name`, whose Runtime API is at `runtime_api` ("127.0.0.1:port"). The region
/// is this process's `AWS_REGION`.
pub fn lambda_service_environment(
    runtime_api: &str,
    physical_name: &str,
) -> BTreeMap<String, String> {
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    [
        ("AWS_REGION", region.clone()),
        ("AWS_DEFAULT_REGION", region),
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", physical_name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_owned()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{physical_name}"),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "local".to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The CPU time a process has used, user and system, all its threads (`utime` + `stime`
/// in /proc/<pid>/stat); `None` off Linux or once it is gone.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    cpu_time_of(&stat)
}

fn cpu_time_of(stat: &str) -> Option<Duration> {
    // The command name (field 2) may hold spaces and parentheses; fields after the last
    // ')' are plain. utime and stime are fields 14 and 15, in clock ticks: USER_HZ, which
    // Linux fixes at 100 for /proc whatever the kernel's HZ.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<u64>().ok();
    let total = ticks(14)? + ticks(15)?;
    Some(Duration::from_millis(total * 10))
}

/// `VmHWM` of a process: the most resident memory it has had.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// `VmRSS` of a process: the memory it has resident now.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// How many file descriptors a process has open (sockets, files, pipes); `None` off Linux
/// or once it is gone.
pub fn open_fds(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    kib_field(&status, field)
}

/// A `kB` line of /proc/<pid>/status (`VmRSS:    5120 kB`), in KiB.
fn kib_field(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_user_plus_system_ticks_after_the_command_name() {
        // A command name with a space and a parenthesis, as /proc shows it.
        let stat = "4242 (web (hook) x) S 1 4242 4242 0 -1 4194560 1077 0 0 0 37 5 0 0 20 0 1 0";
        assert_eq!(cpu_time_of(stat), Some(Duration::from_millis(420)));
        assert_eq!(cpu_time_of("4242 (cut short) S 1"), None);
    }

    #[test]
    fn memory_fields_are_read_by_name_in_kib() {
        let status =
            "Name:\tnotify\nVmPeak:\t  20000 kB\nVmHWM:\t    9216 kB\nVmRSS:\t    8192 kB\n";
        assert_eq!(kib_field(status, "VmHWM:"), Some(9216));
        assert_eq!(kib_field(status, "VmRSS:"), Some(8192));
        assert_eq!(kib_field(status, "VmSwap:"), None);
    }

    #[test]
    fn this_process_has_resident_memory_and_open_descriptors() {
        let pid = std::process::id();
        let (rss, peak) = (rss_kib(pid), peak_rss_kib(pid));
        if cfg!(target_os = "linux") {
            assert!(rss.is_some_and(|r| r > 0 && peak.is_some_and(|p| p >= r)));
            // stdin, stdout and stderr at least.
            assert!(open_fds(pid).is_some_and(|n| n >= 3));
        }
    }
}
