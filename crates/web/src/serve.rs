//! The server's own connection loop (SPEC §13.2, "Hostile clients"): what a connection may
//! cost before it has said anything useful.
//!
//! `axum::serve` keeps a connection for as long as its client wants: one that never finishes
//! its request headers, or that stops reading its answer, holds a task and a file descriptor
//! forever, and a few thousand of them starve every other client. Here every connection is
//! served by hyper's HTTP/1 connection with:
//!
//! - a **header deadline** ([`HEADER_TIMEOUT`]): the request line and headers must arrive
//!   within it, counted from when the server starts waiting for them — for the first request
//!   and for each later one on a kept-alive connection;
//! - an **idle deadline** ([`IDLE_TIMEOUT`]): a connection on which no byte moved either way
//!   while no request was being answered is closed, as is one whose client stopped reading
//!   an answer. A request whose handler takes long (a dry run of a large file) is not idle.
//!
//! Bodies have their own limits (`limits`): a form's body must arrive within 20 s, an upload
//! at a minimum pace. Accepting never stops for long: when the process runs out of file
//! descriptors it waits a moment and goes on, and the binary raises its descriptor limit at
//! start.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tower::ServiceExt;

/// The longest a client may take to send a request's line and headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a connection may stay without a byte moving while no request is answered.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting and lets the
/// requests in flight finish (each connection closes after its current answer).
pub async fn serve_with_shutdown(
    app: Router,
    listener: TcpListener,
    idle: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let open = Arc::new(AtomicUsize::new(0));
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors (EMFILE/ENFILE) or a connection reset before it was
                // accepted: wait a moment and go on; the deadlines free descriptors.
                tracing::warn!(error = %e, "could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let stop = stop_rx.clone();
        let open = open.clone();
        open.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            serve_connection(app, stream, peer, idle, stop).await;
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
    let _ = stop_tx.send(true);
    // Give the requests in flight a little time to finish.
    let until = Instant::now() + Duration::from_secs(10);
    while open.load(Ordering::Relaxed) > 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn serve_connection(
    app: Router,
    stream: TcpStream,
    peer: SocketAddr,
    idle: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let in_flight = activity.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let app = app.clone();
        let guard = InFlight::start(in_flight.clone());
        async move {
            let response = app
                .oneshot(req.map(axum::body::Body::new))
                .await
                .unwrap_or_else(|never| match never {});
            drop(guard);
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, %peer, "connection ended");
                }
                return;
            }
            () = activity.idle_for(idle) => {
                tracing::debug!(%peer, "closing an idle connection");
                return;
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// When bytes last moved on a connection, and how many of its requests are being answered.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    answering: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            answering: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Completes once no byte has moved for `idle` while no request was being answered.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let last = self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let due = last + idle;
            if Instant::now() >= due {
                if self.answering.load(Ordering::Relaxed) == 0 {
                    return;
                }
                // A handler at work is not idleness: look again later.
                tokio::time::sleep(idle).await;
                continue;
            }
            tokio::time::sleep_until(due).await;
        }
    }
}

/// Counts a request as being answered for as long as it lives.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> Self {
        activity.answering.fetch_add(1, Ordering::Relaxed);
        activity.touch();
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.answering.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A TCP stream that records when bytes move.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
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
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
