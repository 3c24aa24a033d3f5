//! The managed PostgreSQL cluster: when `database.url` is empty, cultureCnous runs its own
//! private cluster under `<data_dir>/postgres`, reachable only through a unix socket inside that
//! folder. The test harness uses the same code for its throwaway cluster.
//!
//! PostgreSQL refuses to run as root, so when we are root (CI is) every server program runs as
//! the `postgres` system user created by the Debian package, on a folder that user owns.

use std::{
    ffi::OsString,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Stdio,
};
use tokio::process::Command;

/// Name of the application database inside a managed cluster.
pub const APP_DATABASE: &str = "culturecnous";
/// Superuser role created by initdb; we connect as it through the private socket.
pub const SUPERUSER: &str = "postgres";
const PORT: u16 = 5432;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL server programs (initdb, pg_ctl) were not found in PATH nor in \
         /usr/lib/postgresql/*/bin. cultureCnous runs its own private database when \
         `database.url` is empty, and needs them for that: install PostgreSQL \
         (on Debian or Ubuntu: `apt-get install postgresql`), or set `database.url` \
         (or CULTURECNOUS__DATABASE__URL) to an existing PostgreSQL database."
    )]
    BinariesNotFound,
    #[error(
        "running as root, PostgreSQL must run as the `postgres` system user, which does not \
         exist here. Install the PostgreSQL package (`apt-get install postgresql`), which \
         creates it, or run cultureCnous as an ordinary user."
    )]
    NoPostgresUser,
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// How the cluster is tuned: durable for real use, fast for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync on, the defaults PostgreSQL ships with.
    Durable,
    /// fsync and synchronous commit off: a throwaway cluster for tests.
    Throwaway,
}

/// A cluster folder and the binaries that run it.
#[derive(Debug, Clone)]
pub struct ManagedCluster {
    dir: PathBuf,
    bin_dir: PathBuf,
    as_postgres_user: bool,
}

impl ManagedCluster {
    /// Locates the PostgreSQL binaries; does not touch the folder yet.
    pub fn new(dir: &Path) -> Result<Self, ClusterError> {
        let bin_dir = find_bin_dir().ok_or(ClusterError::BinariesNotFound)?;
        let as_postgres_user = is_root();
        if as_postgres_user && postgres_user_ids().is_none() {
            return Err(ClusterError::NoPostgresUser);
        }
        let dir = absolute(dir)?;
        Ok(Self {
            dir,
            bin_dir,
            as_postgres_user,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Folder of the unix socket: the cluster folder itself.
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    /// libpq key/value connection string for `database` through the private socket.
    pub fn connection_string(&self, database: &str) -> String {
        format!(
            "host={} port={PORT} user={SUPERUSER} dbname={database}",
            self.socket_dir().display()
        )
    }

    pub fn is_initialised(&self) -> bool {
        self.dir.join("PG_VERSION").exists()
    }

    /// Creates the cluster folder with initdb when it does not exist yet.
    pub async fn init_if_needed(&self, durability: Durability) -> Result<(), ClusterError> {
        if self.is_initialised() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir)?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))?;
        if self.as_postgres_user {
            self.hand_over_to_postgres_user()?;
        }
        let mut args: Vec<OsString> = vec![
            "-D".into(),
            self.dir.clone().into(),
            "-U".into(),
            SUPERUSER.into(),
            "--auth=trust".into(),
            "--encoding=UTF8".into(),
            "--locale=C".into(),
        ];
        if durability == Durability::Throwaway {
            args.push("--no-sync".into());
        }
        self.run("initdb", &args).await?;
        let mut conf = format!(
            "\n# Written by cultureCnous: private cluster, unix socket only.\n\
             listen_addresses = ''\n\
             unix_socket_directories = '{}'\n\
             port = {PORT}\n\
             max_connections = 300\n\
             shared_buffers = 64MB\n\
             logging_collector = off\n",
            self.socket_dir().display().to_string().replace('\'', "''")
        );
        if durability == Durability::Throwaway {
            conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let conf_path = self.dir.join("postgresql.conf");
        let mut existing = std::fs::read_to_string(&conf_path)?;
        existing.push_str(&conf);
        std::fs::write(&conf_path, existing)?;
        Ok(())
    }

    /// True when a postmaster is running on this folder.
    pub async fn is_running(&self) -> bool {
        let args: Vec<OsString> = vec!["-D".into(), self.dir.clone().into(), "status".into()];
        self.command("pg_ctl", &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// Starts the server and waits until it accepts connections. Returns false when it was
    /// already running (someone else started it, and is responsible for it).
    pub async fn start(&self) -> Result<bool, ClusterError> {
        if self.is_running().await {
            return Ok(false);
        }
        let log = self.dir.join("server.log");
        let args: Vec<OsString> = vec![
            "-D".into(),
            self.dir.clone().into(),
            "-l".into(),
            log.clone().into(),
            "-w".into(),
            "-t".into(),
            "60".into(),
            "start".into(),
        ];
        if let Err(e) = self.run("pg_ctl", &args).await {
            let tail = std::fs::read_to_string(&log)
                .map(|t| {
                    let lines: Vec<&str> = t.lines().collect();
                    lines[lines.len().saturating_sub(10)..].join("\n")
                })
                .unwrap_or_default();
            return Err(ClusterError::Command {
                command: "pg_ctl start".into(),
                detail: format!("{e}\n{tail}"),
            });
        }
        Ok(true)
    }

    /// Fast shutdown: active transactions are rolled back, nothing committed is lost.
    pub async fn stop(&self) -> Result<(), ClusterError> {
        if !self.is_running().await {
            return Ok(());
        }
        let args: Vec<OsString> = vec![
            "-D".into(),
            self.dir.clone().into(),
            "-m".into(),
            "fast".into(),
            "-w".into(),
            "stop".into(),
        ];
        self.run("pg_ctl", &args).await
    }

    /// `pg_ctl restart -m fast`: used by fault-tolerance tests.
    pub async fn restart(&self) -> Result<(), ClusterError> {
        let log = self.dir.join("server.log");
        let args: Vec<OsString> = vec![
            "-D".into(),
            self.dir.clone().into(),
            "-l".into(),
            log.into(),
            "-m".into(),
            "fast".into(),
            "-w".into(),
            "restart".into(),
        ];
        self.run("pg_ctl", &args).await
    }

    /// Blocking variant of [`ManagedCluster::stop`], for exit hooks where no runtime is left.
    pub fn stop_blocking(&self) {
        let mut cmd = self.std_command("pg_ctl");
        cmd.arg("-D")
            .arg(&self.dir)
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = cmd.status();
    }

    /// Creates `database` when missing (connecting to the maintenance database).
    pub async fn ensure_database(&self, database: &str) -> Result<(), ClusterError> {
        let (client, connection) =
            tokio_postgres::connect(&self.connection_string("postgres"), tokio_postgres::NoTls)
                .await
                .map_err(|e| ClusterError::Command {
                    command: "connect".into(),
                    detail: e.to_string(),
                })?;
        let handle = tokio::spawn(connection);
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&database])
            .await
            .map_err(|e| ClusterError::Command {
                command: "query pg_database".into(),
                detail: e.to_string(),
            })?
            .is_some();
        if !exists {
            let sql = format!("CREATE DATABASE \"{}\"", database.replace('"', "\"\""));
            if let Err(e) = client.batch_execute(&sql).await {
                // Another process may have created it at the same moment.
                if e.code() != Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE) {
                    return Err(ClusterError::Command {
                        command: sql,
                        detail: e.to_string(),
                    });
                }
            }
        }
        drop(client);
        let _ = handle.await;
        Ok(())
    }

    fn hand_over_to_postgres_user(&self) -> Result<(), ClusterError> {
        let (uid, gid) = postgres_user_ids().ok_or(ClusterError::NoPostgresUser)?;
        chown(&self.dir, uid, gid)?;
        // The postgres user must be able to reach the folder: grant search (not read) on the
        // ancestors that lack it, e.g. a checkout under /root.
        let mut ancestor = self.dir.parent();
        while let Some(dir) = ancestor {
            if let Ok(meta) = std::fs::metadata(dir) {
                let mode = meta.permissions().mode();
                if mode & 0o001 == 0 {
                    tracing::warn!(
                        "granting search permission on {} so that the postgres user can reach the database folder",
                        dir.display()
                    );
                    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o001))?;
                }
            }
            ancestor = dir.parent();
        }
        Ok(())
    }

    fn std_command(&self, program: &str) -> std::process::Command {
        let path = self.bin_dir.join(program);
        if self.as_postgres_user {
            let mut cmd = std::process::Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            std::process::Command::new(path)
        }
    }

    fn command(&self, program: &str, args: &[OsString]) -> Command {
        let mut cmd = Command::from(self.std_command(program));
        cmd.args(args).stdin(Stdio::null());
        // The server must not die with the terminal's Ctrl-C before we stop it cleanly.
        cmd.process_group(0);
        cmd
    }

    async fn run(&self, program: &str, args: &[OsString]) -> Result<(), ClusterError> {
        let output = self.command(program, args).output().await?;
        if output.status.success() {
            Ok(())
        } else {
            Err(ClusterError::Command {
                command: program.to_string(),
                detail: format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                )
                .trim()
                .to_string(),
            })
        }
    }
}

fn absolute(dir: &Path) -> std::io::Result<PathBuf> {
    if dir.is_absolute() {
        Ok(dir.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(dir))
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn postgres_user_ids() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.first() == Some(&"postgres") && fields.len() > 3 {
            Some((fields[2].parse().ok()?, fields[3].parse().ok()?))
        } else {
            None
        }
    })
}

fn chown(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
}

/// Finds a folder holding both `initdb` and `pg_ctl`: PATH first, then the newest
/// `/usr/lib/postgresql/<version>/bin`.
fn find_bin_dir() -> Option<PathBuf> {
    let has_both = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                // Follow symlinks such as /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin,
                // so that pg_ctl finds the matching `postgres` program next to it.
                let real = std::fs::canonicalize(dir.join("initdb"))
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .unwrap_or(dir);
                if has_both(&real) {
                    return Some(real);
                }
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}
