//! A real PostgreSQL server for a test, from Debian's `postgresql` package: a fresh cluster in a
//! temporary folder (`initdb`), started on a free loopback port (`pg_ctl start`, no Unix socket
//! outside the folder, fsync off), stopped and removed when dropped (`pg_ctl stop -m immediate`).
//!
//! The server binaries are found in `$PITSENSE_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`.
//! PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user
//! (created by the package) and its commands run through `runuser`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running PostgreSQL server; stopped and deleted on drop.
#[derive(Debug)]
pub struct PostgresServer {
    bin: PathBuf,
    data: PathBuf,
    // Holds the cluster's folder until the server is stopped.
    _dir: TempDirGuard,
    port: u16,
    as_postgres: bool,
}

/// Removes a folder on drop.
#[derive(Debug)]
struct TempDirGuard(PathBuf);

impl Drop for TempDirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PITSENSE_PG_BIN").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

impl PostgresServer {
    /// Starts a server, or says on stderr why it cannot (no PostgreSQL binaries, `initdb` or the
    /// start failed) and returns `None`, for tests that skip without one.
    pub fn start() -> Option<Self> {
        let Some(bin) = bin_dir() else {
            eprintln!(
                "skipped: no PostgreSQL server binaries (install Debian's `postgresql`, or set PITSENSE_PG_BIN)"
            );
            return None;
        };
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!(
            "pitsense-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
        ));
        let guard = TempDirGuard(dir.clone());
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("skipped: cannot create {}: {e}", dir.display());
            return None;
        }
        if as_postgres {
            let chown = Command::new("chown").arg("postgres:postgres").arg(&dir).status();
            if !chown.is_ok_and(|s| s.success()) {
                eprintln!(
                    "skipped: running as root and cannot give {} to the `postgres` user",
                    dir.display()
                );
                return None;
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .ok()?;
        let server = Self { bin, data: dir.join("data"), _dir: guard, port, as_postgres };
        let init = server
            .command("initdb")
            .arg("-D")
            .arg(&server.data)
            .args(["-U", "pitsense", "-A", "trust", "-E", "UTF8", "--no-sync"])
            .output();
        match init {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                eprintln!("skipped: initdb failed: {}", String::from_utf8_lossy(&out.stderr));
                return None;
            }
            Err(e) => {
                eprintln!("skipped: cannot run initdb: {e}");
                return None;
            }
        }
        let options = format!("-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", dir.display());
        let start = server
            .command("pg_ctl")
            .arg("-D")
            .arg(&server.data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-o", &options, "-w", "-t", "30", "start"])
            .output();
        match start {
            Ok(out) if out.status.success() => Some(server),
            Ok(out) => {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                eprintln!(
                    "skipped: the PostgreSQL server did not start: {}{log}",
                    String::from_utf8_lossy(&out.stderr)
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run pg_ctl: {e}");
                None
            }
        }
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    /// The URL of the server's `postgres` database as the `pitsense` superuser (trusted: no
    /// password), e.g. `postgres://pitsense@127.0.0.1:54321/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://pitsense@127.0.0.1:{}/postgres", self.port)
    }

    /// The port it listens on (loopback).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ =
            self.command("pg_ctl").arg("-D").arg(&self.data).args(["-m", "immediate", "-w", "stop"]).output();
    }
}
