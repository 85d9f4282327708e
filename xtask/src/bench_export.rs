//! `cargo xtask bench export`: `airguard export` against `airguard mock serve` at scale.
//!
//! The mock serves 5 000 connections with 20 streams each (a `bulk` scenario); `airguard export`
//! (release build, a child process) reads them over loopback and writes the export, then runs
//! again with `--check` against what it wrote (an unchanged Airbyte must give no drift). Prints
//! per run: wall time (goal < 10 s), list requests (pages: the lists carry the objects, so
//! 1 + 1 + 1 + ⌈5000 / 100⌉ = 53, never one per object) and peak memory of the export process
//! (VmHWM, sampled every 5 ms until it exits; goal < 200 MB). Flags: `--connections N`,
//! `--streams N`.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed and reaped on drop.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One measured run of a command: wall time, peak RSS in bytes, exit code, stderr.
fn measure(cmd: &mut Command) -> Result<(Duration, u64, i32, String)> {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting airguard export")?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            if let Some(kb) = text
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
            {
                peak = peak.max(kb * 1024);
            }
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = start.elapsed();
    let stderr = reader.join().unwrap_or_default();
    Ok((wall, peak, status.code().unwrap_or(-1), stderr))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// Run the benchmark and print its figures.
pub fn run(args: &[String]) -> Result<()> {
    let (mut connections, mut streams) = (5000u32, 20u32);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--connections" => connections = value.parse()?,
            "--streams" => streams = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    let root = root();
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--release", "--bin", "airguard"])
        .current_dir(&root)
        .status()?;
    if !status.success() {
        bail!("building airguard failed");
    }
    let bin = root.join("target/release/airguard");
    let dir = std::env::temp_dir().join(format!("airguard-bench-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let scenario = dir.join("scenario.yaml");
    std::fs::write(
        &scenario,
        format!("bulk: {{ connections: {connections}, streams: {streams} }}\n"),
    )?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let _mock = Child(
        Command::new(&bin)
            .args([
                "mock",
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--scenario",
            ])
            .arg(&scenario)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting airguard mock serve")?,
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("airguard mock serve did not start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = dir.join("export");
    let export = |check: bool| {
        let mut cmd = Command::new(&bin);
        cmd.args([
            "export",
            "--api-url",
            &format!("http://127.0.0.1:{port}"),
            "--out",
        ])
        .arg(&out)
        .args(["--fail-on", "never"])
        .env("AIRBYTE_API_CLIENT_ID", airguard::mock::DEFAULT_CLIENT_ID)
        .env(
            "AIRBYTE_API_CLIENT_SECRET",
            airguard::mock::DEFAULT_CLIENT_SECRET,
        );
        if check {
            cmd.arg("--check");
        }
        measure(&mut cmd)
    };
    println!(
        "export of {connections} connections × {streams} streams from `airguard mock serve` (release)"
    );
    println!(
        "{:<8} {:>9} {:>14} {:>10}  goal: < 10 s, < 200 MB",
        "run", "wall", "list requests", "peak RSS"
    );
    for (name, check) in [("write", false), ("--check", true)] {
        let (wall, peak, code, stderr) = export(check)?;
        if code != 0 {
            bail!("export {name} exited {code}: {stderr}");
        }
        let pages = stderr
            .split("; ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or("?")
            .to_owned();
        println!(
            "{name:<8} {:>8.2}s {pages:>14} {:>7.1} MB",
            wall.as_secs_f64(),
            peak as f64 / (1024.0 * 1024.0)
        );
    }
    let files = std::fs::read_dir(out.join("workspaces/default-workspace/connections"))?.count();
    println!("{files} connection files; the second export found no drift");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
