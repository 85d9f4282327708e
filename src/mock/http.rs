//! The mock's HTTP layer: accept loop, connection limits, request classification, auth, faults
//! and the handlers of both APIs.
//!
//! It runs hyper directly (not a router) because faults need control below the response: a
//! `drop` fault closes the TCP connection without answering, which a router cannot express.
//! Handlers hold the world's lock only while reading or changing state, never across an await.
//! Nothing here logs or records headers or bodies.
//!
//! Every connection has a [`Conn`] record: its phase (idle, reading a head, busy with a request),
//! since when, and a kill switch. A watchdog per connection closes it when it stays idle longer
//! than the idle timeout or reads one head longer than the header timeout; it looks again no
//! later than any phase change could make it due, so requests need not wake it (hyper's own
//! `header_read_timeout` counts the keep-alive wait as header time, so it is turned off). The
//! handler bounds the body: size (413) and time (408). A semaphore caps the open connections; at
//! the cap a new connection evicts the longest-idle one, never one with a request in progress.

use super::body::{self, Stats};
use super::scenario::{FaultAction, Operation};
use super::state::{JobKind, Refusal, World};
use super::{Limits, MockAuth, MockConfig, RecordedRequest, RECORDED_REQUESTS_CAP};
use crate::text::base64;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{
    HeaderValue, AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, RETRY_AFTER,
};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Shared server state.
pub(super) struct Inner {
    world: Mutex<World>,
    auth: MockAuth,
    faults: Vec<(super::Fault, AtomicU64)>,
    tokens: Mutex<HashMap<String, Instant>>,
    token_ttl: Duration,
    requests: Arc<Mutex<VecDeque<RecordedRequest>>>,
    addr: SocketAddr,
    limits: Limits,
}

impl Inner {
    pub(super) fn new(
        config: MockConfig,
        addr: SocketAddr,
        requests: Arc<Mutex<VecDeque<RecordedRequest>>>,
        limits: Limits,
    ) -> Self {
        let MockConfig { scenario, auth } = config;
        Self {
            world: Mutex::new(World::new(&scenario)),
            auth,
            faults: scenario
                .faults
                .iter()
                .cloned()
                .map(|f| (f, AtomicU64::new(0)))
                .collect(),
            tokens: Mutex::new(HashMap::new()),
            token_ttl: scenario.token_ttl,
            requests,
            addr,
            limits: Limits {
                max_connections: limits.max_connections.max(1),
                ..limits
            },
        }
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, method: &Method, path: &str, query: Option<&str>) {
        let mut r = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        if r.len() >= RECORDED_REQUESTS_CAP {
            r.pop_front();
        }
        r.push_back(RecordedRequest {
            method: method.as_str().to_owned(),
            path: path.to_owned(),
            query: query.map(str::to_owned),
        });
    }
}

// ---- connections ------------------------------------------------------------------------------

/// What a connection is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// No request in progress and no byte of the next one received.
    Idle,
    /// Some bytes of a request head received, the head not complete.
    Head,
    /// A request is being handled (its body read, its response written).
    Busy,
}

struct PhaseState {
    phase: Phase,
    since: Instant,
    /// Requests handled so far.
    served: u64,
}

/// One open connection, as the accept loop and its watchdog see it.
struct Conn {
    /// Accept order, for eviction ties and the registry key.
    seq: u64,
    state: Mutex<PhaseState>,
    /// Closes the connection (a `drop` fault, an eviction).
    kill: Notify,
    /// Tells an accept loop waiting for room that this connection may now be evicted.
    room: Arc<Room>,
}

/// Set while the accept loop waits at the cap with every connection busy.
#[derive(Default)]
struct Room {
    wanted: std::sync::atomic::AtomicBool,
    idle: Notify,
}

impl Conn {
    fn new(seq: u64, room: Arc<Room>) -> Self {
        Self {
            seq,
            state: Mutex::new(PhaseState {
                phase: Phase::Idle,
                since: Instant::now(),
                served: 0,
            }),
            kill: Notify::new(),
            room,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PhaseState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bytes arrived: an idle connection starts reading a head.
    fn received(&self) {
        let mut s = self.state();
        if s.phase == Phase::Idle {
            s.phase = Phase::Head;
            s.since = Instant::now();
        }
    }

    /// A request head is complete: busy until the returned guard drops (with the response
    /// body, once hyper has taken it, or with the handler if the connection dies first).
    fn busy(self: &Arc<Self>) -> BusyGuard {
        let mut s = self.state();
        s.phase = Phase::Busy;
        s.since = Instant::now();
        BusyGuard(self.clone())
    }

    /// `None` if the connection is past its deadline, else when to look again: never later
    /// than the earliest deadline any phase change from now on could set, so phase changes need
    /// not wake the watchdog (which keeps the request path free of timers).
    fn next_check(&self, limits: &Limits, now: Instant) -> Option<Instant> {
        let s = self.state();
        let (idle, head) = (limits.idle_timeout, limits.header_read_timeout);
        match s.phase {
            Phase::Idle if s.since + idle <= now => None,
            Phase::Head if s.since + head <= now => None,
            Phase::Idle => Some((s.since + idle).min(now + head)),
            Phase::Head => Some(s.since + head),
            Phase::Busy => Some(now + idle.min(head)),
        }
    }

    /// Eviction order: never-served connections first, then the longest idle; `None` if busy.
    fn eviction_key(&self) -> Option<(bool, Instant, u64)> {
        let s = self.state();
        (s.phase != Phase::Busy).then_some((s.served > 0, s.since, self.seq))
    }
}

struct BusyGuard(Arc<Conn>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        let mut s = self.0.state();
        s.phase = Phase::Idle;
        s.since = Instant::now();
        s.served += 1;
        drop(s);
        if self.0.room.wanted.load(Ordering::Relaxed) {
            self.0.room.idle.notify_one();
        }
    }
}

/// A response body that keeps its connection busy until hyper has taken all of it.
struct Tracked {
    body: Full<Bytes>,
    _busy: BusyGuard,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }
    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }
    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// Return when `conn` has been idle or reading one head for too long.
async fn watchdog(conn: &Conn, limits: &Limits) {
    while let Some(at) = conn.next_check(limits, Instant::now()) {
        tokio::time::sleep_until(at).await;
    }
}

/// The open connections, by accept order.
#[derive(Default)]
struct Registry(Mutex<BTreeMap<u64, Arc<Conn>>>);

impl Registry {
    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Conn>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Close the best victim to make room; false if every connection is busy.
    fn evict_one(&self) -> bool {
        let mut map = self.map();
        let victim = map
            .values()
            .filter_map(|c| c.eviction_key().map(|k| (k, c.seq)))
            .min()
            .map(|(_, seq)| seq);
        match victim.and_then(|seq| map.remove(&seq)) {
            Some(conn) => {
                conn.kill.notify_one();
                true
            }
            None => false,
        }
    }
}

/// A TCP stream that tells its [`Conn`] when bytes arrive.
struct Watched {
    stream: TcpStream,
    conn: Arc<Conn>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.received();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Accept connections until `stopped` fires, then close them all.
pub(super) async fn serve(
    listener: TcpListener,
    inner: Arc<Inner>,
    panics: Arc<AtomicU64>,
    mut stopped: oneshot::Receiver<()>,
) {
    let permits = Arc::new(Semaphore::new(inner.limits.max_connections));
    let registry = Arc::new(Registry::default());
    let room = Arc::new(Room::default());
    let mut conns = JoinSet::new();
    let ended = |r: Result<(), tokio::task::JoinError>| {
        if r.is_err_and(|e| e.is_panic()) {
            panics.fetch_add(1, Ordering::Relaxed);
        }
    };
    let mut seq = 0u64;
    'accept: loop {
        let stream = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors or similar: make room and back off instead of spinning.
                Err(_) => {
                    registry.evict_one();
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            Some(r) = conns.join_next(), if !conns.is_empty() => { ended(r); continue; }
        };
        let permit = match permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                // At the cap: close the longest-idle connection; while all are busy, wait for
                // one to end or to become idle (then evict it).
                room.wanted.store(true, Ordering::Relaxed);
                let mut evicted = registry.evict_one();
                let permit = loop {
                    tokio::select! {
                        _ = &mut stopped => break 'accept,
                        p = permits.clone().acquire_owned() => match p {
                            Ok(p) => break p,
                            Err(_) => break 'accept,
                        },
                        _ = room.idle.notified(), if !evicted => evicted = registry.evict_one(),
                        Some(r) = conns.join_next(), if !conns.is_empty() => ended(r),
                    }
                };
                room.wanted.store(false, Ordering::Relaxed);
                permit
            }
        };
        let _ = stream.set_nodelay(true);
        seq += 1;
        let conn = Arc::new(Conn::new(seq, room.clone()));
        registry.map().insert(seq, conn.clone());
        let (inner, registry) = (inner.clone(), registry.clone());
        conns.spawn(async move {
            connection(stream, inner, conn.clone()).await;
            registry.map().remove(&conn.seq);
            drop(permit);
        });
    }
    conns.abort_all();
    while let Some(r) = conns.join_next().await {
        ended(r);
    }
}

async fn connection(stream: TcpStream, inner: Arc<Inner>, conn: Arc<Conn>) {
    let io = TokioIo::new(Watched {
        stream,
        conn: conn.clone(),
    });
    let (svc_inner, svc_conn) = (inner.clone(), conn.clone());
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let (inner, conn) = (svc_inner.clone(), svc_conn.clone());
        async move {
            let busy = conn.busy();
            let response = handle(&inner, &conn.kill, req).await;
            Ok::<_, Infallible>(response.map(|body| Tracked { body, _busy: busy }))
        }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .header_read_timeout(None)
        .serve_connection(io, svc);
    // Dropping the connection future closes the socket: that is how `drop` faults answer, and
    // how timeouts and evictions close a connection.
    tokio::select! {
        _ = served => {}
        _ = conn.kill.notified() => {}
        _ = watchdog(&conn, &inner.limits) => {}
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    Public,
    Config,
}

/// An answer before it becomes an HTTP response (so faults can still corrupt it).
struct Reply {
    status: StatusCode,
    content_type: Option<&'static str>,
    body: Bytes,
    retry_after: Option<u64>,
    /// Close the connection after this response (the request body was not read to its end).
    close: bool,
}

impl Reply {
    fn json(status: u16, v: &Value) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            content_type: Some("application/json"),
            body: Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
            retry_after: None,
            close: false,
        }
    }

    fn ok(v: &Value) -> Self {
        Self::json(200, v)
    }

    fn text(status: u16, s: &'static str) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            content_type: Some("text/plain"),
            body: Bytes::from_static(s.as_bytes()),
            retry_after: None,
            close: false,
        }
    }

    fn empty(status: u16) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            content_type: None,
            body: Bytes::new(),
            retry_after: None,
            close: false,
        }
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let mut r = Response::new(Full::new(self.body));
        *r.status_mut() = self.status;
        if let Some(ct) = self.content_type {
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(s));
        }
        if self.close {
            r.headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        r
    }
}

fn closing(reply: Reply) -> Reply {
    Reply {
        close: true,
        ..reply
    }
}

/// 413 in each API's error shape; the connection closes (the body stays unread).
fn too_large(api: Api, max: usize) -> Reply {
    let reply = match api {
        Api::Public => Reply::json(
            413,
            &body::problem(
                413,
                "payload-too-large",
                "The request body is larger than the server accepts.",
                Some(json!({ "message": format!("the request body exceeds {max} bytes") })),
            ),
        ),
        Api::Config => Reply::json(
            413,
            &json!({
                "message": format!("Request Entity Too Large: the content length exceeds the maximum allowed content length [{max}]"),
                "exceptionClassName": "io.micronaut.http.exceptions.ContentLengthExceededException",
            }),
        ),
    };
    closing(reply)
}

fn classify<'a>(method: &Method, path: &'a str) -> Option<(Api, Operation, Option<&'a str>)> {
    let (api, rest) = if let Some(r) = path.strip_prefix("/api/public/v1") {
        (Api::Public, r)
    } else if let Some(r) = path.strip_prefix("/api/v1") {
        (Api::Config, r)
    } else if let Some(r) = path.strip_prefix("/v1") {
        (Api::Public, r)
    } else {
        return None;
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let m = method.as_str();
    let op = match api {
        Api::Public => match (m, rest) {
            ("GET", "/health") => (Operation::Health, None),
            ("POST", "/applications/token") => (Operation::Token, None),
            ("POST", "/jobs") => (Operation::CreateJob, None),
            ("GET", "/jobs") => (Operation::ListJobs, None),
            ("GET", "/connections") => (Operation::ListConnections, None),
            _ => {
                if let Some(id) = rest.strip_prefix("/jobs/").filter(|s| !s.contains('/')) {
                    match m {
                        "GET" => (Operation::GetJob, Some(id)),
                        "DELETE" => (Operation::CancelJob, Some(id)),
                        _ => return None,
                    }
                } else if let Some(id) = rest
                    .strip_prefix("/connections/")
                    .filter(|s| !s.contains('/'))
                {
                    match m {
                        "GET" => (Operation::GetConnection, Some(id)),
                        _ => return None,
                    }
                } else {
                    return None;
                }
            }
        },
        Api::Config => match (m, rest) {
            ("GET", "/health") => (Operation::ConfigHealth, None),
            ("POST", "/applications/token") => (Operation::ConfigToken, None),
            ("POST", "/connections/get") => (Operation::ConnectionsGet, None),
            ("POST", "/connections/sync") => (Operation::ConnectionsSync, None),
            ("POST", "/connections/reset") => (Operation::ConnectionsReset, None),
            ("POST", "/connections/clear") => (Operation::ConnectionsClear, None),
            ("POST", "/jobs/get") => (Operation::JobsGet, None),
            ("POST", "/jobs/get_without_logs") => (Operation::JobsGetWithoutLogs, None),
            ("POST", "/jobs/cancel") => (Operation::JobsCancel, None),
            ("POST", "/jobs/list") => (Operation::JobsList, None),
            _ => return None,
        },
    };
    Some((api, op.0, op.1))
}

async fn handle(inner: &Inner, kill: &Notify, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    inner.record(&method, &path, req.uri().query());
    let Some((api, op, param)) = classify(&method, &path) else {
        return Reply::json(404, &json!({ "message": "Not Found" })).into_response();
    };

    let mut after: Option<&FaultAction> = None;
    for (fault, seen) in &inner.faults {
        if fault.operation.is_some_and(|o| o != op) {
            continue;
        }
        let n = seen.fetch_add(1, Ordering::Relaxed);
        let skip = u64::from(fault.skip);
        if n < skip || fault.times.is_some_and(|t| n >= skip + u64::from(t)) {
            continue;
        }
        match &fault.action {
            FaultAction::Latency(d) => tokio::time::sleep(*d).await,
            FaultAction::Error(code) => return fault_error(api, *code).into_response(),
            FaultAction::RateLimit { retry_after } => {
                let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                let mut r = match api {
                    Api::Public => Reply::json(
                        429,
                        &body::problem(
                            429,
                            "rate-limited",
                            "Too many requests; retry later.",
                            None,
                        ),
                    ),
                    Api::Config => Reply::json(429, &json!({ "message": "Too Many Requests" })),
                };
                r.retry_after = Some(secs);
                return r.into_response();
            }
            a @ (FaultAction::Drop | FaultAction::Malformed | FaultAction::Truncated) => {
                after.get_or_insert(a);
            }
        }
    }

    let reply = dispatch(inner, api, op, param, req).await;
    match after {
        None => reply.into_response(),
        Some(FaultAction::Drop) => {
            kill.notify_one();
            std::future::pending().await
        }
        Some(FaultAction::Malformed) => Reply {
            status: StatusCode::OK,
            content_type: Some("application/json"),
            body: Bytes::from_static(b"{\"jobId\": <html>502 Bad Gateway</html>,"),
            retry_after: None,
            close: false,
        }
        .into_response(),
        Some(_) => {
            let half = reply.body.len() / 2;
            Reply {
                body: reply.body.slice(..half),
                ..reply
            }
            .into_response()
        }
    }
}

fn fault_error(api: Api, code: u16) -> Reply {
    match api {
        Api::Public if code == 503 => Reply::json(
            503,
            &body::problem(
                503,
                "service-unavailable",
                "The server is currently unable to handle the request.",
                None,
            ),
        ),
        Api::Public => Reply::json(
            code,
            &body::problem(
                code,
                "unexpected-problem",
                "An unexpected problem has occurred.",
                Some(json!({ "message": "injected fault" })),
            ),
        ),
        Api::Config => Reply::json(
            code,
            &json!({ "message": "Internal Server Error: injected fault", "exceptionClassName": "java.lang.RuntimeException" }),
        ),
    }
}

async fn dispatch(
    inner: &Inner,
    api: Api,
    op: Operation,
    param: Option<&str>,
    req: Request<Incoming>,
) -> Reply {
    match op {
        Operation::Health => return Reply::text(200, "Successful operation"),
        Operation::ConfigHealth => return Reply::ok(&json!({ "available": true })),
        _ => {}
    }
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| inner.addr.to_string());
    let query = req.uri().query().map(str::to_owned);
    let prefix = {
        let p = req.uri().path();
        if p.starts_with("/api/public/v1") {
            "/api/public/v1"
        } else if p.starts_with("/api/v1") {
            "/api/v1"
        } else {
            "/v1"
        }
    };
    let form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if !matches!(op, Operation::Token | Operation::ConfigToken) && !authorized(inner, req.headers())
    {
        return match api {
            Api::Public => Reply::json(
                401,
                &body::problem(
                    401,
                    "invalid-api-key",
                    "The API key in the Authorization header is invalid.",
                    None,
                ),
            ),
            Api::Config => Reply::empty(401),
        };
    }
    let limits = &inner.limits;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return too_large(api, limits.max_body_bytes);
    }
    let body = Limited::new(req.into_body(), limits.max_body_bytes).collect();
    let bytes = match tokio::time::timeout(limits.body_read_timeout, body).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) if e.is::<LengthLimitError>() => return too_large(api, limits.max_body_bytes),
        // The client went away mid-body: nobody reads the answer.
        Ok(Err(_)) => Bytes::new(),
        Err(_) => return closing(Reply::empty(408)),
    };
    let now = Instant::now();
    match api {
        Api::Public => public(
            inner,
            op,
            param,
            &bytes,
            form,
            query.as_deref(),
            &host,
            prefix,
            now,
        ),
        Api::Config => config(inner, op, &bytes, now),
    }
}

// ---- auth -------------------------------------------------------------------------------------

fn authorized(inner: &Inner, headers: &hyper::HeaderMap) -> bool {
    let header = headers.get(AUTHORIZATION).and_then(|h| h.to_str().ok());
    if let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")) {
        if let MockAuth::Bearer { token: t } = &inner.auth {
            if token == t {
                return true;
            }
        }
        let tokens = inner.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if tokens.get(token).is_some_and(|exp| Instant::now() < *exp) {
            return true;
        }
    }
    match &inner.auth {
        MockAuth::None => true,
        MockAuth::Basic { user, password } => header
            .and_then(|h| h.strip_prefix("Basic "))
            .is_some_and(|b| b == base64(format!("{user}:{password}").as_bytes())),
        MockAuth::Bearer { .. } | MockAuth::ClientCredentials { .. } => false,
    }
}

/// Check client credentials and issue a token; `None` if they are wrong.
fn issue_token(inner: &Inner, fields: &HashMap<String, String>) -> Option<String> {
    let id = fields.get("client_id").map(String::as_str).unwrap_or("");
    let secret = fields
        .get("client_secret")
        .map(String::as_str)
        .unwrap_or("");
    let ok = match &inner.auth {
        MockAuth::None => true,
        MockAuth::Basic { user, password } => id == user && secret == password,
        MockAuth::Bearer { .. } => false,
        MockAuth::ClientCredentials {
            client_id,
            client_secret,
        } => id == client_id && secret == client_secret,
    };
    if !ok {
        return None;
    }
    let token = format!("mock-{:032x}", rand::random::<u128>());
    let now = Instant::now();
    let mut tokens = inner.tokens.lock().unwrap_or_else(|e| e.into_inner());
    if tokens.len() > 10_000 {
        tokens.retain(|_, exp| *exp > now);
    }
    tokens.insert(token.clone(), now + inner.token_ttl);
    Some(token)
}

fn token_fields(bytes: &[u8], form: bool) -> Option<HashMap<String, String>> {
    if form {
        return serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
            .ok()
            .map(|v| v.into_iter().collect());
    }
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let o = v.as_object()?;
    Some(
        o.iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
            .collect(),
    )
}

// ---- public API -------------------------------------------------------------------------------

fn unprocessable(message: &str) -> Reply {
    Reply::json(
        422,
        &body::problem(
            422,
            "unprocessable-entity",
            "The body of the request was not understood",
            Some(json!({ "message": message })),
        ),
    )
}

fn bad_request(message: &str) -> Reply {
    Reply::json(
        400,
        &body::problem(
            400,
            "bad-request",
            "The request could not be understood by the server due to malformed syntax.",
            Some(json!({ "message": message })),
        ),
    )
}

fn not_found(kind: &str, id: &str) -> Reply {
    Reply::json(
        404,
        &body::problem(
            404,
            "resource-not-found",
            "The requested resource could not be found.",
            Some(json!({ "resourceType": kind, "resourceId": id })),
        ),
    )
}

fn state_conflict(message: &str) -> Reply {
    Reply::json(
        409,
        &body::problem(
            409,
            "state-conflict",
            "State conflict",
            Some(json!({ "message": message })),
        ),
    )
}

fn refusal_public(r: Refusal, connection: &str) -> Reply {
    match r {
        Refusal::UnknownConnection => not_found("connection", connection),
        Refusal::SyncRunning(_) => Reply::json(
            409,
            &body::problem(
                409,
                "try-again-later",
                "Please try again later.",
                Some(json!({ "message": format!("A sync is already running for: {connection}") })),
            ),
        ),
        Refusal::Inactive => state_conflict("Could not fulfill request"),
        Refusal::UnknownJob | Refusal::NotRunning => state_conflict("Job is not currently running"),
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "one request's parts, as the router split them; a struct would only rename them"
)]
fn public(
    inner: &Inner,
    op: Operation,
    param: Option<&str>,
    bytes: &[u8],
    form: bool,
    query: Option<&str>,
    host: &str,
    prefix: &str,
    now: Instant,
) -> Reply {
    match op {
        Operation::Token => {
            let Some(fields) = token_fields(bytes, form) else {
                return unprocessable("expected client_id and client_secret");
            };
            if !fields.contains_key("client_id") || !fields.contains_key("client_secret") {
                return unprocessable("client_id and client_secret are required");
            }
            match issue_token(inner, &fields) {
                Some(token) => Reply::ok(&json!({
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": inner.token_ttl.as_secs(),
                })),
                None => Reply::json(
                    401,
                    &body::problem(
                        401,
                        "invalid-api-key",
                        "The API key in the Authorization header is invalid.",
                        None,
                    ),
                ),
            }
        }
        Operation::CreateJob => {
            let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
                return unprocessable("The request body is not valid JSON");
            };
            let Some(connection) = v.get("connectionId").and_then(Value::as_str) else {
                return unprocessable("connectionId is required");
            };
            let kind = match v.get("jobType").and_then(Value::as_str) {
                Some("sync") => JobKind::Sync,
                Some("reset" | "clear") => JobKind::Reset,
                Some("refresh") => {
                    return unprocessable("Refreshes are not supported in the public API")
                }
                _ => return unprocessable("jobType must be one of sync, reset, refresh, clear"),
            };
            let mut w = inner.world();
            let r = if kind == JobKind::Sync {
                w.sync(connection, now)
            } else {
                w.reset(connection, now)
            };
            match r {
                Ok(id) => job_reply(&w, id, now),
                Err(e) => refusal_public(e, connection),
            }
        }
        Operation::GetJob | Operation::CancelJob => {
            let Some(id) = param.and_then(|p| p.parse::<i64>().ok()) else {
                return bad_request("jobId must be an integer");
            };
            let mut w = inner.world();
            if op == Operation::CancelJob {
                if let Err(e) = w.cancel(id, now) {
                    return refusal_public(e, "");
                }
            }
            if w.job(id).is_none() {
                return refusal_public(Refusal::UnknownJob, "");
            }
            job_reply(&w, id, now)
        }
        Operation::ListJobs => list_jobs(inner, query, host, prefix, now),
        Operation::GetConnection => {
            let id = param.unwrap_or("");
            let w = inner.world();
            match w.connection(id) {
                Some(c) => Reply::ok(&body::public_connection(c, w.connections_created_at)),
                None => not_found("connection", id),
            }
        }
        Operation::ListConnections => {
            let q = Query::parse(query);
            let (limit, offset) = match q.page() {
                Ok(p) => p,
                Err(r) => return r,
            };
            let w = inner.world();
            let all: Vec<Value> = w
                .connections
                .iter()
                .map(|c| body::public_connection(c, w.connections_created_at))
                .collect();
            Reply::ok(&page(all, limit, offset, host, prefix, "/connections", &q))
        }
        _ => Reply::json(404, &json!({ "message": "Not Found" })),
    }
}

fn job_reply(w: &World, id: i64, now: Instant) -> Reply {
    let job = w.job(id).expect("job exists");
    Reply::ok(&body::public_job(&w.clock, job, &job.view(now)))
}

/// Parsed query parameters (repeated keys kept).
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(q: Option<&str>) -> Self {
        Query(
            q.and_then(|q| serde_urlencoded::from_str(q).ok())
                .unwrap_or_default(),
        )
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
    fn page(&self) -> Result<(usize, usize), Reply> {
        let limit = match self.get("limit") {
            None => 20,
            Some(s) => match s.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => return Err(bad_request("limit must be between 1 and 100")),
            },
        };
        let offset = match self.get("offset") {
            None => 0,
            Some(s) => s
                .parse::<usize>()
                .map_err(|_| bad_request("offset must be a non-negative integer"))?,
        };
        Ok((limit, offset))
    }
}

fn page_url(
    host: &str,
    prefix: &str,
    resource: &str,
    q: &Query,
    limit: usize,
    offset: usize,
) -> String {
    let mut params: Vec<(String, String)> =
        q.0.iter()
            .filter(|(k, _)| k != "limit" && k != "offset")
            .cloned()
            .collect();
    params.push(("limit".into(), limit.to_string()));
    params.push(("offset".into(), offset.to_string()));
    let qs = serde_urlencoded::to_string(&params).unwrap_or_default();
    format!("http://{host}{prefix}{resource}?{qs}")
}

fn page(
    all: Vec<Value>,
    limit: usize,
    offset: usize,
    host: &str,
    prefix: &str,
    resource: &str,
    q: &Query,
) -> Value {
    let total = all.len();
    let data: Vec<Value> = all.into_iter().skip(offset).take(limit).collect();
    let mut o = serde_json::Map::new();
    if offset + limit < total {
        o.insert(
            "next".into(),
            json!(page_url(host, prefix, resource, q, limit, offset + limit)),
        );
    }
    if offset > 0 {
        o.insert(
            "previous".into(),
            json!(page_url(
                host,
                prefix,
                resource,
                q,
                limit,
                offset.saturating_sub(limit)
            )),
        );
    }
    o.insert("data".into(), Value::Array(data));
    Value::Object(o)
}

fn list_jobs(inner: &Inner, query: Option<&str>, host: &str, prefix: &str, now: Instant) -> Reply {
    let q = Query::parse(query);
    let (limit, offset) = match q.page() {
        Ok(p) => p,
        Err(r) => return r,
    };
    let kind = match q.get("jobType") {
        None => None,
        Some("sync") => Some(Some(JobKind::Sync)),
        Some("reset") => Some(Some(JobKind::Reset)),
        // Clear and refresh jobs never exist here: clear creates reset jobs.
        Some("clear" | "refresh") => Some(None),
        Some(other) => return bad_request(&format!("unknown jobType `{other}`")),
    };
    let status = q.get("status");
    let (by_updated, desc) = match q.get("orderBy") {
        None => (false, false),
        Some(s) => match s.split_once('|') {
            Some((f @ ("createdAt" | "updatedAt"), m @ ("ASC" | "DESC"))) => {
                (f == "updatedAt", m == "DESC")
            }
            _ => return bad_request(&format!("Invalid order by clause provided: {s}")),
        },
    };
    let connection = q.get("connectionId").map(str::to_ascii_lowercase);
    let mut bounds = [None; 4];
    for (slot, key) in bounds.iter_mut().zip([
        "createdAtStart",
        "createdAtEnd",
        "updatedAtStart",
        "updatedAtEnd",
    ]) {
        if let Some(v) = q.get(key) {
            match body::parse_iso_datetime(v) {
                Some(t) => *slot = Some(t),
                None => return bad_request(&format!("{key} is not an ISO-8601 date-time: {v}")),
            }
        }
    }
    let within = |t: i64, start: Option<i64>, end: Option<i64>| {
        start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e)
    };
    // Every mock connection lives in one workspace: naming only others matches nothing.
    let workspaces: Vec<&str> =
        q.0.iter()
            .filter(|(k, _)| k == "workspaceIds")
            .map(|(_, v)| v.as_str())
            .collect();
    let in_workspace = workspaces.is_empty()
        || workspaces
            .iter()
            .any(|w| w.eq_ignore_ascii_case(body::WORKSPACE_ID));
    let w = inner.world();
    let mut rows: Vec<(Instant, i64, Value)> = w
        .jobs
        .iter()
        .filter(|_| in_workspace)
        .filter(|j| connection.as_deref().is_none_or(|c| &*j.connection == c))
        .filter(|j| kind.is_none_or(|k| k == Some(j.kind)))
        .filter_map(|j| {
            let v = j.view(now);
            if status.is_some_and(|s| s != <&str>::from(v.status)) {
                return None;
            }
            if !within(w.clock.epoch(v.created), bounds[0], bounds[1])
                || !within(w.clock.epoch(v.updated), bounds[2], bounds[3])
            {
                return None;
            }
            let key = if by_updated { v.updated } else { v.created };
            Some((key, j.id, body::public_job(&w.clock, j, &v)))
        })
        .collect();
    rows.sort_by_key(|(t, id, _)| (*t, *id));
    if desc {
        rows.reverse();
    }
    let all = rows.into_iter().map(|(_, _, v)| v).collect();
    Reply::ok(&page(all, limit, offset, host, prefix, "/jobs", &q))
}

// ---- Config API -------------------------------------------------------------------------------

fn invalid_input(path: &str, message: &str) -> Reply {
    Reply::json(
        422,
        &json!({
            "message": "Some properties contained invalid input.",
            "exceptionClassName": "io.airbyte.commons.server.errors.BadObjectSchemaKnownException",
            "validationErrors": [{ "propertyPath": path, "message": message }],
        }),
    )
}

fn internal(message: &str, class: &str) -> Reply {
    Reply::json(
        500,
        &json!({ "message": format!("Internal Server Error: {message}"), "exceptionClassName": class }),
    )
}

fn refusal_config(r: Refusal, connection: &str, job: i64) -> Reply {
    match r {
        Refusal::UnknownConnection => Reply::json(
            404,
            &json!({
                "id": connection,
                "message": format!("Could not find configuration for STANDARD_SYNC: {connection}."),
                "exceptionClassName": "io.airbyte.commons.server.errors.IdNotFoundKnownException",
            }),
        ),
        Refusal::SyncRunning(_) => Reply::json(
            409,
            &json!({
                "message": format!("A sync is already running for: {connection}"),
                "exceptionClassName": "io.airbyte.commons.server.errors.ValueConflictKnownException",
            }),
        ),
        Refusal::Inactive => internal(
            "Can only sync an active connection",
            "java.lang.IllegalStateException",
        ),
        Refusal::UnknownJob => internal(
            &format!("Could not find job with id: {job}"),
            "java.lang.RuntimeException",
        ),
        Refusal::NotRunning => internal(
            &format!("Failed to cancel job {job}"),
            "java.lang.IllegalStateException",
        ),
    }
}

fn config(inner: &Inner, op: Operation, bytes: &[u8], now: Instant) -> Reply {
    let Ok(v) = serde_json::from_slice::<Value>(if bytes.is_empty() { b"{}" } else { bytes })
    else {
        return invalid_input("", "the request body is not valid JSON");
    };
    let connection_id = || v.get("connectionId").and_then(Value::as_str);
    let job_id = || v.get("id").and_then(Value::as_i64);
    match op {
        Operation::ConfigToken => {
            let fields = token_fields(bytes, false).unwrap_or_default();
            if !fields.contains_key("client_id") || !fields.contains_key("client_secret") {
                return invalid_input("client_id", "client_id and client_secret are required");
            }
            match issue_token(inner, &fields) {
                Some(token) => Reply::ok(&json!({ "access_token": token })),
                None => Reply::empty(401),
            }
        }
        Operation::ConnectionsGet => {
            let Some(id) = connection_id() else {
                return invalid_input("connectionId", "must not be null");
            };
            let w = inner.world();
            match w.connection(id) {
                Some(c) => Reply::ok(&body::config_connection(c, w.connections_created_at)),
                None => refusal_config(Refusal::UnknownConnection, id, 0),
            }
        }
        Operation::ConnectionsSync | Operation::ConnectionsReset | Operation::ConnectionsClear => {
            let Some(id) = connection_id() else {
                return invalid_input("connectionId", "must not be null");
            };
            let mut w = inner.world();
            let r = if op == Operation::ConnectionsSync {
                w.sync(id, now)
            } else {
                w.reset(id, now)
            };
            match r {
                Ok(job) => {
                    let j = w.job(job).expect("job exists");
                    Reply::ok(&body::config_job_info(
                        &w.clock,
                        j,
                        &j.view(now),
                        Stats::Ended,
                    ))
                }
                Err(e) => refusal_config(e, id, 0),
            }
        }
        Operation::JobsGet | Operation::JobsGetWithoutLogs | Operation::JobsCancel => {
            let Some(id) = job_id() else {
                return invalid_input("id", "must not be null");
            };
            let mut w = inner.world();
            if op == Operation::JobsCancel {
                if let Err(e) = w.cancel(id, now) {
                    return refusal_config(e, "", id);
                }
            }
            let Some(j) = w.job(id) else {
                return refusal_config(Refusal::UnknownJob, "", id);
            };
            let stats = if op == Operation::JobsGet {
                Stats::Ended
            } else {
                Stats::Live
            };
            Reply::ok(&body::config_job_info(&w.clock, j, &j.view(now), stats))
        }
        Operation::JobsList => {
            let Some(types) = v.get("configTypes").and_then(Value::as_array) else {
                return invalid_input("configTypes", "must not be null");
            };
            let mut kinds = Vec::new();
            for t in types {
                match t.as_str() {
                    Some("sync") => kinds.push(JobKind::Sync),
                    Some("reset_connection" | "clear") => kinds.push(JobKind::Reset),
                    Some(
                        "check_connection_source"
                        | "check_connection_destination"
                        | "discover_schema"
                        | "get_spec"
                        | "refresh",
                    ) => {}
                    _ => return invalid_input("configTypes", "unknown job config type"),
                }
            }
            let config_id = v
                .get("configId")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase);
            let statuses: Option<Vec<&str>> = v
                .get("statuses")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect());
            let page_size = v
                .pointer("/pagination/pageSize")
                .and_then(Value::as_u64)
                .unwrap_or(200) as usize;
            let offset = v
                .pointer("/pagination/rowOffset")
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize;
            let asc = v.get("orderByMethod").and_then(Value::as_str) == Some("ASC");
            let by_updated = v.get("orderByField").and_then(Value::as_str) == Some("updatedAt");
            let w = inner.world();
            let mut rows: Vec<(Instant, i64, Value)> = w
                .jobs
                .iter()
                .filter(|j| kinds.contains(&j.kind))
                .filter(|j| config_id.as_deref().is_none_or(|c| &*j.connection == c))
                .filter_map(|j| {
                    let view = j.view(now);
                    let s: &str = view.status.into();
                    if statuses.as_ref().is_some_and(|st| !st.contains(&s)) {
                        return None;
                    }
                    let key = if by_updated {
                        view.updated
                    } else {
                        view.created
                    };
                    Some((
                        key,
                        j.id,
                        body::config_job_with_attempts(&w.clock, j, &view),
                    ))
                })
                .collect();
            rows.sort_by_key(|(t, id, _)| (*t, *id));
            if !asc {
                rows.reverse();
            }
            let total = rows.len();
            let jobs: Vec<Value> = rows
                .into_iter()
                .skip(offset)
                .take(page_size)
                .map(|(_, _, v)| v)
                .collect();
            Reply::ok(&json!({ "jobs": jobs, "totalJobCount": total }))
        }
        _ => Reply::json(404, &json!({ "message": "Not Found" })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_never_looks_later_than_a_deadline() {
        let s = Duration::from_secs;
        let limits = Limits {
            idle_timeout: s(75),
            header_read_timeout: s(30),
            ..Limits::default()
        };
        let conn = Conn::new(1, Arc::default());
        let t0 = conn.state().since;
        // Idle: a head may start at once, so look again within the header timeout.
        assert_eq!(conn.next_check(&limits, t0), Some(t0 + s(30)));
        assert_eq!(conn.next_check(&limits, t0 + s(60)), Some(t0 + s(75)));
        assert_eq!(conn.next_check(&limits, t0 + s(75)), None);
        {
            let mut st = conn.state();
            st.phase = Phase::Head;
            st.since = t0 + s(10);
        }
        assert_eq!(conn.next_check(&limits, t0 + s(20)), Some(t0 + s(40)));
        assert_eq!(conn.next_check(&limits, t0 + s(40)), None);
        // Busy is never closed, however long it takes.
        conn.state().phase = Phase::Busy;
        assert_eq!(conn.next_check(&limits, t0 + s(999)), Some(t0 + s(1029)));
    }

    #[test]
    fn eviction_prefers_connections_that_never_completed_a_request() {
        let registry = Registry::default();
        let room = Arc::new(Room::default());
        let served = Arc::new(Conn::new(1, room.clone()));
        served.state().served = 1;
        let busy = Arc::new(Conn::new(2, room.clone()));
        busy.state().phase = Phase::Busy;
        let fresh = Arc::new(Conn::new(3, room));
        for c in [&served, &busy, &fresh] {
            registry.map().insert(c.seq, c.clone());
        }
        assert!(registry.evict_one());
        assert_eq!(registry.map().keys().copied().collect::<Vec<_>>(), [1, 2]);
        assert!(registry.evict_one());
        assert_eq!(registry.map().keys().copied().collect::<Vec<_>>(), [2]);
        assert!(!registry.evict_one(), "a busy connection is never evicted");
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn classify_knows_both_flavours_and_prefixes() {
        let get = Method::GET;
        assert_eq!(
            classify(&get, "/api/public/v1/jobs/7"),
            Some((Api::Public, Operation::GetJob, Some("7")))
        );
        assert_eq!(
            classify(&get, "/v1/jobs/7"),
            Some((Api::Public, Operation::GetJob, Some("7")))
        );
        assert_eq!(
            classify(&get, "/api/v1/health"),
            Some((Api::Config, Operation::ConfigHealth, None))
        );
        assert_eq!(
            classify(&Method::POST, "/api/v1/jobs/get_without_logs").map(|c| c.1),
            Some(Operation::JobsGetWithoutLogs)
        );
        assert_eq!(classify(&Method::POST, "/api/v1/jobs/7"), None);
        assert_eq!(classify(&get, "/health"), None);
    }
}
