//! The user agent core (RFC 3261 §8, §12–§15, §22): calls in both directions,
//! registration, and the UAS rules for what to refuse.
//!
//! Sans-IO: feed it datagrams and `now`, drain what it wants sent and what happened.
//! ```
//! use std::time::Instant;
//! use voxhire_sip::ua::{UaConfig, UserAgent};
//!
//! let mut ua = UserAgent::new(UaConfig::new("127.0.0.1:5060".parse().unwrap()), 7);
//! let now = Instant::now();
//! let options = b"OPTIONS sip:voxhire@127.0.0.1 SIP/2.0\r\n\
//! Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n\
//! To: <sip:voxhire@127.0.0.1>\r\nCall-ID: doc\r\nCSeq: 1 OPTIONS\r\n\r\n";
//! ua.handle_datagram(now, "127.0.0.1:5070".parse().unwrap(), options);
//! while let Some(t) = ua.poll_transmit() {
//!     assert!(t.payload.starts_with(b"SIP/2.0 200 OK"));
//!     // socket.send_to(&t.payload, t.dst)
//! }
//! while let Some(_event) = ua.poll_event() { /* calls ringing, answered, ended … */ }
//! if let Some(deadline) = ua.poll_timeout() { /* sleep until then, */ ua.handle_timeout(deadline); }
//! ```

mod register;
mod timers;
mod uac;
mod uas;

use timers::{Owner, Timers};

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::auth::{Challenge, Credentials};
use crate::dialog::Dialog;
use crate::message::{Headers, NameAddr, Request, Response, SipMessage, Via};
use crate::transaction::{
    InviteClientTransaction, InviteServerTransaction, NonInviteClientTransaction,
    NonInviteServerTransaction, TimerConfig, TransactionKey, TxOutput,
};
use crate::{Method, StatusCode};

pub use register::RegisterParams;
pub use uac::InviteParams;

/// Methods this UA implements (the Allow header).
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS";

/// How this agent's requests travel (Via's transport, Contact's `transport=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Transport {
    #[default]
    Udp,
    /// A TCP connection to the trunk (RFC 3261 §18; framing by Content-Length).
    Tcp,
    /// TLS over TCP to the trunk.
    Tls,
}

impl Transport {
    /// Via's transport token.
    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// The transport a Via's token names (`SIP/2.0/TCP`: `"TCP"`), when it is
    /// one of ours.
    pub fn from_via(token: &str) -> Option<Transport> {
        [Transport::Udp, Transport::Tcp, Transport::Tls]
            .into_iter()
            .find(|t| t.via_name().eq_ignore_ascii_case(token))
    }

    /// TCP and TLS: the transport delivers or fails, so transactions do not
    /// retransmit over it (RFC 3261 §17.1.1.2).
    pub fn is_reliable(self) -> bool {
        self != Transport::Udp
    }

    /// The `transport=` URI parameter (none for UDP, the default).
    pub fn uri_param(self) -> Option<&'static str> {
        match self {
            Transport::Udp => None,
            Transport::Tcp => Some("tcp"),
            Transport::Tls => Some("tls"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct UaConfig {
    /// The bound SIP socket: Via sent-by and Contact.
    pub local_addr: SocketAddr,
    /// Over a connection (TCP, TLS) the Via carries `alias` (RFC 5923), so the
    /// trunk sends its requests back over the connection we opened.
    pub transport: Transport,
    /// Where we take SIP over TLS, when we do: the port a Contact or Via for a
    /// TLS flow names (TCP shares the UDP port's number).
    pub tls_port: Option<u16>,
    /// User part of our Contact.
    pub contact_user: String,
    pub user_agent: String,
    pub timers: TimerConfig,
    pub credentials: Option<Credentials>,
}

impl UaConfig {
    pub fn new(local_addr: SocketAddr) -> Self {
        UaConfig {
            local_addr,
            transport: Transport::Udp,
            tls_port: None,
            contact_user: "voxhire".into(),
            user_agent: concat!("voxhire/", env!("CARGO_PKG_VERSION")).into(),
            timers: TimerConfig::default(),
            credentials: None,
        }
    }
}

/// A call, as the application refers to it (not the SIP Call-ID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallHandle(pub u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Local,
    Remote,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // a few events per call; boxing buys nothing
pub enum Event {
    /// A new INVITE: answer with [`UserAgent::answer`], or [`UserAgent::reject`].
    IncomingCall {
        call: CallHandle,
        call_id: String,
        from: NameAddr,
        to: NameAddr,
        offer: Option<Vec<u8>>,
    },
    /// 180/183 on an outgoing call; a body is early media SDP.
    Progress {
        call: CallHandle,
        status: StatusCode,
        sdp: Option<Vec<u8>>,
    },
    /// Our INVITE got a 2xx (the ACK is already on its way). `dialog` is what
    /// to keep so that another process can end the call (see
    /// [`UserAgent::end_orphan`]).
    Answered {
        call: CallHandle,
        sdp: Vec<u8>,
        dialog: crate::dialog::DialogState,
    },
    /// The ACK for our 2xx arrived.
    Confirmed {
        call: CallHandle,
    },
    /// An outgoing call ended without being answered: its final status (487 after
    /// our CANCEL, 408 on Timer B).
    Failed {
        call: CallHandle,
        status: StatusCode,
        reason: String,
    },
    /// The caller cancelled before we answered.
    Cancelled {
        call: CallHandle,
    },
    /// An established call ended with a BYE from `by` (or our 2xx was never ACKed).
    Ended {
        call: CallHandle,
        by: Party,
    },
    /// A re-INVITE brought a new remote SDP (already answered with ours).
    RemoteSdp {
        call: CallHandle,
        sdp: Vec<u8>,
    },
    Registered {
        expires: u32,
    },
    /// The binding was removed (our REGISTER with Expires: 0 succeeded).
    Unregistered,
    RegistrationFailed {
        status: StatusCode,
        reason: String,
    },
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub dst: SocketAddr,
    pub payload: Vec<u8>,
    /// A request whose Via names TCP or TLS: it travels over a connection (to
    /// the trunk, or the flow of a call that came over one), never as a datagram.
    /// Responses go back the way their request came, whatever this says.
    pub over_connection: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallState {
    /// UAC: INVITE sent, nothing but 100 back. UAS: INVITE received, not answered.
    Initial,
    /// A provisional response with a tag was sent or received.
    Early,
    Confirmed,
    /// We sent BYE and wait for its response.
    Terminating,
    /// Over; forgotten at `purge_at` (late retransmissions are absorbed till then).
    Terminated {
        purge_at: Instant,
    },
}

impl CallState {
    fn is_terminated(self) -> bool {
        matches!(self, CallState::Terminated { .. })
    }

    /// Before a final response (UAC) or our answer (UAS).
    fn is_ringing(self) -> bool {
        matches!(self, CallState::Initial | CallState::Early)
    }
}

/// What only the side that placed the call keeps.
#[derive(Debug, Default)]
struct UacState {
    /// CANCEL waits for a provisional response (§9.1).
    cancel: Cancel,
    got_provisional: bool,
    /// The challenge the last authorised INVITE answered.
    auth: Option<AuthState>,
    /// Our ACK for the 2xx, re-sent on 2xx retransmissions (§13.2.2.4).
    ack: Option<Vec<u8>>,
    /// Where the INVITE goes next on a timeout or a 503 (RFC 3263 §4.3).
    alternates: std::collections::VecDeque<SocketAddr>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Cancel {
    #[default]
    NotWanted,
    /// Asked for; sent once a provisional response arrives.
    Wanted,
    Sent,
}

/// What only the side that received the call keeps.
#[derive(Debug, Default)]
struct UasState {
    /// 2xx retransmission until the ACK arrives (§13.3.1.4).
    ok_retransmit: Option<OkRetransmit>,
}

/// Which side of the call we are, with that side's data.
#[derive(Debug)]
enum Side {
    Uac(UacState),
    Uas(UasState),
}

#[derive(Debug)]
struct Call {
    state: CallState,
    side: Side,
    call_id: String,
    local_tag: String,
    peer: SocketAddr,
    dialog: Option<Dialog>,
    /// UAC: the INVITE in flight (for CANCEL and authorised retries). UAS: the INVITE received.
    invite: Request,
    invite_key: TransactionKey,
    local_sdp: Vec<u8>,
    sdp_version: u64,
}

impl Call {
    /// Who placed the call: `Local` for ours, `Remote` for one we received.
    fn role(&self) -> Party {
        match self.side {
            Side::Uac(_) => Party::Local,
            Side::Uas(_) => Party::Remote,
        }
    }

    fn uac(&mut self) -> Option<&mut UacState> {
        match &mut self.side {
            Side::Uac(u) => Some(u),
            Side::Uas(_) => None,
        }
    }

    fn ok_retransmit(&mut self) -> Option<&mut OkRetransmit> {
        match &mut self.side {
            Side::Uas(u) => u.ok_retransmit.as_mut(),
            Side::Uac(_) => None,
        }
    }

    /// Stops re-sending our 2xx (the ACK came, or we gave up on it); true if
    /// it was being re-sent.
    fn stop_ok_retransmit(&mut self) -> bool {
        match &mut self.side {
            Side::Uas(u) => u.ok_retransmit.take().is_some(),
            Side::Uac(_) => false,
        }
    }

    fn purge_at(&self) -> Option<Instant> {
        match self.state {
            CallState::Terminated { purge_at } => Some(purge_at),
            _ => None,
        }
    }
}

/// The challenge an authorised INVITE answered: a second rejection ends the call.
#[derive(Debug)]
struct AuthState {
    challenge: Challenge,
}

#[derive(Debug)]
struct OkRetransmit {
    response: Vec<u8>,
    next: Instant,
    interval: Duration,
    give_up: Instant,
}

#[derive(Debug)]
enum ClientTx {
    Invite(Box<InviteClientTransaction>),
    NonInvite(Box<NonInviteClientTransaction>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Invite,
    Cancel,
    Bye,
    Register,
}

#[derive(Debug)]
struct ClientEntry {
    tx: ClientTx,
    dst: SocketAddr,
    /// Its Via names TCP or TLS ([`Transmit::over_connection`]).
    reliable: bool,
    call: Option<CallHandle>,
    purpose: Purpose,
}

#[derive(Debug)]
enum ServerTx {
    Invite(Box<InviteServerTransaction>),
    NonInvite(Box<NonInviteServerTransaction>),
}

#[derive(Debug)]
struct ServerEntry {
    tx: ServerTx,
    dst: SocketAddr,
}

/// The Sans-IO SIP user agent: see the module docs for the run loop.
#[derive(Debug)]
pub struct UserAgent {
    config: UaConfig,
    rng: StdRng,
    next_handle: u64,
    calls: HashMap<CallHandle, Call>,
    clients: HashMap<TransactionKey, ClientEntry>,
    servers: HashMap<TransactionKey, ServerEntry>,
    registration: Option<register::Registration>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    /// Every transaction's and call's next deadline.
    timers: Timers,
}

impl UserAgent {
    /// `seed` drives every tag, branch and Call-ID, so a run can be replayed.
    pub fn new(config: UaConfig, seed: u64) -> Self {
        UserAgent {
            config,
            rng: StdRng::seed_from_u64(seed),
            next_handle: 1,
            calls: HashMap::new(),
            clients: HashMap::new(),
            servers: HashMap::new(),
            registration: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            timers: Timers::default(),
        }
    }

    pub fn config(&self) -> &UaConfig {
        &self.config
    }

    /// Calls not yet terminated.
    /// Calls and transactions held in memory, the finished ones included until
    /// their purge (64·T1 after they end): for diagnostics and leak tests.
    pub fn held(&self) -> (usize, usize) {
        (self.calls.len(), self.clients.len() + self.servers.len())
    }

    pub fn active_calls(&self) -> usize {
        self.calls
            .values()
            .filter(|c| !c.state.is_terminated())
            .count()
    }

    /// The SIP Call-ID of a call.
    pub fn call_id(&self, call: CallHandle) -> Option<&str> {
        self.calls.get(&call).map(|c| c.call_id.as_str())
    }

    /// The dialog identifiers of an established call.
    pub fn dialog_id(&self, call: CallHandle) -> Option<&crate::dialog::DialogId> {
        self.calls.get(&call)?.dialog.as_ref().map(|d| &d.id)
    }

    pub fn handle_datagram(&mut self, now: Instant, src: SocketAddr, bytes: &[u8]) {
        // STUN shares the SIP socket (RFC 5626 §4.4.1); no SIP message starts with
        // its magic cookie at byte 4.
        if rtc_stun::message::is_stun_message(bytes) {
            return self.handle_stun(now, src, bytes);
        }
        match SipMessage::parse(bytes) {
            Ok(SipMessage::Request(r)) => self.handle_request(now, src, r),
            Ok(SipMessage::Response(r)) => self.handle_response(now, r),
            Err(err) => {
                tracing::debug!(%src, %err, "rejecting unparseable datagram");
                if let crate::message::ParseError::BadRequest {
                    status, headers, ..
                } = &err
                {
                    let is_ack = bytes.starts_with(b"ACK ");
                    if !is_ack {
                        // Stateless error response, to the source (§18.2.2 via `received`).
                        let response = Response::for_request_headers(*status, headers);
                        let dst = response_addr(response.top_via().as_ref(), src);
                        self.transmit(dst, response.to_bytes(), false);
                    }
                }
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        for owner in self.timers.take_due(now) {
            match owner {
                Owner::Client(key) => {
                    if let Some(entry) = self.clients.get_mut(&key) {
                        match &mut entry.tx {
                            ClientTx::Invite(t) => t.handle_timeout(now),
                            ClientTx::NonInvite(t) => t.handle_timeout(now),
                        }
                    }
                    self.drain_client(now, &key);
                }
                Owner::Server(key) => {
                    if let Some(entry) = self.servers.get_mut(&key) {
                        match &mut entry.tx {
                            ServerTx::Invite(t) => t.handle_timeout(now),
                            ServerTx::NonInvite(t) => t.handle_timeout(now),
                        }
                    }
                    self.drain_server(&key);
                }
                Owner::Call(call) => self.handle_call_timer(now, call),
            }
        }
        self.handle_registration_timer(now);
    }

    /// The earliest instant `handle_timeout` has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let reg = self
            .registration
            .as_ref()
            .and_then(register::Registration::next_timeout);
        [self.timers.next(), reg].into_iter().flatten().min()
    }

    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ---- internals shared by the UAC and UAS halves ----

    fn transmit(&mut self, dst: SocketAddr, payload: Vec<u8>, over_connection: bool) {
        self.transmits.push_back(Transmit {
            dst,
            payload,
            over_connection,
        });
    }

    fn new_handle(&mut self) -> CallHandle {
        let h = CallHandle(self.next_handle);
        self.next_handle += 1;
        h
    }

    fn random_hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit(self.rng.random_range(0..16u32), 16).unwrap_or('0'))
            .collect()
    }

    fn new_tag(&mut self) -> String {
        self.random_hex(10)
    }

    /// The transport a call's requests and Contact use: its dialog's flow, when it
    /// came in over a connection, else the configured one.
    fn call_transport(&self, call: CallHandle) -> Transport {
        self.calls
            .get(&call)
            .and_then(|c| c.dialog.as_ref()?.flow)
            .map_or(self.config.transport, |f| f.transport)
    }

    fn new_via(&mut self) -> Via {
        self.new_via_over(self.config.transport)
    }

    /// A Via for a request sent over `transport` (a call's flow may differ from
    /// the configured transport: a call that came in over TCP).
    fn new_via_over(&mut self, transport: Transport) -> Via {
        let branch = format!(
            "{}{}",
            crate::message::BRANCH_MAGIC_COOKIE,
            self.random_hex(16)
        );
        let mut params = vec![("branch".into(), Some(branch)), ("rport".into(), None)];
        if transport.is_reliable() {
            params.push(("alias".into(), None));
        }
        Via {
            transport: transport.via_name().into(),
            host: crate::message::Host::Ip(self.config.local_addr.ip()),
            port: Some(self.port_over(transport)),
            params: crate::message::Params(params),
        }
    }

    fn contact(&self) -> String {
        self.contact_over(self.config.transport)
    }

    /// Our Contact for a dialog carried over `transport`.
    fn contact_over(&self, transport: Transport) -> String {
        let host = crate::message::Host::Ip(self.config.local_addr.ip());
        let transport_param = transport
            .uri_param()
            .map(|t| format!(";transport={t}"))
            .unwrap_or_default();
        format!(
            "<sip:{}@{}:{}{transport_param}>",
            self.config.contact_user,
            host,
            self.port_over(transport)
        )
    }

    /// The port we take `transport` on.
    fn port_over(&self, transport: Transport) -> u16 {
        match (transport, self.config.tls_port) {
            (Transport::Tls, Some(port)) => port,
            _ => self.config.local_addr.port(),
        }
    }

    fn start_client(
        &mut self,
        now: Instant,
        request: Request,
        dst: SocketAddr,
        call: Option<CallHandle>,
        purpose: Purpose,
    ) {
        let Some(key) = uac::client_key(&request) else {
            return;
        };
        // The request goes over the transport its Via names: the configured one
        // (one connection to the trunk when it is TCP or TLS), or the flow of a
        // call that came in over a connection.
        let reliable = request.top_via().as_ref().is_some_and(reliable_via);
        let timers = self.config.timers.over(reliable);
        let tx = match request.method {
            Method::Invite => {
                ClientTx::Invite(Box::new(InviteClientTransaction::new(now, request, timers)))
            }
            _ => ClientTx::NonInvite(Box::new(NonInviteClientTransaction::new(
                now, request, timers,
            ))),
        };
        self.clients.insert(
            key.clone(),
            ClientEntry {
                tx,
                dst,
                reliable,
                call,
                purpose,
            },
        );
        self.drain_client(now, &key);
    }

    /// Moves a client transaction's outputs to the wire / the TU, and forgets it once terminated.
    fn drain_client(&mut self, now: Instant, key: &TransactionKey) {
        loop {
            let Some(entry) = self.clients.get_mut(key) else {
                return;
            };
            let output = match &mut entry.tx {
                ClientTx::Invite(t) => t.poll_output(),
                ClientTx::NonInvite(t) => t.poll_output(),
            };
            let Some(output) = output else { break };
            let (dst, reliable, call, purpose) =
                (entry.dst, entry.reliable, entry.call, entry.purpose);
            match output {
                TxOutput::Send(bytes) => self.transmit(dst, bytes, reliable),
                TxOutput::Response(r) => self.on_client_response(now, purpose, call, key, r),
                TxOutput::Timeout => self.on_client_timeout(now, purpose, call),
            }
        }
        let done = self.clients.get(key).is_some_and(|e| match &e.tx {
            ClientTx::Invite(t) => t.is_terminated(),
            ClientTx::NonInvite(t) => t.is_terminated(),
        });
        if done {
            self.clients.remove(key);
        }
        let at = self.clients.get(key).and_then(|e| client_timeout(&e.tx));
        self.timers.set(Owner::Client(key.clone()), at);
    }

    fn drain_server(&mut self, key: &TransactionKey) {
        let mut timed_out = false;
        loop {
            let Some(entry) = self.servers.get_mut(key) else {
                return;
            };
            let output = match &mut entry.tx {
                ServerTx::Invite(t) => t.poll_output(),
                ServerTx::NonInvite(t) => t.poll_output(),
            };
            let dst = entry.dst;
            match output {
                Some(TxOutput::Send(bytes)) => self.transmit(dst, bytes, false),
                Some(TxOutput::Timeout) => timed_out = true,
                Some(TxOutput::Response(_)) => {}
                None => break,
            }
        }
        if timed_out {
            tracing::debug!("no ACK for a final response (Timer H)");
        }
        let done = self.servers.get(key).is_some_and(|e| match &e.tx {
            ServerTx::Invite(t) => t.is_terminated(),
            ServerTx::NonInvite(t) => t.is_terminated(),
        });
        if done {
            self.servers.remove(key);
        }
        let at = self.servers.get(key).and_then(|e| server_timeout(&e.tx));
        self.timers.set(Owner::Server(key.clone()), at);
    }

    /// Marks a call terminated; it is forgotten after 64·T1 so late retransmissions
    /// still find their dialog.
    fn terminate(&mut self, now: Instant, call: CallHandle) {
        let purge = now + self.config.timers.t1x64();
        if let Some(c) = self.calls.get_mut(&call) {
            c.state = CallState::Terminated { purge_at: purge };
            c.stop_ok_retransmit();
        }
        self.watch_call(call);
    }

    /// Schedules the call's next deadline: its 2xx retransmission or its purge.
    fn watch_call(&mut self, call: CallHandle) {
        let at = self.calls.get(&call).and_then(|c| {
            let ok = match &c.side {
                Side::Uas(u) => u.ok_retransmit.as_ref().map(|o| o.next),
                Side::Uac(_) => None,
            };
            [ok, c.purge_at()].into_iter().flatten().min()
        });
        self.timers.set(Owner::Call(call), at);
    }

    /// A call's deadline came: forget it after its purge time, or re-send its
    /// 2xx (T1 doubling to T2) until the ACK or 64·T1.
    fn handle_call_timer(&mut self, now: Instant, call: CallHandle) {
        let t2 = self.config.timers.t2;
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.purge_at().is_some_and(|p| p <= now) {
            self.calls.remove(&call);
            return;
        }
        let peer = c.peer;
        let mut resend = None;
        let mut unacked = false;
        if let Some(ok) = c.ok_retransmit() {
            if ok.next <= now {
                if now >= ok.give_up {
                    unacked = true;
                } else {
                    resend = Some(ok.response.clone());
                    ok.interval = (ok.interval * 2).min(t2);
                    ok.next = now + ok.interval;
                }
            }
        }
        if let Some(bytes) = resend {
            self.transmit(peer, bytes, false);
        }
        if unacked {
            // §13.3.1.4: no ACK within 64·T1 — confirm the dialog then end it with BYE.
            if let Some(c) = self.calls.get_mut(&call) {
                c.stop_ok_retransmit();
            }
            // Ended is raised once, when this BYE completes (found by fuzzing: it
            // used to be raised here and again on the BYE's response).
            self.send_bye(now, call);
        }
        self.watch_call(call);
    }

    fn find_dialog(
        &self,
        call_id: &str,
        local_tag: &str,
        remote_tag: Option<&str>,
    ) -> Option<CallHandle> {
        self.calls.iter().find_map(|(h, c)| {
            let d = c.dialog.as_ref()?;
            let matches = d.id.call_id == call_id
                && d.id.local_tag == local_tag
                && remote_tag.is_none_or(|r| r == d.id.remote_tag);
            matches.then_some(*h)
        })
    }
}

fn client_timeout(tx: &ClientTx) -> Option<Instant> {
    match tx {
        ClientTx::Invite(t) => t.poll_timeout(),
        ClientTx::NonInvite(t) => t.poll_timeout(),
    }
}

fn server_timeout(tx: &ServerTx) -> Option<Instant> {
    match tx {
        ServerTx::Invite(t) => t.poll_timeout(),
        ServerTx::NonInvite(t) => t.poll_timeout(),
    }
}

/// RFC 3261 §18.2.2 with RFC 3581: a response to a request that came over a
/// connection (TCP, TLS) goes back over it, i.e. to its source; otherwise to the
/// source IP (the `received` address), to the source port when `rport` was asked
/// for, else the sent-by port.
fn response_addr(via: Option<&Via>, src: SocketAddr) -> SocketAddr {
    match via {
        Some(v) if reliable_via(v) => src,
        Some(v) if v.params.get("rport").is_none() => {
            SocketAddr::new(src.ip(), v.port.unwrap_or(5060))
        }
        _ => src,
    }
}

/// Whether a Via names a connection-oriented transport (§18.2.1: the request
/// came over it).
fn reliable_via(via: &Via) -> bool {
    ["TCP", "TLS", "SCTP", "WS", "WSS"]
        .iter()
        .any(|t| via.transport.eq_ignore_ascii_case(t))
}

/// §18.2.1 / RFC 3581: stamp `received` (and `rport`) on the top Via of a response.
fn stamp_via(headers: &mut Headers, src: SocketAddr) {
    let vias: Vec<String> = headers.list("Via").map(str::to_string).collect();
    let Some(first) = vias.first().and_then(|v| Via::parse(v)) else {
        return;
    };
    let mut top = first;
    if top.host != crate::message::Host::Ip(src.ip()) {
        top.params.set("received", Some(&src.ip().to_string()));
    }
    if top.params.get("rport").is_some() {
        top.params.set("rport", Some(&src.port().to_string()));
    }
    headers.remove("Via");
    headers.push("Via", top.to_string());
    for v in &vias[1..] {
        headers.push("Via", v.clone());
    }
}
