//! A TCP proxy a test owns, between an `aesthetix` process and PostgreSQL, to make the
//! database go away and come back (SPEC §9.6) without touching the machine's server: `cut`
//! drops every connection through it (as a server restart or `pg_terminate_backend` does),
//! and refusing also stops listening, so new connections are refused until `restore` listens
//! again on the same port. Both wait for the client's next request and drop the connections
//! instead of passing it on: the database dies under a query in flight, not between two
//! (where the client's pool would quietly open a new connection, or wait 30 s for one).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the next request from a client sets off (`TRIP_*`).
const TRIP_NONE: u8 = 0;
const TRIP_CUT: u8 = 1;
const TRIP_REFUSE: u8 = 2;

struct State {
    upstream: SocketAddr,
    refusing: AtomicBool,
    trip: AtomicU8,
    stop: AtomicBool,
    /// Both ends of every connection made through the proxy.
    conns: Mutex<Vec<TcpStream>>,
}

pub struct Proxy {
    port: u16,
    state: Arc<State>,
}

impl Proxy {
    /// Starts a proxy on a free port of 127.0.0.1 to `upstream` (`host:port`).
    pub fn start(upstream: &str) -> Proxy {
        let upstream: SocketAddr = upstream.parse().expect("upstream host:port");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State {
            upstream,
            refusing: AtomicBool::new(false),
            trip: AtomicU8::new(TRIP_NONE),
            stop: AtomicBool::new(false),
            conns: Mutex::new(Vec::new()),
        });
        let s = state.clone();
        std::thread::spawn(move || accept_loop(Some(listener), port, s));
        Proxy { port, state }
    }

    /// `url` (`postgres://user@host:port/db`) with the proxy's address instead.
    pub fn url_for(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (auth_host, db) = rest.split_once('/').unwrap();
        let user = auth_host.rsplit_once('@').map(|(u, _)| format!("{u}@"));
        format!(
            "{scheme}://{}127.0.0.1:{}/{db}",
            user.unwrap_or_default(),
            self.port
        )
    }

    /// Drops every connection through the proxy now.
    pub fn cut(&self) {
        for c in self.state.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    /// [`Proxy::cut`] as the next request from a client arrives, instead of passing it on.
    pub fn cut_on_next_query(&self) {
        self.state.trip.store(TRIP_CUT, Ordering::SeqCst);
    }

    /// As the next request from a client arrives, instead of passing it on: stop listening
    /// (new connections are refused until [`Proxy::restore`]) and drop every connection.
    pub fn refuse_on_next_query(&self) {
        self.state.trip.store(TRIP_REFUSE, Ordering::SeqCst);
    }

    /// Whether a `…_on_next_query` went off.
    pub fn tripped(&self) -> bool {
        self.state.trip.load(Ordering::SeqCst) == TRIP_NONE
    }

    pub fn restore(&self) {
        self.state.refusing.store(false, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        self.cut();
    }
}

fn accept_loop(mut listener: Option<TcpListener>, port: u16, state: Arc<State>) {
    while !state.stop.load(Ordering::SeqCst) {
        if state.refusing.load(Ordering::SeqCst) {
            listener = None;
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        if listener.is_none() {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => listener = Some(l),
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            }
        }
        let l = listener.as_ref().unwrap();
        l.set_nonblocking(true).unwrap();
        match l.accept() {
            Ok((client, _)) => {
                let _ = client.set_nonblocking(false);
                let Ok(server) = TcpStream::connect(state.upstream) else {
                    continue;
                };
                let mut conns = state.conns.lock().unwrap();
                conns.push(client.try_clone().unwrap());
                conns.push(server.try_clone().unwrap());
                drop(conns);
                pump(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    Some(state.clone()),
                );
                pump(server, client, None);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Copies `from` to `to` on a thread of its own until either end closes. `trips` is given for
/// the client-to-server direction, where a request can set off a cut.
fn pump(mut from: TcpStream, mut to: TcpStream, trips: Option<Arc<State>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    // A pool's liveness check of an idle connection (a lone Sync message) is
                    // not a query: it passes, so the trip falls on the query after it.
                    let ping = buf[..n] == *b"S\0\0\0\x04";
                    if let Some(state) = trips.as_ref().filter(|_| !ping) {
                        let trip = state.trip.swap(TRIP_NONE, Ordering::SeqCst);
                        if trip != TRIP_NONE {
                            if trip == TRIP_REFUSE {
                                state.refusing.store(true, Ordering::SeqCst);
                                std::thread::sleep(Duration::from_millis(50));
                            }
                            for c in state.conns.lock().unwrap().drain(..) {
                                let _ = c.shutdown(Shutdown::Both);
                            }
                            break;
                        }
                    }
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}
