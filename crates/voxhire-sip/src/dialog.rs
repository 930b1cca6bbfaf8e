//! Dialog state (RFC 3261 §12): identifiers, CSeq, route set and remote target, and
//! construction of in-dialog requests.

use std::net::SocketAddr;

use crate::message::{Headers, NameAddr, Request, Response, Uri, Via};
use crate::ua::Transport;
use crate::Method;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
}

#[derive(Debug, Clone)]
pub struct Dialog {
    pub id: DialogId,
    /// Our From (UAC) / To (UAS) URI, with display name.
    pub local_uri: NameAddr,
    pub remote_uri: NameAddr,
    pub local_seq: u32,
    pub remote_seq: Option<u32>,
    pub remote_target: Uri,
    /// Loose routes to put in Route, in order (§12.1.1 / §12.1.2).
    pub route_set: Vec<NameAddr>,
    /// The transport address the dialog was set up with; used when neither a route
    /// nor the remote target is an IP literal this Sans-IO core can send to.
    pub peer: SocketAddr,
    /// The connection the dialog came in over, when it came over one.
    pub flow: Option<Flow>,
}

/// A connection (TCP, TLS) a dialog was set up over, as RFC 5626 calls it a flow:
/// the dialog's own requests go back over it, whatever the route set names, because
/// the peer that opened it may not be reachable any other way (a phone behind NAT, a
/// proxy that reuses its connections). Not kept in [`DialogState`]: a connection
/// does not outlive its process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    /// The connection's far end.
    pub peer: SocketAddr,
    pub transport: Transport,
}

/// What a process must keep of an established dialog to end it after it has
/// died: identifiers, URIs, the CSeq reached, the remote target, the route set
/// and the peer, as text. Written to a store when the call is answered; a
/// restarted process (or another node) ends the dialog with
/// [`crate::ua::UserAgent::end_orphan`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DialogState {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
    pub local_uri: String,
    pub remote_uri: String,
    pub local_seq: u32,
    pub remote_target: String,
    pub route_set: Vec<String>,
    pub peer: SocketAddr,
}

/// The remote target from a Contact. URI headers (`?Subject=…`) are dropped: they
/// describe a request to build, and a Request-URI must not carry them (RFC 3261
/// §19.1.5; found by fuzzing).
fn contact_uri(headers: &Headers) -> Option<Uri> {
    let mut uri = headers
        .list("Contact")
        .next()
        .and_then(NameAddr::parse)?
        .uri;
    if let Uri::Sip(sip) = &mut uri {
        sip.headers = None;
    }
    Some(uri)
}

fn record_routes(headers: &Headers) -> Vec<NameAddr> {
    headers
        .list("Record-Route")
        .filter_map(NameAddr::parse)
        .collect()
}

impl Dialog {
    /// UAS side, from the INVITE we answer (§12.1.1).
    pub fn from_request(
        request: &Request,
        local_tag: &str,
        local_seq: u32,
        peer: SocketAddr,
    ) -> Option<Dialog> {
        let from = request.from()?;
        let mut to = request.to()?;
        to.params.remove("tag");
        let mut remote_uri = from.clone();
        remote_uri.params.remove("tag");
        Some(Dialog {
            id: DialogId {
                call_id: request.call_id().to_string(),
                local_tag: local_tag.to_string(),
                remote_tag: from.tag().unwrap_or_default().to_string(),
            },
            local_uri: to,
            remote_uri,
            local_seq,
            remote_seq: request.cseq().map(|c| c.seq),
            remote_target: contact_uri(&request.headers).unwrap_or_else(|| from.uri.clone()),
            route_set: record_routes(&request.headers),
            peer,
            flow: request
                .top_via()
                .and_then(|v| Transport::from_via(&v.transport))
                .filter(|t| t.is_reliable())
                .map(|transport| Flow { peer, transport }),
        })
    }

    /// UAC side, from a 2xx (or tagged 1xx) to our INVITE (§12.1.2): the route set is
    /// the Record-Route list reversed.
    pub fn from_response(
        invite: &Request,
        response: &Response,
        peer: SocketAddr,
    ) -> Option<Dialog> {
        let mut local = invite.from()?;
        let local_tag = local.tag()?.to_string();
        local.params.remove("tag");
        let to = response.to()?;
        let remote_tag = to.tag()?.to_string();
        let mut remote_uri = to.clone();
        remote_uri.params.remove("tag");
        let mut route_set = record_routes(&response.headers);
        route_set.reverse();
        Some(Dialog {
            id: DialogId {
                call_id: invite.call_id().to_string(),
                local_tag,
                remote_tag,
            },
            local_uri: local,
            remote_uri,
            local_seq: invite.cseq()?.seq,
            remote_seq: None,
            remote_target: contact_uri(&response.headers).unwrap_or_else(|| invite.uri.clone()),
            route_set,
            peer,
            flow: None,
        })
    }

    /// The dialog as text, to keep in a store while the call is up.
    pub fn state(&self) -> DialogState {
        DialogState {
            call_id: self.id.call_id.clone(),
            local_tag: self.id.local_tag.clone(),
            remote_tag: self.id.remote_tag.clone(),
            local_uri: self.local_uri.to_string(),
            remote_uri: self.remote_uri.to_string(),
            local_seq: self.local_seq,
            remote_target: self.remote_target.to_string(),
            route_set: self.route_set.iter().map(ToString::to_string).collect(),
            peer: self.peer,
        }
    }

    /// The dialog back from [`Dialog::state`]; `None` when a URI does not parse.
    pub fn from_state(state: &DialogState) -> Option<Dialog> {
        Some(Dialog {
            id: DialogId {
                call_id: state.call_id.clone(),
                local_tag: state.local_tag.clone(),
                remote_tag: state.remote_tag.clone(),
            },
            local_uri: NameAddr::parse(&state.local_uri)?,
            remote_uri: NameAddr::parse(&state.remote_uri)?,
            local_seq: state.local_seq,
            remote_seq: None,
            remote_target: Uri::parse(&state.remote_target)?,
            route_set: state
                .route_set
                .iter()
                .map(|r| NameAddr::parse(r))
                .collect::<Option<_>>()?,
            peer: state.peer,
            flow: None,
        })
    }

    /// Where in-dialog requests go: back over the dialog's connection, else the
    /// first route, else the remote target, else the peer.
    pub fn next_hop(&self) -> SocketAddr {
        if let Some(flow) = self.flow {
            return flow.peer;
        }
        self.route_set
            .first()
            .and_then(|r| r.uri.socket_addr())
            .or_else(|| self.remote_target.socket_addr())
            .unwrap_or(self.peer)
    }

    /// Builds an in-dialog request (§12.2.1.1). ACK reuses the INVITE's CSeq number;
    /// everything else takes the next local CSeq.
    pub fn request(
        &mut self,
        method: Method,
        via: Via,
        contact: &str,
        ack_of: Option<u32>,
    ) -> Request {
        let seq = match ack_of {
            Some(seq) => seq,
            None => {
                self.local_seq = self.local_seq.wrapping_add(1);
                self.local_seq
            }
        };
        let mut headers = Headers::new();
        headers.push("Via", via.to_string());
        headers.push("Max-Forwards", "70");
        let mut from = self.local_uri.clone();
        from.params.set("tag", Some(&self.id.local_tag));
        let mut to = self.remote_uri.clone();
        // An RFC 2543 peer may have sent no From tag: then there is none to echo
        // (an empty `tag=` would not parse; found by fuzzing).
        if !self.id.remote_tag.is_empty() {
            to.params.set("tag", Some(&self.id.remote_tag));
        }
        headers.push("From", from.to_string());
        headers.push("To", to.to_string());
        headers.push("Call-ID", self.id.call_id.clone());
        headers.push("CSeq", format!("{seq} {method}"));
        for route in &self.route_set {
            headers.push("Route", route.to_string());
        }
        if matches!(method, Method::Invite) {
            headers.push("Contact", contact);
        }
        Request {
            method,
            uri: self.remote_target.clone(),
            headers,
            body: Vec::new(),
        }
    }

    /// Checks a remote in-dialog request's CSeq (§12.2.2): lower than seen → 500.
    pub fn accept_remote_seq(&mut self, seq: u32, method: &Method) -> bool {
        if matches!(method, Method::Ack | Method::Cancel) {
            return true;
        }
        match self.remote_seq {
            Some(last) if seq < last => false,
            _ => {
                self.remote_seq = Some(seq);
                true
            }
        }
    }

    /// Refreshes the remote target from a target-refresh request or response (§12.2).
    pub fn refresh_target(&mut self, headers: &Headers) {
        if let Some(uri) = contact_uri(headers) {
            self.remote_target = uri;
        }
    }
}
