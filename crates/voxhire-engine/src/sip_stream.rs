//! SIP over connections (TCP, or TLS through rustls), RFC 3261 §18.
//!
//! To the trunk: one connection per trunk address, opened when the first message
//! needs it, reused by every call, reopened after it drops (the Via's `alias`, RFC
//! 5923, asks the trunk to send its own requests back over it).
//!
//! From callers: [`listen`] accepts connections on our SIP port (TCP, which every SIP
//! element must take) and on a TLS port when one is configured; each stays open for
//! as long as its peer keeps it, and the calls that came over it are answered and
//! ended over it.
//!
//! Messages are framed by their Content-Length (§18.3); the CRLF keep-alives of RFC
//! 5626 are skipped (and a caller's ping is answered with a pong). What arrives is
//! handed to the user agent as if it were a datagram from the connection's far end.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Connections callers opened to us and keep open at once; more are refused.
const MAX_ACCEPTED: usize = 4096;

/// A caller's connection that has not brought a whole SIP message by then is
/// closed (one that holds a slot and says nothing). Once it has, it stays open
/// as long as the caller keeps it: a call's dialog may be quiet for its length.
const FIRST_MESSAGE_WITHIN: std::time::Duration = std::time::Duration::from_secs(32);

/// The largest SIP message taken from a connection: a peer that sends more
/// without a message boundary is cut off.
const MAX_MESSAGE: usize = 64 * 1024;

/// Where the connection goes, and whether it is TLS.
#[derive(Clone)]
pub struct StreamConfig {
    pub peer: SocketAddr,
    pub tls: Option<TlsClient>,
    /// Send a double-CRLF ping (RFC 5626 §3.5.1) after this long without
    /// traffic, so a NAT or firewall between us and the trunk keeps the
    /// connection (and the registration that rides on it) open; `None`: never.
    pub keepalive: Option<std::time::Duration>,
}

/// TLS to the trunk: the name its certificate must carry, and the roots trusted.
#[derive(Clone)]
pub struct TlsClient {
    pub server_name: String,
    pub config: Arc<rustls::ClientConfig>,
}

impl TlsClient {
    /// Trusts the PEM certificates in `ca_file`, or the Mozilla roots
    /// (webpki-roots) when none is given.
    pub fn new(server_name: &str, ca_file: Option<&std::path::Path>) -> Result<TlsClient> {
        let mut roots = rustls::RootCertStore::empty();
        match ca_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("reading the trunk's CA file {}", path.display()))?;
                let mut found = 0;
                for cert in rustls_pki_types::pem::PemObject::pem_slice_iter(&pem) {
                    let cert: rustls_pki_types::CertificateDer =
                        cert.with_context(|| format!("{}: not PEM certificates", path.display()))?;
                    roots
                        .add(cert)
                        .with_context(|| format!("{}: an unusable certificate", path.display()))?;
                    found += 1;
                }
                if found == 0 {
                    bail!("{}: no certificate in it", path.display());
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TlsClient {
            server_name: server_name.to_owned(),
            config: Arc::new(config),
        })
    }
}

/// Our certificate chain and key, for the connections callers open over TLS.
pub fn tls_server_config(
    cert: &Path,
    key: &Path,
    [cert_flag, key_flag]: [&str; 2],
) -> Result<rustls::ServerConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| anyhow::anyhow!("{cert_flag} {}: {e}", cert.display()))?;
    anyhow::ensure!(
        !certs.is_empty(),
        "{cert_flag} {}: no certificate in it (PEM, BEGIN CERTIFICATE)",
        cert.display()
    );
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        anyhow::anyhow!(
            "{key_flag} {}: {e} (PEM, PKCS#8, PKCS#1 or SEC1)",
            key.display()
        )
    })?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, private)
        .with_context(|| {
            format!(
                "{cert_flag} {} and {key_flag} {} do not make a usable pair",
                cert.display(),
                key.display()
            )
        })
}

/// The connections callers have open to us, by their far end: where the SIP task
/// sends what goes back over them.
#[derive(Clone, Default)]
pub struct Accepted(Arc<Mutex<HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>>);

impl Accepted {
    /// The sender for the connection from `peer`, if it is open.
    pub fn get(&self, peer: &SocketAddr) -> Option<mpsc::Sender<Vec<u8>>> {
        self.lock().get(peer).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Accepts SIP connections on `listener` (over TLS with `tls`) until the
/// process ends: each one's messages go to `incoming` with its far end's address,
/// and what the SIP task sends to that address goes back over it.
pub fn listen(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    accepted: Accepted,
    incoming: mpsc::Sender<(SocketAddr, Vec<u8>)>,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    // EMFILE and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accepting a SIP connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            if accepted.lock().len() >= MAX_ACCEPTED {
                tracing::warn!(%peer, "too many SIP connections open; refusing one");
                continue;
            }
            let _ = tcp.set_nodelay(true);
            let (accepted, incoming, acceptor) =
                (accepted.clone(), incoming.clone(), acceptor.clone());
            tokio::spawn(async move {
                let served = match acceptor {
                    None => serve_caller(tcp, peer, &accepted, &incoming).await,
                    Some(acceptor) => {
                        let handshake = tokio::time::timeout(
                            std::time::Duration::from_secs(10),
                            acceptor.accept(tcp),
                        )
                        .await;
                        match handshake {
                            Ok(Ok(stream)) => {
                                serve_caller(stream, peer, &accepted, &incoming).await
                            }
                            Ok(Err(e)) => Err(anyhow::Error::new(e).context("TLS handshake")),
                            Err(_) => Err(anyhow::anyhow!("no TLS handshake within 10 s")),
                        }
                    }
                };
                match served {
                    Ok(()) => tracing::debug!(%peer, "SIP connection closed"),
                    Err(e) => {
                        tracing::debug!(%peer, error = %format!("{e:#}"), "SIP connection ended")
                    }
                }
            });
        }
    });
}

/// Serves one caller's connection (TCP, or TLS once its handshake is done),
/// known in `accepted` by its far end while it is open.
async fn serve_caller<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    peer: SocketAddr,
    accepted: &Accepted,
    incoming: &mpsc::Sender<(SocketAddr, Vec<u8>)>,
) -> Result<()> {
    let (tx, mut rx) = mpsc::channel(256);
    accepted.lock().insert(peer, tx);
    tracing::debug!(%peer, "a caller connected for SIP");
    let served = serve(stream, None, &mut rx, incoming, peer, Side::Callee).await;
    accepted.lock().remove(&peer);
    served
}

/// The sending side of the link; what arrives goes to the channel given to [`spawn`].
pub struct StreamLink {
    pub peer: SocketAddr,
    outgoing: mpsc::Sender<Vec<u8>>,
}

impl StreamLink {
    /// Queues a message for the connection (opened if it is not).
    pub async fn send(&self, message: Vec<u8>) {
        if self.outgoing.send(message).await.is_err() {
            tracing::warn!(peer = %self.peer, "the SIP connection task has stopped");
        }
    }
}

/// Starts the link's task; messages from the trunk arrive on `incoming` with the
/// trunk's address.
pub fn spawn(config: StreamConfig, incoming: mpsc::Sender<(SocketAddr, Vec<u8>)>) -> StreamLink {
    let (tx, rx) = mpsc::channel(256);
    let peer = config.peer;
    tokio::spawn(run(config, rx, incoming));
    StreamLink { peer, outgoing: tx }
}

async fn run(
    config: StreamConfig,
    mut outgoing: mpsc::Receiver<Vec<u8>>,
    incoming: mpsc::Sender<(SocketAddr, Vec<u8>)>,
) {
    // Each round: wait for something to send, connect, serve until it drops.
    while let Some(first) = outgoing.recv().await {
        let conn = match connect(&config).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(peer = %config.peer, error = %format!("{e:#}"), "cannot reach the trunk");
                // §8.1.3.1: a transport failure is a 503 for the request that
                // met it (and for what queued behind it), so calls fail now
                // rather than at Timer B.
                let mut failed = vec![first];
                while let Ok(m) = outgoing.try_recv() {
                    failed.push(m);
                }
                for m in failed {
                    if let Some(reply) = transport_failure(&m) {
                        let _ = incoming.send((config.peer, reply)).await;
                    }
                }
                continue;
            }
        };
        let side = Side::Caller {
            keepalive: config.keepalive,
        };
        let (first, peer) = (Some(first), config.peer);
        let served = match conn {
            Conn::Tcp(s) => serve(s, first, &mut outgoing, &incoming, peer, side).await,
            Conn::Tls(s) => serve(*s, first, &mut outgoing, &incoming, peer, side).await,
        };
        match served {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(peer = %config.peer, error = %format!("{e:#}"), "SIP connection lost; reconnecting on the next message")
            }
        }
    }
}

/// The 503 a request that could not be sent gets (none for responses and ACKs).
pub(crate) fn transport_failure(message: &[u8]) -> Option<Vec<u8>> {
    use voxhire_sip::message::{Response, SipMessage};
    match SipMessage::parse(message).ok()? {
        SipMessage::Request(r) if r.method != voxhire_sip::Method::Ack => Some(
            Response::for_request_headers(voxhire_sip::StatusCode::SERVICE_UNAVAILABLE, &r.headers)
                .to_bytes(),
        ),
        _ => None,
    }
}

enum Conn {
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

async fn connect(config: &StreamConfig) -> Result<Conn> {
    let tcp = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        TcpStream::connect(config.peer),
    )
    .await
    .with_context(|| format!("connecting to {} timed out", config.peer))?
    .with_context(|| format!("connecting to {}", config.peer))?;
    tcp.set_nodelay(true)?;
    let Some(tls) = &config.tls else {
        tracing::info!(peer = %config.peer, "SIP over TCP connected");
        return Ok(Conn::Tcp(tcp));
    };
    let name = rustls_pki_types::ServerName::try_from(tls.server_name.clone())
        .with_context(|| format!("{:?} is not a TLS server name", tls.server_name))?;
    let stream = tokio_rustls::TlsConnector::from(tls.config.clone())
        .connect(name, tcp)
        .await
        .with_context(|| {
            format!(
                "TLS handshake with {} (as {})",
                config.peer, tls.server_name
            )
        })?;
    tracing::info!(peer = %config.peer, name = %tls.server_name, "SIP over TLS connected");
    Ok(Conn::Tls(Box::new(stream)))
}

/// Which end of the connection we are: the one that opened it pings when it is
/// quiet; the one that accepted it answers pings (RFC 5626 §3.5.1).
#[derive(Clone, Copy)]
enum Side {
    Caller {
        keepalive: Option<std::time::Duration>,
    },
    Callee,
}

/// Writes what is queued and reads what arrives until the connection fails;
/// `Ok` when the application has gone (nothing more to send) or, on a
/// connection a caller opened, when the caller closed it.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    first: Option<Vec<u8>>,
    outgoing: &mut mpsc::Receiver<Vec<u8>>,
    incoming: &mpsc::Sender<(SocketAddr, Vec<u8>)>,
    peer: SocketAddr,
    side: Side,
) -> Result<()> {
    let (mut reader, mut writer) = tokio::io::split(stream);
    if let Some(first) = first {
        writer.write_all(&first).await.context("writing")?;
    }
    let mut framer = Framer::default();
    let mut buf = vec![0u8; 16 * 1024];
    let keepalive = match side {
        Side::Caller { keepalive } => keepalive,
        Side::Callee => None,
    };
    let idle = keepalive.unwrap_or(std::time::Duration::MAX / 4);
    let mut ping_at = tokio::time::Instant::now() + idle;
    let mut silent_until =
        matches!(side, Side::Callee).then(|| tokio::time::Instant::now() + FIRST_MESSAGE_WITHIN);
    loop {
        tokio::select! {
            _ = async { tokio::time::sleep_until(silent_until.expect("guarded")).await }, if silent_until.is_some() => {
                bail!("no SIP message within {FIRST_MESSAGE_WITHIN:?} of connecting");
            }
            msg = outgoing.recv() => match msg {
                Some(m) => {
                    writer.write_all(&m).await.context("writing")?;
                    ping_at = tokio::time::Instant::now() + idle;
                }
                None => return Ok(()),
            },
            _ = tokio::time::sleep_until(ping_at), if keepalive.is_some() => {
                writer.write_all(b"\r\n\r\n").await.context("writing a keep-alive")?;
                ping_at = tokio::time::Instant::now() + idle;
            }
            n = reader.read(&mut buf) => {
                let n = n.context("reading")?;
                if n == 0 {
                    match side {
                        Side::Caller { .. } => bail!("closed by the peer"),
                        Side::Callee => return Ok(()),
                    }
                }
                framer.push(&buf[..n]);
                while let Some(message) = framer.next_message()? {
                    silent_until = None;
                    if incoming.send((peer, message)).await.is_err() {
                        return Ok(());
                    }
                }
                if framer.take_ping() && matches!(side, Side::Callee) {
                    writer.write_all(b"\r\n").await.context("writing a pong")?;
                }
            }
        }
    }
}

/// Splits a byte stream into SIP messages (RFC 3261 §18.3).
#[derive(Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// CR and LF bytes skipped since the last message, however they were read.
    skipped: usize,
    /// A double-CRLF ping came between messages and has not been answered.
    pinged: bool,
}

impl Framer {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Whether a ping (RFC 5626 §3.5.1) arrived since the last call.
    pub fn take_ping(&mut self) -> bool {
        std::mem::take(&mut self.pinged)
    }

    /// The next whole message, if one has arrived; an error when the stream
    /// cannot be SIP (a header block or a body over 64 KiB).
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>> {
        // Keep-alive CRLFs between messages (RFC 5626 §3.5.1).
        let lead = self
            .buf
            .iter()
            .take_while(|b| **b == b'\r' || **b == b'\n')
            .count();
        self.buf.drain(..lead);
        self.skipped += lead;
        if self.skipped >= 4 {
            self.pinged = true;
            self.skipped = 0;
        }
        if !self.buf.is_empty() {
            self.skipped = 0;
        }
        let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            if self.buf.len() > MAX_MESSAGE {
                bail!("no end of headers within {MAX_MESSAGE} bytes");
            }
            return Ok(None);
        };
        let headers = String::from_utf8_lossy(&self.buf[..end]);
        let length = headers
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .find(|(name, _)| {
                let n = name.trim();
                n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("l")
            })
            .map(|(_, v)| v.trim().parse::<usize>())
            .transpose()
            .context("an unreadable Content-Length")?
            .unwrap_or(0);
        if length > MAX_MESSAGE {
            bail!("a body of {length} bytes");
        }
        let total = end + 4 + length;
        if self.buf.len() < total {
            return Ok(None);
        }
        Ok(Some(self.buf.drain(..total).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::Framer;

    #[test]
    fn messages_are_cut_at_their_content_length_whatever_the_reads() {
        let a = b"SIP/2.0 200 OK\r\nCall-ID: a\r\nContent-Length: 5\r\n\r\nhello";
        let b = b"BYE sip:x SIP/2.0\r\nl: 0\r\n\r\n";
        let stream: Vec<u8> = [&b"\r\n\r\n"[..], a, b"\r\n", b].concat();
        for chunk in [1, 3, 7, 64] {
            let mut f = Framer::default();
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                f.push(piece);
                while let Some(m) = f.next_message().unwrap() {
                    got.push(m);
                }
            }
            assert_eq!(got, vec![a.to_vec(), b.to_vec()], "reads of {chunk}");
        }
    }

    const INVITE: &[u8] = b"INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1;alias\r\n\
From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: k\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

    fn config(peer: std::net::SocketAddr, keepalive_ms: Option<u64>) -> super::StreamConfig {
        super::StreamConfig {
            peer,
            tls: None,
            keepalive: keepalive_ms.map(std::time::Duration::from_millis),
        }
    }

    /// Reads from `s` until `want` has arrived (or 5 s).
    async fn read_until(s: &mut tokio::net::TcpStream, want: &[u8]) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while !got.windows(want.len()).any(|w| w == want) {
                let n = s.read(&mut buf).await.unwrap();
                assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&got));
                got.extend_from_slice(&buf[..n]);
            }
        })
        .await
        .expect("in time");
        got
    }

    #[tokio::test]
    async fn an_idle_connection_is_kept_alive_and_a_dropped_one_reopened() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let link = super::spawn(config(listener.local_addr().unwrap(), Some(100)), tx);
        link.send(INVITE.to_vec()).await;
        let (mut conn, _) = listener.accept().await.unwrap();
        let got = read_until(&mut conn, b"Content-Length: 0\r\n\r\n").await;
        assert!(got.starts_with(b"INVITE"));
        // Quiet for a while: a double-CRLF ping comes.
        let ping = read_until(&mut conn, b"\r\n\r\n").await;
        assert_eq!(ping, b"\r\n\r\n");
        // What the trunk sends, after a pong, reaches the agent as one message.
        use tokio::io::AsyncWriteExt;
        conn.write_all(b"\r\nSIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
        let (src, message) = rx.recv().await.unwrap();
        assert_eq!(src, listener.local_addr().unwrap());
        assert!(message.starts_with(b"SIP/2.0 100"));
        // The trunk drops the connection: the next message opens a new one.
        drop(conn);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        link.send(INVITE.to_vec()).await;
        let (mut again, _) =
            tokio::time::timeout(std::time::Duration::from_secs(5), listener.accept())
                .await
                .expect("reconnected")
                .unwrap();
        read_until(&mut again, b"INVITE").await;
    }

    #[tokio::test]
    async fn a_trunk_that_cannot_be_reached_answers_503_at_once() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let link = super::spawn(config(port, None), tx);
        link.send(INVITE.to_vec()).await;
        let (_, reply) = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
            .await
            .expect("in time")
            .unwrap();
        let reply = String::from_utf8(reply).unwrap();
        assert!(reply.starts_with("SIP/2.0 503"), "{reply}");
        assert!(
            reply.contains("Call-ID: k") && reply.contains("branch=z9hG4bK1"),
            "{reply}"
        );
    }

    /// [`super::listen`] on a loopback port: its address, the connections open
    /// on it, and what arrives over them.
    async fn listening() -> (
        std::net::SocketAddr,
        super::Accepted,
        tokio::sync::mpsc::Receiver<(std::net::SocketAddr, Vec<u8>)>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = super::Accepted::default();
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        super::listen(listener, None, accepted.clone(), tx);
        (addr, accepted, rx)
    }

    /// A caller's connection: its messages reach the agent with its address, its
    /// pings are answered, what the agent sends to that address goes back over it,
    /// and once it closes the address is forgotten.
    #[tokio::test]
    async fn a_callers_connection_carries_its_messages_both_ways() {
        use tokio::io::AsyncWriteExt;
        let (addr, accepted, mut rx) = listening().await;
        let mut caller = tokio::net::TcpStream::connect(addr).await.unwrap();
        let me = caller.local_addr().unwrap();
        // A ping split over two writes, then a message.
        caller.write_all(b"\r\n").await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        caller.write_all(b"\r\n").await.unwrap();
        let pong = read_until(&mut caller, b"\r\n").await;
        assert_eq!(pong, b"\r\n");
        caller.write_all(INVITE).await.unwrap();
        let (src, message) = rx.recv().await.unwrap();
        assert_eq!((src, message.as_slice()), (me, INVITE));
        accepted
            .get(&me)
            .expect("the connection is known by its far end")
            .send(b"SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n".to_vec())
            .await
            .unwrap();
        let reply = read_until(&mut caller, b"Content-Length: 0\r\n\r\n").await;
        assert!(reply.starts_with(b"SIP/2.0 100"), "{reply:?}");
        drop(caller);
        let gone = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while accepted.get(&me).is_some() {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(gone.is_ok(), "a closed connection is forgotten");
    }

    /// A caller that connects and says nothing is let go; one that sent a
    /// message may then stay quiet.
    #[tokio::test(start_paused = true)]
    async fn a_silent_callers_connection_is_closed() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (addr, accepted, mut rx) = listening().await;
        let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut talker = tokio::net::TcpStream::connect(addr).await.unwrap();
        talker.write_all(INVITE).await.unwrap();
        rx.recv().await.unwrap();
        tokio::time::sleep(super::FIRST_MESSAGE_WITHIN * 2).await;
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), silent.read(&mut byte));
        assert_eq!(read.await.expect("closed, not left open").unwrap(), 0);
        assert!(accepted.get(&talker.local_addr().unwrap()).is_some());
    }

    #[test]
    fn garbage_without_a_boundary_is_refused() {
        let mut f = Framer::default();
        f.push(&vec![b'x'; 70_000]);
        assert!(f.next_message().is_err());
        let mut f = Framer::default();
        f.push(b"INVITE sip:x SIP/2.0\r\nContent-Length: nine\r\n\r\n");
        assert!(f.next_message().is_err());
    }
}
