//! The tokio driver around the Sans-IO [`UserAgent`]: owns the SIP socket and the
//! timers, takes commands from the application and hands it the UA's events.

use std::net::SocketAddr;
use std::time::Instant;

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use voxhire_sip::dialog::Dialog;
use voxhire_sip::ua::{
    CallHandle, Event, InviteParams, RegisterParams, Transmit, Transport, UaConfig, UserAgent,
};

use crate::sip_stream::{self, Accepted, StreamConfig, StreamLink};
use voxhire_sip::StatusCode;

enum Command {
    Invite(InviteParams, oneshot::Sender<(CallHandle, String)>),
    Ring(CallHandle),
    Answer(CallHandle, Vec<u8>),
    Reject(CallHandle, StatusCode, Vec<(String, String)>),
    Hangup(CallHandle),
    EndOrphan(Box<Dialog>, oneshot::Sender<CallHandle>),
    Register(RegisterParams),
    Unregister,
}

/// A cheap handle for sending commands to the SIP task.
#[derive(Clone)]
pub struct SipEndpoint {
    commands: mpsc::Sender<Command>,
}

/// A SIP endpoint on its own socket: what every front door opens first.
pub struct OpenedSip {
    pub sip: SipEndpoint,
    pub events: mpsc::UnboundedReceiver<Event>,
    /// The socket's address as bound (the real port when asked for port 0).
    pub bound: SocketAddr,
    /// The address we advertise (Via, Contact, SDP): the bound one, or when
    /// bound to 0.0.0.0 the local address that routes toward the peer.
    pub local: SocketAddr,
    /// Where callers' TCP connections are taken: the UDP port's number, unless
    /// something else held it.
    pub tcp: Option<SocketAddr>,
    /// Where callers' TLS connections are taken, when asked for.
    pub tls: Option<SocketAddr>,
}

/// How a SIP endpoint reaches its trunk and takes calls, beyond UDP.
#[derive(Default)]
pub struct SipOptions {
    /// For digest challenges.
    pub credentials: Option<voxhire_sip::auth::Credentials>,
    /// What goes to the trunk travels over connections (TCP or TLS,
    /// [`crate::sip_stream`]) instead of the UDP socket.
    pub stream: Option<StreamConfig>,
    /// Also take SIP over TLS at this address, with this certificate.
    pub tls_listen: Option<(SocketAddr, Arc<rustls::ServerConfig>)>,
}

/// Binds the SIP socket at `bind`, works out the address to advertise toward
/// `toward` (the trunk's proxy, the callee, or loopback), and starts the user
/// agent with `credentials` for digest challenges.
pub async fn open(
    bind: SocketAddr,
    toward: SocketAddr,
    credentials: Option<voxhire_sip::auth::Credentials>,
) -> Result<OpenedSip> {
    let options = SipOptions {
        credentials,
        ..SipOptions::default()
    };
    open_with(bind, toward, options).await
}

/// [`open`], with the trunk reached over connections and TLS taken, as
/// `options` says. Callers' TCP connections are taken on the SIP port's number
/// too (RFC 3261 §18: every element takes TCP); when something else holds that
/// TCP port the endpoint runs on UDP and says so.
pub async fn open_with(
    bind: SocketAddr,
    toward: SocketAddr,
    options: SipOptions,
) -> Result<OpenedSip> {
    let local_ip = advertised_ip(bind, toward)
        .with_context(|| format!("finding the local address toward {toward}"))?;
    let socket = UdpSocket::bind(bind)
        .await
        .with_context(|| format!("binding SIP socket {bind}"))?;
    let bound = socket.local_addr()?;
    let local = SocketAddr::new(local_ip, bound.port());
    let mut config = UaConfig::new(local);
    config.credentials = options.credentials;
    if let Some(s) = &options.stream {
        config.transport = if s.tls.is_some() {
            Transport::Tls
        } else {
            Transport::Tcp
        };
    }
    let tcp = match TcpListener::bind(bound).await {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!(addr = %bound, error = %e, "not taking SIP over TCP: the port is held");
            None
        }
    };
    let tls = match options.tls_listen {
        Some((addr, config)) => {
            let l = TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding the SIP TLS port {addr}"))?;
            Some((l, config))
        }
        None => None,
    };
    let (tcp_addr, tls_addr) = (
        tcp.as_ref().and_then(|l| l.local_addr().ok()),
        tls.as_ref().and_then(|(l, _)| l.local_addr().ok()),
    );
    config.tls_port = tls_addr.map(|a| a.port());
    let wire = Wire::new(socket, options.stream);
    if let Some(l) = tcp {
        sip_stream::listen(l, None, wire.accepted.clone(), wire.incoming_tx.clone());
    }
    if let Some((l, config)) = tls {
        sip_stream::listen(
            l,
            Some(config),
            wire.accepted.clone(),
            wire.incoming_tx.clone(),
        );
    }
    let (sip, events) = start(wire, config, rand::random());
    Ok(OpenedSip {
        sip,
        events,
        bound,
        local,
        tcp: tcp_addr,
        tls: tls_addr,
    })
}

/// Starts the SIP task on `socket`. Events arrive on the returned receiver; the
/// channel is unbounded because the UA emits a handful of events per call and the
/// SIP task must never wait on the application (that could deadlock with commands).
pub fn spawn(
    socket: UdpSocket,
    config: UaConfig,
    seed: u64,
) -> (SipEndpoint, mpsc::UnboundedReceiver<Event>) {
    start(Wire::new(socket, None), config, seed)
}

fn start(wire: Wire, config: UaConfig, seed: u64) -> (SipEndpoint, mpsc::UnboundedReceiver<Event>) {
    let (cmd_tx, cmd_rx) = mpsc::channel(256);
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    tokio::spawn(run(wire, UserAgent::new(config, seed), cmd_rx, ev_tx));
    (SipEndpoint { commands: cmd_tx }, ev_rx)
}

/// Where the SIP task's messages travel: the UDP socket; a connection to each
/// trunk address when the trunk is reached over TCP or TLS; and the connections
/// callers opened, for what goes back to them.
struct Wire {
    socket: UdpSocket,
    /// How to reach a trunk address over a connection (its `peer` is the first
    /// address located; every other one gets a link of its own when a request,
    /// failing over, goes there).
    dial: Option<StreamConfig>,
    links: HashMap<SocketAddr, StreamLink>,
    accepted: Accepted,
    incoming: mpsc::Receiver<(SocketAddr, Vec<u8>)>,
    /// For the links and listeners, and keeps `incoming` open (pending, not
    /// closed) when there are none.
    incoming_tx: mpsc::Sender<(SocketAddr, Vec<u8>)>,
}

impl Wire {
    fn new(socket: UdpSocket, dial: Option<StreamConfig>) -> Wire {
        let (incoming_tx, incoming) = mpsc::channel(256);
        Wire {
            socket,
            dial,
            links: HashMap::new(),
            accepted: Accepted::default(),
            incoming,
            incoming_tx,
        }
    }

    /// Sends over the connection to `dst` if there is one (ours to the trunk,
    /// or a caller's); a request over a connection to a trunk address with no
    /// link yet opens one; one for a caller's connection that has closed fails at
    /// once, as a 503 (§8.1.3.1); everything else goes over UDP.
    async fn send(&mut self, t: Transmit) {
        let Transmit {
            dst,
            payload,
            over_connection,
        } = t;
        if let Some(link) = self.links.get(&dst) {
            return link.send(payload).await;
        }
        if let Some(conn) = self.accepted.get(&dst) {
            match conn.send(payload).await {
                Ok(()) => return,
                Err(e) => return self.fail(dst, &e.0).await,
            }
        }
        if over_connection {
            let Some(dial) = &self.dial else {
                return self.fail(dst, &payload).await;
            };
            let config = StreamConfig {
                peer: dst,
                ..dial.clone()
            };
            let link = sip_stream::spawn(config, self.incoming_tx.clone());
            link.send(payload).await;
            self.links.insert(dst, link);
            return;
        }
        if let Err(e) = self.socket.send_to(&payload, dst).await {
            tracing::warn!(%dst, error = %e, "SIP send failed");
        }
    }

    /// A request that cannot go where its Via says it goes: the 503 it gets.
    async fn fail(&self, dst: SocketAddr, payload: &[u8]) {
        tracing::warn!(%dst, "the caller's SIP connection has closed; the request fails");
        if let Some(reply) = sip_stream::transport_failure(payload) {
            let _ = self.incoming_tx.send((dst, reply)).await;
        }
    }
}

impl SipEndpoint {
    async fn send(&self, cmd: Command) -> Result<()> {
        self.commands
            .send(cmd)
            .await
            .map_err(|_| anyhow::anyhow!("the SIP task has stopped"))
    }

    /// Places a call; returns its handle and SIP Call-ID.
    pub async fn invite(&self, params: InviteParams) -> Result<(CallHandle, String)> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Invite(params, tx)).await?;
        Ok(rx.await?)
    }

    pub async fn ring(&self, call: CallHandle) -> Result<()> {
        self.send(Command::Ring(call)).await
    }

    pub async fn answer(&self, call: CallHandle, sdp: Vec<u8>) -> Result<()> {
        self.send(Command::Answer(call, sdp)).await
    }

    pub async fn reject(
        &self,
        call: CallHandle,
        status: StatusCode,
        headers: Vec<(String, String)>,
    ) -> Result<()> {
        self.send(Command::Reject(call, status, headers)).await
    }

    /// BYE, CANCEL or a 480, whichever the call's state calls for.
    pub async fn hangup(&self, call: CallHandle) -> Result<()> {
        self.send(Command::Hangup(call)).await
    }

    /// BYE for a dialog another process set up (see [`crate::orphans`]); its
    /// `Ended` event comes on the returned handle.
    pub async fn end_orphan(&self, dialog: Dialog) -> Result<CallHandle> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::EndOrphan(Box::new(dialog), tx)).await?;
        Ok(rx.await?)
    }

    pub async fn register(&self, params: RegisterParams) -> Result<()> {
        self.send(Command::Register(params)).await
    }

    pub async fn unregister(&self) -> Result<()> {
        self.send(Command::Unregister).await
    }
}

async fn run(
    mut wire: Wire,
    mut ua: UserAgent,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::UnboundedSender<Event>,
) {
    let mut buf = vec![0u8; 65_536];
    loop {
        while let Some(t) = ua.poll_transmit() {
            wire.send(t).await;
        }
        while let Some(e) = ua.poll_event() {
            // A closed receiver means the application is shutting down; keep
            // serving retransmissions until the command side closes too.
            let _ = events.send(e);
        }
        let deadline = ua.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            Some((src, message)) = wire.incoming.recv() => ua.handle_datagram(Instant::now(), src, &message),
            received = wire.socket.recv_from(&mut buf) => match received {
                Ok((n, src)) => ua.handle_datagram(Instant::now(), src, &buf[..n]),
                // ICMP port unreachable from an earlier send shows up here on Linux; not fatal.
                Err(e) => tracing::debug!(error = %e, "SIP receive error"),
            },
            cmd = commands.recv() => {
                let now = Instant::now();
                match cmd {
                    None => return,
                    Some(Command::Invite(params, reply)) => {
                        let call = ua.invite(now, params);
                        let call_id = ua.call_id(call).unwrap_or_default().to_string();
                        let _ = reply.send((call, call_id));
                    }
                    Some(Command::Ring(call)) => ua.ring(now, call),
                    Some(Command::Answer(call, sdp)) => ua.answer(now, call, sdp),
                    Some(Command::Reject(call, status, headers)) => {
                        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                        ua.reject(now, call, status, &headers);
                    }
                    Some(Command::Hangup(call)) => ua.hangup(now, call),
                    Some(Command::EndOrphan(dialog, reply)) => {
                        let _ = reply.send(ua.end_orphan(now, *dialog));
                    }
                    Some(Command::Register(params)) => ua.register(now, params),
                    Some(Command::Unregister) => ua.unregister(now),
                }
            }
            _ = async { tokio::time::sleep_until(deadline.expect("guarded")).await }, if deadline.is_some() => {
                ua.handle_timeout(Instant::now());
            }
        }
    }
}

/// The address to put in Via/Contact/SDP when bound to a wildcard: the local
/// address the kernel would use to reach `toward`.
pub fn advertised_ip(bound: SocketAddr, toward: SocketAddr) -> std::io::Result<std::net::IpAddr> {
    if !bound.ip().is_unspecified() {
        return Ok(bound.ip());
    }
    let probe = std::net::UdpSocket::bind(SocketAddr::new(bound.ip(), 0))?;
    probe.connect(toward)?;
    Ok(probe.local_addr()?.ip())
}
