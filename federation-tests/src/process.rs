//! Long-running child servers (`culturecnous serve`, the Node peer): started with a known
//! environment, output appended to a log file the failure messages quote, killed on Drop.

use std::{
    fs::OpenOptions,
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) struct ChildServer {
    /// What the messages call it, e.g. `instance A (culturecnous serve)`.
    pub label: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Set on top of the inherited environment, after removing `remove_prefix` variables.
    pub env: Vec<(String, String)>,
    /// Inherited variables starting with this are removed, so the parent's settings never
    /// leak into the child.
    pub remove_prefix: Option<&'static str>,
    pub current_dir: Option<PathBuf>,
    pub log_path: PathBuf,
    child: Option<Child>,
}

impl ChildServer {
    pub fn new(label: String, program: PathBuf, log_path: PathBuf) -> Self {
        Self {
            label,
            program,
            args: Vec::new(),
            env: Vec::new(),
            remove_prefix: None,
            current_dir: None,
            log_path,
            child: None,
        }
    }

    /// Starts the process; its output goes to the log file (appended, so restarts keep the
    /// earlier runs above a separator line).
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.label);
        if let Some(dir) = self.log_path.parent() {
            std::fs::create_dir_all(dir).expect("log folder");
        }
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.log_path.display()));
        {
            use std::io::Write;
            let _ = writeln!(log, "----- starting {} -----", self.label);
        }
        let stderr = log.try_clone().expect("log file handle");
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(stderr));
        if let Some(prefix) = self.remove_prefix {
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with(prefix) {
                    command.env_remove(name);
                }
            }
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        let child = command.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {} ({}): {e}",
                self.label,
                self.program.display()
            )
        });
        self.child = Some(child);
    }

    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Waits until `GET url` answers with a success status. Fails the test, quoting the log,
    /// if the process exits first or does not answer in time.
    pub async fn wait_until_answers(&mut self, client: &reqwest::Client, url: &str) {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut delay = Duration::from_millis(20);
        let mut last;
        loop {
            if let Some(child) = &mut self.child {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    panic!(
                        "{} exited ({status}) before answering {url}. Its log:\n{}",
                        self.label,
                        self.log_tail(60)
                    );
                }
            } else {
                panic!("{} is not running", self.label);
            }
            match client.get(url).send().await {
                Ok(r) if r.status().is_success() => return,
                Ok(r) => last = format!("answered {}", r.status()),
                Err(e) => last = format!("{e}"),
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} did not answer GET {url} within {READY_TIMEOUT:?} (last: {last}). Its log:\n{}",
                    self.label,
                    self.log_tail(60)
                );
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(200));
        }
    }

    /// SIGKILL: the process gets no chance to clean up (what a crash or an OOM kill does).
    pub fn kill9(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = child.kill();
        child.wait().ok()
    }

    /// SIGTERM, then waits for the exit; SIGKILL if it does not stop in `timeout`.
    pub async fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
        // SAFETY: sending a signal to our own child, whose pid we still own (not yet reaped).
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + timeout;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                _ => {
                    let _ = child.kill();
                    return child.wait().ok();
                }
            }
        }
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log_path)
            .unwrap_or_else(|e| format!("(cannot read {}: {e})", self.log_path.display()));
        let all: Vec<&str> = text.lines().collect();
        let start = all.len().saturating_sub(lines);
        format!("[{}]\n{}", self.log_path.display(), all[start..].join("\n"))
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
