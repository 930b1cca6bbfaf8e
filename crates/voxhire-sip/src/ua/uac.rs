//! The UAC half: placing calls (RFC 3261 §8.1, §13.2), CANCEL (§9.1), BYE (§15.1.1),
//! and retrying with credentials after 401/407 (§22.2).

use std::net::SocketAddr;
use std::time::Instant;

use super::{
    AuthState, Call, CallHandle, CallState, Cancel, ClientTx, Event, Party, Purpose, Side,
    UacState, UserAgent, ALLOW,
};
use crate::auth::Challenge;
use crate::dialog::Dialog;
use crate::message::{Headers, NameAddr, Request, Response, Uri};
use crate::transaction::TransactionKey;
use crate::{Method, StatusCode};

/// What to call, and how.
#[derive(Debug, Clone)]
pub struct InviteParams {
    pub target: Uri,
    /// Next hop: the target itself, or the trunk's proxy.
    pub dst: SocketAddr,
    /// Next hops to try in turn when `dst` gives no final response (Timer B) or
    /// answers 503: the other addresses DNS gave for the proxy (RFC 3263 §4.3).
    pub alternates: Vec<SocketAddr>,
    /// Our identity (From), without tag.
    pub from: NameAddr,
    pub sdp: Vec<u8>,
}

impl UserAgent {
    /// Sends an INVITE with our SDP offer.
    pub fn invite(&mut self, now: Instant, params: InviteParams) -> CallHandle {
        let handle = self.new_handle();
        let local_tag = self.new_tag();
        let call_id = format!("{}@{}", self.random_hex(24), self.config.local_addr.ip());
        let mut from = params.from.clone();
        from.params.set("tag", Some(&local_tag));
        let mut headers = Headers::new();
        headers.push("Via", self.new_via().to_string());
        headers.push("Max-Forwards", "70");
        headers.push("From", from.to_string());
        headers.push("To", NameAddr::new(params.target.clone()).to_string());
        headers.push("Call-ID", call_id.clone());
        headers.push("CSeq", "1 INVITE");
        headers.push("Contact", self.contact());
        headers.push("Allow", ALLOW);
        headers.push("User-Agent", self.config.user_agent.clone());
        headers.push("Content-Type", "application/sdp");
        let invite = Request {
            method: Method::Invite,
            uri: params.target,
            headers,
            body: params.sdp.clone(),
        };
        let Some(key) = client_key(&invite) else {
            return handle;
        };
        self.calls.insert(
            handle,
            Call {
                state: CallState::Initial,
                side: Side::Uac(UacState {
                    alternates: params.alternates.into(),
                    ..UacState::default()
                }),
                call_id,
                local_tag,
                peer: params.dst,
                dialog: None,
                invite: invite.clone(),
                invite_key: key,
                local_sdp: params.sdp,
                sdp_version: 0,
            },
        );
        self.start_client(now, invite, params.dst, Some(handle), Purpose::Invite);
        handle
    }

    /// Ends a dialog some other agent set up and can no longer end — a process
    /// that died mid-call, whose [`crate::dialog::DialogState`] was kept — with a
    /// BYE from this one (§15.1.1: any request within the dialog, from the next
    /// CSeq). The outcome comes as [`Event::Ended`] `by: Local` on the returned
    /// handle: after the BYE's final response, whatever it is (481 when the far
    /// end had already let the call go), or after Timer F.
    pub fn end_orphan(&mut self, now: Instant, dialog: Dialog) -> CallHandle {
        let handle = self.new_handle();
        let via = self.new_via();
        let contact = self.contact();
        let mut dialog = dialog;
        let bye = dialog.request(Method::Bye, via, &contact, None);
        let dst = dialog.next_hop();
        let Some(key) = client_key(&bye) else {
            return handle;
        };
        self.calls.insert(
            handle,
            Call {
                state: CallState::Terminating,
                side: Side::Uac(UacState::default()),
                call_id: dialog.id.call_id.clone(),
                local_tag: dialog.id.local_tag.clone(),
                peer: dialog.peer,
                dialog: Some(dialog),
                // No INVITE of ours: the BYE stands in (never re-sent as one).
                invite: bye.clone(),
                invite_key: key,
                local_sdp: Vec::new(),
                sdp_version: 0,
            },
        );
        self.start_client(now, bye, dst, Some(handle), Purpose::Bye);
        handle
    }

    /// Gives up on an outgoing call that has not been answered (§9.1). The CANCEL
    /// waits for a provisional response, as the RFC requires.
    pub fn cancel(&mut self, now: Instant, call: CallHandle) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if !c.state.is_ringing() {
            return;
        }
        let Some(uac) = c.uac() else {
            return;
        };
        if uac.cancel == Cancel::NotWanted {
            uac.cancel = Cancel::Wanted;
        }
        if uac.got_provisional {
            self.send_cancel(now, call);
        }
    }

    /// Ends a call: BYE when established, CANCEL while ringing out, 480 while
    /// ringing in.
    pub fn hangup(&mut self, now: Instant, call: CallHandle) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        match (c.role(), c.state) {
            (_, CallState::Confirmed) => {
                self.send_bye(now, call);
            }
            (Party::Local, CallState::Initial | CallState::Early) => self.cancel(now, call),
            (Party::Remote, CallState::Initial | CallState::Early) => {
                self.reject(now, call, StatusCode::TEMPORARILY_UNAVAILABLE, &[])
            }
            (_, CallState::Terminating | CallState::Terminated { .. }) => {}
        }
    }

    fn send_cancel(&mut self, now: Instant, call: CallHandle) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        match c.uac() {
            Some(uac) if uac.cancel != Cancel::Sent => uac.cancel = Cancel::Sent,
            _ => return,
        }
        let invite = &c.invite;
        // §9.1: same Request-URI, Call-ID, From, To (no tag), CSeq number, top Via, Route.
        let mut headers = Headers::new();
        if let Some(v) = invite.headers.list("Via").next() {
            headers.push("Via", v);
        }
        headers.push("Max-Forwards", "70");
        for name in ["From", "To", "Call-ID"] {
            if let Some(v) = invite.headers.get(name) {
                headers.push(name, v);
            }
        }
        let seq = invite.cseq().map(|s| s.seq).unwrap_or(1);
        headers.push("CSeq", format!("{seq} CANCEL"));
        for r in invite.headers.all("Route") {
            headers.push("Route", r);
        }
        let cancel = Request {
            method: Method::Cancel,
            uri: invite.uri.clone(),
            headers,
            body: Vec::new(),
        };
        let dst = c.peer;
        self.start_client(now, cancel, dst, Some(call), Purpose::Cancel);
    }

    pub(super) fn send_bye(&mut self, now: Instant, call: CallHandle) {
        let transport = self.call_transport(call);
        let via = self.new_via_over(transport);
        let contact = self.contact_over(transport);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(dialog) = c.dialog.as_mut() else {
            return;
        };
        let bye = dialog.request(Method::Bye, via, &contact, None);
        let dst = dialog.next_hop();
        c.state = CallState::Terminating;
        c.stop_ok_retransmit();
        self.start_client(now, bye, dst, Some(call), Purpose::Bye);
    }

    pub(super) fn handle_response(&mut self, now: Instant, response: Response) {
        // §8.1.3.3: a response with more than one Via was not meant for us (RFC 4475 §3.3.10).
        if response.headers.list("Via").count() != 1 {
            return;
        }
        let Some(key) = TransactionKey::for_response(&response) else {
            return;
        };
        if let Some(entry) = self.clients.get_mut(&key) {
            match &mut entry.tx {
                ClientTx::Invite(t) => t.handle_response(now, response),
                ClientTx::NonInvite(t) => t.handle_response(now, response),
            }
            self.drain_client(now, &key);
            return;
        }
        // A 2xx retransmitted after the transaction ended: re-ACK within the dialog.
        let is_invite_2xx = response.status.is_success()
            && response.cseq().is_some_and(|c| c.method == Method::Invite);
        if is_invite_2xx {
            let tags = response.from().and_then(|f| f.tag().map(str::to_string));
            let remote = response.to().and_then(|t| t.tag().map(str::to_string));
            if let Some(call) =
                tags.and_then(|t| self.find_dialog(response.call_id(), &t, remote.as_deref()))
            {
                self.on_invite_success(now, call, response);
            }
        }
    }

    pub(super) fn on_client_timeout(
        &mut self,
        now: Instant,
        purpose: Purpose,
        call: Option<CallHandle>,
    ) {
        match (purpose, call) {
            (Purpose::Invite, Some(call)) => {
                let already = self.calls.get(&call).is_some_and(|c| !c.state.is_ringing());
                if !already && !self.fail_over(now, call, "no final response") {
                    self.events.push_back(Event::Failed {
                        call,
                        status: StatusCode::REQUEST_TIMEOUT,
                        reason: "no final response (Timer B)".into(),
                    });
                    self.terminate(now, call);
                }
            }
            (Purpose::Bye, Some(call)) => self.bye_done(now, call),
            (Purpose::Register, _) => self.on_register_timeout(now),
            _ => {}
        }
    }

    pub(super) fn on_client_response(
        &mut self,
        now: Instant,
        purpose: Purpose,
        call: Option<CallHandle>,
        key: &TransactionKey,
        response: Response,
    ) {
        match (purpose, call) {
            (Purpose::Invite, Some(call)) => self.on_invite_response(now, call, key, response),
            (Purpose::Bye, Some(call)) if response.status.is_final() => self.bye_done(now, call),
            (Purpose::Register, _) => self.on_register_response(now, response),
            _ => {}
        }
    }

    fn bye_done(&mut self, now: Instant, call: CallHandle) {
        let ending = self
            .calls
            .get(&call)
            .is_some_and(|c| c.state == CallState::Terminating);
        if ending {
            self.events.push_back(Event::Ended {
                call,
                by: Party::Local,
            });
            self.terminate(now, call);
        }
    }

    fn on_invite_response(
        &mut self,
        now: Instant,
        call: CallHandle,
        key: &TransactionKey,
        response: Response,
    ) {
        let status = response.status;
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        // A late response for an INVITE we already replaced with an authorised retry.
        if &c.invite_key != key {
            return;
        }
        if status.is_provisional() {
            if status == StatusCode::TRYING {
                return;
            }
            if c.state == CallState::Initial {
                c.state = CallState::Early;
            }
            let cancel = c.uac().is_some_and(|u| {
                u.got_provisional = true;
                u.cancel == Cancel::Wanted
            });
            let sdp = (!response.body.is_empty()).then(|| response.body.clone());
            self.events.push_back(Event::Progress { call, status, sdp });
            if cancel {
                self.send_cancel(now, call);
            }
            return;
        }
        if status.is_success() {
            self.on_invite_success(now, call, response);
            return;
        }
        if matches!(status.code(), 401 | 407) && self.retry_with_credentials(now, call, &response) {
            return;
        }
        if status == StatusCode::SERVICE_UNAVAILABLE && self.fail_over(now, call, "503") {
            return;
        }
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.state.is_ringing() {
            let reason = if response.reason.is_empty() {
                status.reason().to_string()
            } else {
                response.reason.clone()
            };
            self.events.push_back(Event::Failed {
                call,
                status,
                reason,
            });
            self.terminate(now, call);
        }
    }

    fn on_invite_success(&mut self, now: Instant, call: CallHandle, response: Response) {
        let via = self.new_via();
        let contact = self.contact();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        // A retransmitted 2xx: our ACK got lost, send it again (§13.2.2.4).
        let dst = c.dialog.as_ref().map_or(c.peer, Dialog::next_hop);
        // A UAC's dialogs go over the configured transport (no flow).
        let over_connection = self.config.transport.is_reliable();
        if let Some(ack) = c.uac().and_then(|u| u.ack.clone()) {
            self.transmit(dst, ack, over_connection);
            return;
        }
        let Some(mut dialog) = Dialog::from_response(&c.invite, &response, c.peer) else {
            return;
        };
        let seq = dialog.local_seq;
        let mut ack = dialog.request(Method::Ack, via, &contact, Some(seq));
        // The ACK carries the same credentials as the INVITE it acknowledges (§22.1).
        for name in ["Authorization", "Proxy-Authorization"] {
            if let Some(v) = c.invite.headers.get(name) {
                ack.headers.push(name, v);
            }
        }
        let dst = dialog.next_hop();
        let ack = ack.to_bytes();
        let state = dialog.state();
        c.dialog = Some(dialog);
        c.state = CallState::Confirmed;
        let cancelled = c.uac().is_some_and(|u| {
            u.ack = Some(ack.clone());
            u.cancel != Cancel::NotWanted
        });
        self.transmit(dst, ack, over_connection);
        if cancelled {
            // CANCEL lost the race with the 2xx: the call is up, so end it with BYE (§9.1).
            self.events.push_back(Event::Failed {
                call,
                status: StatusCode::REQUEST_TERMINATED,
                reason: "answered while cancelling; hung up".into(),
            });
            self.send_bye(now, call);
            if let Some(c) = self.calls.get_mut(&call) {
                c.state = CallState::Terminated {
                    purge_at: now + self.config.timers.t1x64(),
                };
            }
            self.watch_call(call);
            return;
        }
        self.events.push_back(Event::Answered {
            call,
            sdp: response.body,
            dialog: state,
        });
    }

    /// Re-sends the INVITE with an Authorization header; false when we have no
    /// credentials or the same challenge failed already.
    fn retry_with_credentials(
        &mut self,
        now: Instant,
        call: CallHandle,
        response: &Response,
    ) -> bool {
        let Some(creds) = self.config.credentials.clone() else {
            return false;
        };
        let proxy = response.status.code() == 407;
        let header = if proxy {
            "Proxy-Authenticate"
        } else {
            "WWW-Authenticate"
        };
        let Some(challenge) = response
            .headers
            .all(header)
            .find_map(|h| Challenge::parse(h).ok())
        else {
            return false;
        };
        let cnonce = self.random_hex(16);
        let via = self.new_via();
        let Some(c) = self.calls.get_mut(&call) else {
            return false;
        };
        let Some(uac) = c.uac() else {
            return false;
        };
        if let Some(prev) = &uac.auth {
            // Same nonce rejected again and not stale: the password is wrong.
            if prev.challenge.nonce == challenge.nonce || !challenge.stale {
                return false;
            }
        }
        let mut invite = with_new_via(&c.invite, &via.to_string());
        let seq = invite.cseq().map(|s| s.seq).unwrap_or(1) + 1;
        invite.headers.set("CSeq", format!("{seq} INVITE"));
        let value = challenge.authorization(&creds, "INVITE", &invite.uri.to_string(), 1, &cnonce);
        let auth_header = if proxy {
            "Proxy-Authorization"
        } else {
            "Authorization"
        };
        invite.headers.set(auth_header, value);
        let Some(key) = client_key(&invite) else {
            return false;
        };
        c.invite = invite.clone();
        c.invite_key = key;
        if let Some(uac) = c.uac() {
            uac.auth = Some(AuthState { challenge });
        }
        let dst = c.peer;
        self.start_client(now, invite, dst, Some(call), Purpose::Invite);
        true
    }

    /// Sends the INVITE, as a new transaction (a new Via branch, RFC 3263 §4.3),
    /// to the next of the proxy's addresses, if there is one and the call is
    /// still wanted; false otherwise (the caller reports the failure).
    fn fail_over(&mut self, now: Instant, call: CallHandle, why: &str) -> bool {
        let via = self.new_via().to_string();
        let Some(c) = self.calls.get_mut(&call) else {
            return false;
        };
        if !c.state.is_ringing() {
            return false;
        }
        let Some(uac) = c.uac() else {
            return false;
        };
        if uac.cancel != Cancel::NotWanted {
            return false;
        }
        let Some(next) = uac.alternates.pop_front() else {
            return false;
        };
        uac.got_provisional = false;
        let invite = with_new_via(&c.invite, &via);
        let Some(key) = client_key(&invite) else {
            return false;
        };
        tracing::info!(from = %c.peer, to = %next, why, "INVITE failed over to the proxy's next address");
        c.invite = invite.clone();
        c.invite_key = key;
        c.peer = next;
        c.state = CallState::Initial;
        self.start_client(now, invite, next, Some(call), Purpose::Invite);
        true
    }

    /// Whether an outgoing INVITE transaction is still alive (tests and the driver).
    pub fn invite_in_progress(&self, call: CallHandle) -> bool {
        self.calls.get(&call).is_some_and(|c| {
            matches!(
                self.clients.get(&c.invite_key).map(|e| &e.tx),
                Some(ClientTx::Invite(_))
            )
        })
    }
}

/// `request` with `via` as its only Via: the same request as a new transaction.
fn with_new_via(request: &Request, via: &str) -> Request {
    let mut out = request.clone();
    let mut headers = Headers::new();
    headers.push("Via", via.to_string());
    for h in request
        .headers
        .iter()
        .filter(|h| !h.name.eq_ignore_ascii_case("via"))
    {
        headers.push(&h.name, h.value.clone());
    }
    out.headers = headers;
    out
}

pub(super) fn client_key(request: &Request) -> Option<TransactionKey> {
    let via = request.top_via()?;
    Some(TransactionKey::Rfc3261 {
        branch: via.branch()?.to_string(),
        sent_by: via.sent_by(),
        method: request.method.clone(),
    })
}
