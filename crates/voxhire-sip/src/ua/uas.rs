//! The UAS half: what the UA does with a received request (RFC 3261 §8.2, §12.2.2,
//! §9.2, §15.1.2) and how the application answers a call.

use std::net::SocketAddr;
use std::time::Instant;

use super::{
    reliable_via, response_addr, stamp_via, Call, CallHandle, CallState, Event, OkRetransmit,
    Party, ServerEntry, ServerTx, Side, UasState, UserAgent, ALLOW,
};
use crate::dialog::Dialog;
use crate::message::{Request, Response};
use crate::transaction::{InviteServerTransaction, NonInviteServerTransaction, TransactionKey};
use crate::{Method, StatusCode};

/// Option tags we implement (none yet): anything in Require gets 420 (§8.2.2.3).
const SUPPORTED_EXTENSIONS: &[&str] = &[];

impl UserAgent {
    pub(super) fn handle_request(&mut self, now: Instant, src: SocketAddr, request: Request) {
        let Some(key) = TransactionKey::for_request(&request) else {
            return;
        };
        // Retransmissions and the ACK of a non-2xx final belong to an existing transaction.
        if let Some(entry) = self.servers.get_mut(&key) {
            match &mut entry.tx {
                ServerTx::Invite(t) => {
                    t.handle_request(now, &request);
                }
                ServerTx::NonInvite(t) if request.method != Method::Ack => {
                    t.handle_retransmission()
                }
                ServerTx::NonInvite(_) => {}
            }
            self.drain_server(&key);
            return;
        }
        match request.method {
            Method::Ack => self.handle_ack_2xx(&request),
            Method::Cancel => self.handle_cancel(now, src, key, &request),
            _ => self.handle_new_request(now, src, key, request),
        }
    }

    fn handle_new_request(
        &mut self,
        now: Instant,
        src: SocketAddr,
        key: TransactionKey,
        request: Request,
    ) {
        let top_via = request.top_via();
        let dst = response_addr(top_via.as_ref(), src);
        // The request came over the transport its top Via names (§18.2.1); over a
        // reliable one the transaction neither retransmits nor absorbs.
        let reliable = top_via.as_ref().is_some_and(reliable_via);
        let timers = self.config.timers.over(reliable);
        let tx = match request.method {
            Method::Invite => ServerTx::Invite(Box::new(InviteServerTransaction::new(
                request.clone(),
                timers,
            ))),
            _ => ServerTx::NonInvite(Box::new(NonInviteServerTransaction::new(timers))),
        };
        self.servers.insert(key.clone(), ServerEntry { tx, dst });

        if let Some((status, extra)) = self.screen(&request) {
            let mut response = self.response(&request, status, src, None);
            for (name, value) in extra {
                response.headers.push(name, value);
            }
            self.respond(now, &key, &response);
            return;
        }

        let to_tag = request.to().and_then(|t| t.tag().map(str::to_string));
        if let Some(local_tag) = to_tag {
            self.handle_in_dialog(now, src, key, request, &local_tag);
            return;
        }
        match request.method {
            Method::Options => {
                let mut r = self.response(&request, StatusCode::OK, src, None);
                r.headers.push("Allow", ALLOW);
                r.headers.push("Accept", "application/sdp");
                self.respond(now, &key, &r);
            }
            Method::Invite => self.handle_invite(now, src, key, request),
            _ => {
                // BYE and friends outside a dialog (§12.2.2 / §15.1.2).
                let r = self.response(&request, StatusCode::CALL_DOES_NOT_EXIST, src, None);
                self.respond(now, &key, &r);
            }
        }
    }

    /// The checks of RFC 3261 §8.2.1–§8.2.3, in order: the refusal, if any, with
    /// the headers the RFC wants on it.
    fn screen(&self, request: &Request) -> Option<(StatusCode, Vec<(&'static str, String)>)> {
        let allow = || vec![("Allow", ALLOW.to_string())];
        let supported = matches!(
            request.method,
            Method::Invite | Method::Ack | Method::Bye | Method::Cancel | Method::Options
        );
        if !request.method.is_known() {
            return Some((StatusCode::NOT_IMPLEMENTED, allow()));
        }
        if !supported {
            return Some((StatusCode::METHOD_NOT_ALLOWED, allow()));
        }
        if request.uri.sip().is_none() {
            return Some((StatusCode::UNSUPPORTED_URI_SCHEME, Vec::new()));
        }
        let unsupported: Vec<&str> = request
            .headers
            .list("Require")
            .filter(|tag| !tag.is_empty() && !SUPPORTED_EXTENSIONS.contains(tag))
            .collect();
        if !unsupported.is_empty() {
            return Some((
                StatusCode::BAD_EXTENSION,
                vec![("Unsupported", unsupported.join(", "))],
            ));
        }
        if request.method == Method::Invite {
            // §8.2.3 / RFC 4475 §3.3.15: we can only answer with SDP.
            let accepts: Vec<&str> = request
                .headers
                .list("Accept")
                .filter(|a| !a.is_empty())
                .collect();
            let sdp_ok = |a: &&str| {
                let mt = a
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                mt == "application/sdp" || mt == "application/*" || mt == "*/*"
            };
            if request.headers.count("Accept") > 0 && !accepts.iter().any(sdp_ok) {
                return Some((
                    StatusCode::NOT_ACCEPTABLE,
                    vec![("Accept", "application/sdp".into())],
                ));
            }
            let content_type = request
                .headers
                .get("Content-Type")
                .unwrap_or("application/sdp");
            let is_sdp = content_type
                .split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/sdp"));
            if !request.body.is_empty() && !is_sdp {
                return Some((
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    vec![("Accept", "application/sdp".into())],
                ));
            }
        }
        None
    }

    fn handle_invite(
        &mut self,
        now: Instant,
        src: SocketAddr,
        key: TransactionKey,
        request: Request,
    ) {
        let handle = self.new_handle();
        let local_tag = self.new_tag();
        let local_seq = self.rng_seq();
        let Some(dialog) = Dialog::from_request(&request, &local_tag, local_seq, src) else {
            let r = self.response(&request, StatusCode::BAD_REQUEST, src, None);
            self.respond(now, &key, &r);
            return;
        };
        let (Some(from), Some(to)) = (request.from(), request.to()) else {
            return;
        };
        // The transaction's own 100 Trying goes out now (§17.2.1).
        self.drain_server(&key);
        let offer = (!request.body.is_empty()).then(|| request.body.clone());
        self.events.push_back(Event::IncomingCall {
            call: handle,
            call_id: request.call_id().to_string(),
            from,
            to,
            offer,
        });
        self.calls.insert(
            handle,
            Call {
                state: CallState::Initial,
                side: Side::Uas(UasState::default()),
                call_id: request.call_id().to_string(),
                local_tag,
                peer: src,
                dialog: Some(dialog),
                invite: request,
                invite_key: key,
                local_sdp: Vec::new(),
                sdp_version: 0,
            },
        );
    }

    fn handle_in_dialog(
        &mut self,
        now: Instant,
        src: SocketAddr,
        key: TransactionKey,
        request: Request,
        local_tag: &str,
    ) {
        let remote_tag = request.from().and_then(|f| f.tag().map(str::to_string));
        let found = self.find_dialog(request.call_id(), local_tag, remote_tag.as_deref());
        let Some(handle) =
            found.filter(|h| self.calls.get(h).is_some_and(|c| !c.state.is_terminated()))
        else {
            let r = self.response(&request, StatusCode::CALL_DOES_NOT_EXIST, src, None);
            self.respond(now, &key, &r);
            return;
        };
        let seq = request.cseq().map(|c| c.seq).unwrap_or_default();
        let in_order = self
            .calls
            .get_mut(&handle)
            .and_then(|c| c.dialog.as_mut())
            .is_some_and(|d| d.accept_remote_seq(seq, &request.method));
        if !in_order {
            let r = self.response(
                &request,
                StatusCode::SERVER_INTERNAL_ERROR,
                src,
                Some(local_tag),
            );
            self.respond(now, &key, &r);
            return;
        }
        match request.method {
            Method::Bye => {
                let r = self.response(&request, StatusCode::OK, src, Some(local_tag));
                self.respond(now, &key, &r);
                // BYE glare: if ours is in flight too, the call still ends exactly once,
                // credited to whoever hung up first.
                let ours_first = self
                    .calls
                    .get(&handle)
                    .is_some_and(|c| c.state == CallState::Terminating);
                let by = if ours_first {
                    Party::Local
                } else {
                    Party::Remote
                };
                self.events.push_back(Event::Ended { call: handle, by });
                self.terminate(now, handle);
            }
            Method::Invite => self.handle_reinvite(now, src, key, request, handle),
            _ => {
                let mut r = self.response(&request, StatusCode::OK, src, Some(local_tag));
                r.headers.push("Allow", ALLOW);
                self.respond(now, &key, &r);
            }
        }
    }

    /// §14.2: a re-INVITE is answered with our current SDP (new version); the new
    /// remote SDP goes to the application, which moves its media.
    fn handle_reinvite(
        &mut self,
        now: Instant,
        src: SocketAddr,
        key: TransactionKey,
        request: Request,
        handle: CallHandle,
    ) {
        let contact = self.contact_over(self.call_transport(handle));
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if let Some(d) = call.dialog.as_mut() {
            d.refresh_target(&request.headers);
        }
        call.sdp_version += 1;
        let body = bump_sdp_version(&call.local_sdp, call.sdp_version);
        let local_tag = call.local_tag.clone();
        let mut r = self.response(&request, StatusCode::OK, src, Some(&local_tag));
        r.headers.push("Contact", contact);
        if !body.is_empty() {
            r.headers.push("Content-Type", "application/sdp");
            r.body = body;
        }
        self.respond(now, &key, &r);
        self.start_ok_retransmit(now, handle, &r);
        if !request.body.is_empty() {
            self.events.push_back(Event::RemoteSdp {
                call: handle,
                sdp: request.body,
            });
        }
    }

    fn handle_ack_2xx(&mut self, request: &Request) {
        let (Some(to), Some(from)) = (request.to(), request.from()) else {
            return;
        };
        let Some(local_tag) = to.tag() else { return };
        let Some(handle) = self.find_dialog(request.call_id(), local_tag, from.tag()) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if call.stop_ok_retransmit() && call.state == CallState::Confirmed {
            self.events.push_back(Event::Confirmed { call: handle });
        }
    }

    /// §9.2: CANCEL matches the INVITE's server transaction; if that is still pending
    /// it ends with 487, and the CANCEL itself always gets 200 when matched.
    fn handle_cancel(
        &mut self,
        now: Instant,
        src: SocketAddr,
        key: TransactionKey,
        request: &Request,
    ) {
        let invite_key = match &key {
            TransactionKey::Rfc3261 {
                branch, sent_by, ..
            } => TransactionKey::Rfc3261 {
                branch: branch.clone(),
                sent_by: sent_by.clone(),
                method: Method::Invite,
            },
            TransactionKey::Rfc2543 {
                call_id,
                from_tag,
                cseq,
                sent_by,
                ..
            } => TransactionKey::Rfc2543 {
                call_id: call_id.clone(),
                from_tag: from_tag.clone(),
                cseq: *cseq,
                sent_by: sent_by.clone(),
                method: Method::Invite,
            },
        };
        let dst = response_addr(request.top_via().as_ref(), src);
        self.servers.insert(
            key.clone(),
            ServerEntry {
                tx: ServerTx::NonInvite(Box::new(NonInviteServerTransaction::new(
                    self.config.timers,
                ))),
                dst,
            },
        );
        let pending = self.servers.get(&invite_key).is_some_and(|e| match &e.tx {
            ServerTx::Invite(t) => t.is_pending(),
            ServerTx::NonInvite(_) => false,
        });
        let call = self
            .calls
            .iter()
            .find(|(_, c)| c.invite_key == invite_key && c.role() == Party::Remote)
            .map(|(h, c)| (*h, c.local_tag.clone()));
        let status = if self.servers.contains_key(&invite_key) {
            StatusCode::OK
        } else {
            StatusCode::CALL_DOES_NOT_EXIST
        };
        let tag = call.as_ref().map(|(_, t)| t.as_str());
        let r = self.response(request, status, src, tag);
        self.respond(now, &key, &r);
        if let (true, Some((handle, tag))) = (pending, call) {
            let invite = self.calls.get(&handle).map(|c| c.invite.clone());
            if let Some(invite) = invite {
                let r = self.response(&invite, StatusCode::REQUEST_TERMINATED, src, Some(&tag));
                self.respond(now, &invite_key, &r);
            }
            self.events.push_back(Event::Cancelled { call: handle });
            self.terminate(now, handle);
        }
    }

    /// A response to `request` (§8.2.6): copied headers, a To tag when given, our
    /// `received`/`rport` stamp on the top Via.
    pub(super) fn response(
        &self,
        request: &Request,
        status: StatusCode,
        src: SocketAddr,
        to_tag: Option<&str>,
    ) -> Response {
        let mut r = Response::for_request_headers(status, &request.headers);
        stamp_via(&mut r.headers, src);
        if let (Some(tag), Some(mut to)) = (to_tag, request.to()) {
            if to.tag().is_none() && status.code() > 100 {
                to.params.set("tag", Some(tag));
                r.headers.set("To", to.to_string());
            }
        }
        r.headers.push("User-Agent", self.config.user_agent.clone());
        r
    }

    fn respond(&mut self, now: Instant, key: &TransactionKey, response: &Response) {
        if let Some(entry) = self.servers.get_mut(key) {
            match &mut entry.tx {
                ServerTx::Invite(t) => t.send_response(now, response),
                ServerTx::NonInvite(t) => t.send_response(now, response),
            }
        }
        self.drain_server(key);
    }

    fn pending_uas(
        &self,
        call: CallHandle,
    ) -> Option<(TransactionKey, Request, String, SocketAddr)> {
        let c = self.calls.get(&call)?;
        if c.role() != Party::Remote || !c.state.is_ringing() {
            return None;
        }
        Some((
            c.invite_key.clone(),
            c.invite.clone(),
            c.local_tag.clone(),
            c.peer,
        ))
    }

    /// Sends 180 Ringing for an incoming call.
    pub fn ring(&mut self, now: Instant, call: CallHandle) {
        let Some((key, invite, tag, src)) = self.pending_uas(call) else {
            return;
        };
        let mut r = self.response(&invite, StatusCode::RINGING, src, Some(&tag));
        r.headers
            .push("Contact", self.contact_over(self.call_transport(call)));
        self.respond(now, &key, &r);
        if let Some(c) = self.calls.get_mut(&call) {
            c.state = CallState::Early;
        }
    }

    /// Answers an incoming call with 200 OK and our SDP answer.
    pub fn answer(&mut self, now: Instant, call: CallHandle, sdp: Vec<u8>) {
        let Some((key, invite, tag, src)) = self.pending_uas(call) else {
            return;
        };
        let mut r = self.response(&invite, StatusCode::OK, src, Some(&tag));
        // §12.1.1: Record-Route is copied into the 2xx that creates the dialog.
        for rr in invite.headers.all("Record-Route") {
            r.headers.push("Record-Route", rr);
        }
        r.headers
            .push("Contact", self.contact_over(self.call_transport(call)));
        r.headers.push("Allow", ALLOW);
        r.headers.push("Content-Type", "application/sdp");
        r.body = sdp.clone();
        self.respond(now, &key, &r);
        self.start_ok_retransmit(now, call, &r);
        if let Some(c) = self.calls.get_mut(&call) {
            c.state = CallState::Confirmed;
            c.local_sdp = sdp;
        }
    }

    /// Refuses an incoming call (486, 488, 503 + Retry-After …).
    pub fn reject(
        &mut self,
        now: Instant,
        call: CallHandle,
        status: StatusCode,
        extra_headers: &[(&str, &str)],
    ) {
        let Some((key, invite, tag, src)) = self.pending_uas(call) else {
            return;
        };
        let mut r = self.response(&invite, status, src, Some(&tag));
        for (name, value) in extra_headers {
            r.headers.push(name, *value);
        }
        self.respond(now, &key, &r);
        self.terminate(now, call);
    }

    /// §13.3.1.4: the UAS core retransmits its 2xx (T1 doubling to T2) until the ACK.
    fn start_ok_retransmit(&mut self, now: Instant, call: CallHandle, response: &Response) {
        let t = self.config.timers;
        if let Some(Call {
            side: Side::Uas(uas),
            ..
        }) = self.calls.get_mut(&call)
        {
            uas.ok_retransmit = Some(OkRetransmit {
                response: response.to_bytes(),
                next: now + t.t1,
                interval: t.t1,
                give_up: now + t.t1x64(),
            });
        }
        self.watch_call(call);
    }

    fn rng_seq(&mut self) -> u32 {
        use rand::Rng;
        self.rng.random_range(1..=0x7fff_ffff)
    }
}

/// Rewrites the o= session version of an SDP body (RFC 3264 §8: +1 per new offer/answer).
fn bump_sdp_version(sdp: &[u8], bump: u64) -> Vec<u8> {
    let Ok(mut parsed) = crate::sdp::SessionDescription::parse(sdp) else {
        return sdp.to_vec();
    };
    parsed.session_version = parsed.session_version.wrapping_add(bump);
    parsed.to_bytes()
}
