//! A TCP proxy that can cut the link it carries: the `zenoh_cut` fault puts it between the
//! runtime's zenoh listener and the harness's session.
//!
//! While cut, every connection it carries is shut down in both directions and new connections
//! are accepted and closed at once (a cable pulled, a radio out of range: the peer sees the link
//! drop and its reconnections fail until the link returns). One thread accepts; each connection
//! has two copying threads, which end with it.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the accept loop looks at its stop flag.
const POLL: Duration = Duration::from_millis(10);

/// The proxy (stopped when dropped).
#[derive(Debug)]
pub struct CutProxy {
    port: u16,
    cut: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
    refused: Arc<AtomicU64>,
    accept: Option<JoinHandle<()>>,
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = [0_u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

impl CutProxy {
    /// Listens on a free loopback port and forwards every connection to `upstream`.
    ///
    /// # Errors
    /// The operating system's error when the listener cannot be set up.
    pub fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let (cut, stop) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let live = Arc::new(Mutex::new(Vec::<TcpStream>::new()));
        let refused = Arc::new(AtomicU64::new(0));
        let accept = {
            let (cut, stop, live, refused) =
                (Arc::clone(&cut), Arc::clone(&stop), Arc::clone(&live), Arc::clone(&refused));
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            if cut.load(Ordering::SeqCst) {
                                refused.fetch_add(1, Ordering::SeqCst);
                                let _ = client.shutdown(Shutdown::Both);
                                continue;
                            }
                            let _ = client.set_nonblocking(false);
                            let Ok(server) = TcpStream::connect(upstream) else {
                                let _ = client.shutdown(Shutdown::Both);
                                continue;
                            };
                            let (Ok(client_copy), Ok(server_copy)) = (client.try_clone(), server.try_clone())
                            else {
                                continue;
                            };
                            if let Ok(mut live) = live.lock() {
                                live.retain(|s| s.peer_addr().is_ok());
                                if let (Ok(a), Ok(b)) = (client.try_clone(), server.try_clone()) {
                                    live.push(a);
                                    live.push(b);
                                }
                            }
                            std::thread::spawn(move || pump(client, server_copy));
                            std::thread::spawn(move || pump(server, client_copy));
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(POLL),
                        Err(_) => std::thread::sleep(POLL),
                    }
                }
            })
        };
        Ok(Self { port, cut, stop, live, refused, accept: Some(accept) })
    }

    /// The port to connect to instead of the upstream's.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cuts the link (every live connection shut down, new ones refused) or restores it.
    pub fn set_cut(&self, cut: bool) {
        self.cut.store(cut, Ordering::SeqCst);
        if cut && let Ok(mut live) = self.live.lock() {
            for stream in live.drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }

    /// Connections refused while cut.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::SeqCst)
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.set_cut(true);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_then_cuts_then_forwards_again() {
        // An echo server upstream.
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = upstream.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in upstream.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut reader = stream.try_clone().unwrap();
                    let _ = std::io::copy(&mut reader, &mut &stream);
                });
            }
        });
        let proxy = CutProxy::start(address).unwrap();
        let target = SocketAddr::from(([127, 0, 0, 1], proxy.port()));
        let echo = |stream: &mut TcpStream, text: &[u8]| -> std::io::Result<Vec<u8>> {
            stream.write_all(text)?;
            let mut back = vec![0_u8; text.len()];
            stream.read_exact(&mut back)?;
            Ok(back)
        };
        let mut first = TcpStream::connect(target).unwrap();
        first.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(echo(&mut first, b"haul").unwrap(), b"haul");

        proxy.set_cut(true);
        // The live connection is gone: a read ends (EOF or reset).
        let mut byte = [0_u8; 1];
        assert!(matches!(first.read(&mut byte), Ok(0) | Err(_)));
        // A new connection is accepted and closed at once.
        let mut during = TcpStream::connect(target).unwrap();
        during.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert!(matches!(during.read(&mut byte), Ok(0) | Err(_)));
        assert_eq!(proxy.refused(), 1);

        proxy.set_cut(false);
        let mut after = TcpStream::connect(target).unwrap();
        after.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(echo(&mut after, b"road").unwrap(), b"road");
    }
}
