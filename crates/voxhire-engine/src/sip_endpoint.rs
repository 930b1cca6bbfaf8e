//! The tokio driver around the Sans-IO [`UserAgent`]: owns the SIP socket and the
//! timers, takes commands from the application and hands it the UA's events.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::{Context, Result};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use voxhire_sip::dialog::Dialog;
use voxhire_sip::ua::{
    CallHandle, Event, InviteParams, RegisterParams, Transport, UaConfig, UserAgent,
};

use crate::sip_stream::{StreamConfig, StreamLink};
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
}

/// Binds the SIP socket at `bind`, works out the address to advertise toward
/// `toward` (the trunk's proxy, the callee, or loopback), and starts the user
/// agent with `credentials` for digest challenges.
pub async fn open(
    bind: SocketAddr,
    toward: SocketAddr,
    credentials: Option<voxhire_sip::auth::Credentials>,
) -> Result<OpenedSip> {
    open_with(bind, toward, credentials, None).await
}

/// [`open`], with what goes to the trunk carried over a connection (TCP or
/// TLS, [`crate::sip_stream`]) instead of the UDP socket when `stream` is given.
pub async fn open_with(
    bind: SocketAddr,
    toward: SocketAddr,
    credentials: Option<voxhire_sip::auth::Credentials>,
    stream: Option<StreamConfig>,
) -> Result<OpenedSip> {
    let local_ip = advertised_ip(bind, toward)
        .with_context(|| format!("finding the local address toward {toward}"))?;
    let socket = UdpSocket::bind(bind)
        .await
        .with_context(|| format!("binding SIP socket {bind}"))?;
    let bound = socket.local_addr()?;
    let local = SocketAddr::new(local_ip, bound.port());
    let mut config = UaConfig::new(local);
    config.credentials = credentials;
    if let Some(s) = &stream {
        config.transport = if s.tls.is_some() {
            Transport::Tls
        } else {
            Transport::Tcp
        };
    }
    let (sip, events) = spawn_with(socket, config, rand::random(), stream);
    Ok(OpenedSip {
        sip,
        events,
        bound,
        local,
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
    spawn_with(socket, config, seed, None)
}

fn spawn_with(
    socket: UdpSocket,
    config: UaConfig,
    seed: u64,
    stream: Option<StreamConfig>,
) -> (SipEndpoint, mpsc::UnboundedReceiver<Event>) {
    let (cmd_tx, cmd_rx) = mpsc::channel(256);
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let (in_tx, in_rx) = mpsc::channel(256);
    let link = stream.map(|s| crate::sip_stream::spawn(s, in_tx.clone()));
    tokio::spawn(run(
        Wire {
            socket,
            link,
            incoming: in_rx,
            _incoming_open: in_tx,
        },
        UserAgent::new(config, seed),
        cmd_rx,
        ev_tx,
    ));
    (SipEndpoint { commands: cmd_tx }, ev_rx)
}

/// Where the SIP task's messages travel: the UDP socket, and when the trunk
/// is reached over a connection, that connection for everything to and from it.
struct Wire {
    socket: UdpSocket,
    link: Option<StreamLink>,
    incoming: mpsc::Receiver<(SocketAddr, Vec<u8>)>,
    /// Keeps `incoming` open (pending, not closed) when there is no link.
    _incoming_open: mpsc::Sender<(SocketAddr, Vec<u8>)>,
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
            match &wire.link {
                Some(link) if link.peer == t.dst => link.send(t.payload).await,
                _ => {
                    if let Err(e) = wire.socket.send_to(&t.payload, t.dst).await {
                        tracing::warn!(dst = %t.dst, error = %e, "SIP send failed");
                    }
                }
            }
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
