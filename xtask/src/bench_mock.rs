//! `cargo xtask bench mock`: throughput of the mock Airbyte server for `GET /jobs/{id}`.
//!
//! Builds the release binary, starts `airguard mock serve` on a free loopback port with
//! client-credentials auth and one connection whose sync stays running, fetches a token,
//! creates the job, then drives a fixed number of keep-alive `GET /api/public/v1/jobs/{id}`
//! requests from N worker threads and prints requests per second. The client is a minimal
//! blocking HTTP/1.1 loop on std sockets, so the figure measures the server, not a client
//! library. Target: ≥ 20 000 requests/s on 2 cores. It never leaves the mock running.

use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CONNECTION: &str = "5e1f0000-0000-4000-8000-00000000be7c";

struct Settings {
    requests: u64,
    workers: u64,
    binary: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Settings> {
    let mut s = Settings {
        requests: 200_000,
        workers: 16,
        binary: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--requests" => s.requests = value()?.parse().context("--requests")?,
            "--workers" => s.workers = value()?.parse().context("--workers")?,
            "--binary" => s.binary = Some(PathBuf::from(value()?)),
            other => {
                bail!("unknown argument `{other}` (use --requests N, --workers N, --binary PATH)")
            }
        }
    }
    if s.workers == 0 || s.requests < s.workers {
        bail!("need at least one worker and one request per worker");
    }
    Ok(s)
}

/// Kills the mock when dropped, so an error never leaves it running.
struct Mock(Child);

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run the benchmark.
pub fn run(args: &[String]) -> Result<()> {
    let settings = parse(args)?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?
        .to_owned();
    let binary = match settings.binary {
        Some(b) => b,
        None => {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let status = Command::new(cargo)
                .args(["build", "--release", "--quiet", "--bin", "airguard"])
                .current_dir(&root)
                .status()
                .context("cannot run cargo build")?;
            if !status.success() {
                bail!("cargo build --release failed");
            }
            root.join("target/release/airguard")
        }
    };

    let scenario = tempfile_path("airguard-bench-mock.yaml");
    std::fs::write(&scenario, format!("connections:\n  - id: {CONNECTION}\n    name: bench\n    jobs: {{ stuck: true, pending: 0s }}\n"))?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let child = Command::new(&binary)
        .args(["mock", "serve", "--listen", &addr.to_string(), "--scenario"])
        .arg(&scenario)
        .args([
            "--auth",
            "client-credentials",
            "--client-id",
            "bench",
            "--client-secret",
            "bench-secret",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let _mock = Mock(child);

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut conn = loop {
        match TcpStream::connect(addr) {
            Ok(s) => break Conn::new(s)?,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(e).context("the mock did not start listening"),
        }
    };
    let body = "grant_type=client_credentials&client_id=bench&client_secret=bench-secret";
    let token_resp = conn.request(&format!(
        "POST /api/public/v1/applications/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))?;
    let token =
        json_str(&token_resp, "access_token").context("no access_token in the token response")?;
    let body = format!("{{\"connectionId\":\"{CONNECTION}\",\"jobType\":\"sync\"}}");
    let job_resp = conn.request(&format!(
        "POST /api/public/v1/jobs HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))?;
    let job_id = json_num(&job_resp, "jobId").context("no jobId in the create-job response")?;
    let request = format!(
        "GET /api/public/v1/jobs/{job_id} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
    );

    let per_worker = settings.requests / settings.workers;
    let total = per_worker * settings.workers;
    let started = Instant::now();
    let handles: Vec<_> = (0..settings.workers)
        .map(|_| {
            let request = request.clone();
            std::thread::spawn(move || -> Result<()> {
                let mut c = Conn::new(TcpStream::connect(addr)?)?;
                for _ in 0..per_worker {
                    let body = c.request(&request)?;
                    if !body.contains("\"status\":\"running\"") {
                        bail!("unexpected body: {body}");
                    }
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| anyhow::anyhow!("worker panicked"))??;
    }
    let elapsed = started.elapsed();
    let _ = std::fs::remove_file(&scenario);
    println!(
        "mock GET /api/public/v1/jobs/{{id}}: {total} requests, {} keep-alive connections",
        settings.workers
    );
    println!("  wall time: {:.3} s", elapsed.as_secs_f64());
    println!(
        "  throughput: {:.0} requests/s (target >= 20000 on 2 cores)",
        total as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

fn tempfile_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{}-{name}", std::process::id()))
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn new(stream: TcpStream) -> Result<Self> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Send a request and return the body of a 200 response.
    fn request(&mut self, req: &str) -> Result<String> {
        self.stream.write_all(req.as_bytes())?;
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        let (head_end, len) = loop {
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                bail!("connection closed by the mock");
            }
            self.buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..i])?;
                if !head.starts_with("HTTP/1.1 200") {
                    bail!("unexpected response: {}", head.lines().next().unwrap_or(""));
                }
                let len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .context("no content-length")?;
                break (i + 4, len);
            }
        };
        while self.buf.len() < head_end + len {
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                bail!("connection closed mid-body");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        Ok(String::from_utf8_lossy(&self.buf[head_end..head_end + len]).into_owned())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn json_str(body: &str, key: &str) -> Option<String> {
    let rest = &body[body.find(&format!("\"{key}\":\""))? + key.len() + 4..];
    Some(rest[..rest.find('"')?].to_owned())
}

fn json_num(body: &str, key: &str) -> Option<i64> {
    let rest = &body[body.find(&format!("\"{key}\":"))? + key.len() + 3..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}
