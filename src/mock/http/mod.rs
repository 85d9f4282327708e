//! The mock's HTTP layer: shared server state, the answer type, and the accept loop with its
//! connection limits. Requests go to [`route`] (classification, auth gate, body limits, fault
//! injection), which answers from [`public_api`] or [`config_api`]; [`auth`] checks credentials
//! and issues tokens.
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

mod auth;
mod catalog_api;
mod config_api;
mod public_api;
mod route;

use super::state::World;
use super::{Limits, MockAuth, MockConfig, RecordedRequest, RECORDED_REQUESTS_CAP};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
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
            let response = route::handle(&inner, &conn.kill, req).await;
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
}
