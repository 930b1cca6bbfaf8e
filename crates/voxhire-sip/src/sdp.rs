//! SDP (RFC 4566) for one audio stream, and the offer/answer model (RFC 3264).
//!
//! voxhire offers PCMU, PCMA, Opus (RFC 7587) and telephone-event (RFC 4733) and
//! answers with the first codec of the offer it supports. Only the first audio
//! m-line is used; other streams are refused with port 0 (RFC 3264 §6).
//!
//! SRTP keyed in the SDP (SDES, RFC 4568): an offer on `RTP/SAVP` with an `a=crypto`
//! line of [`SRTP_SUITE`] is answered on `RTP/SAVP` with a fresh key of ours; an
//! `RTP/SAVP` offer with no usable crypto line is refused (488), never answered in the
//! clear. A usable key on an `RTP/AVP` offer (opportunistic SRTP, RFC 8643) is taken
//! too. Our own offers are secured with [`SessionDescription::secured`]; the answer
//! to one must be `RTP/SAVP` with a key, or [`accept_answer`] refuses it.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use rand::RngCore as _;

/// An audio codec voxhire can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    Pcmu,
    Pcma,
    Opus,
}

impl Codec {
    /// RTP payload type used when offering (static for G.711, dynamic for Opus).
    pub fn default_payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
            Codec::Opus => 111,
        }
    }

    /// `encoding name/clock rate[/channels]` as in a=rtpmap.
    pub fn rtpmap(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU/8000",
            Codec::Pcma => "PCMA/8000",
            Codec::Opus => "opus/48000/2",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::Opus => "opus",
        }
    }

    pub fn from_name(name: &str) -> Option<Codec> {
        match name.to_ascii_lowercase().as_str() {
            "pcmu" => Some(Codec::Pcmu),
            "pcma" => Some(Codec::Pcma),
            "opus" => Some(Codec::Opus),
            _ => None,
        }
    }
}

pub const TELEPHONE_EVENT_PT: u8 = 101;

/// The SRTP crypto suite voxhire speaks (RFC 4568 §6.2.1): AES-128 counter mode with
/// an 80-bit HMAC-SHA1 tag, the one every SDES trunk offers.
pub const SRTP_SUITE: &str = "AES_CM_128_HMAC_SHA1_80";
/// The transport of an SRTP audio stream keyed with SDES.
pub const SAVP: &str = "RTP/SAVP";

/// An SRTP master key and salt, as SDES carries them (`inline:` + base64 of the 30
/// bytes, RFC 4568 §6.1). Printed as `SrtpKey(…)`: a key never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpKey {
    pub key: [u8; 16],
    pub salt: [u8; 14],
}

impl std::fmt::Debug for SrtpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SrtpKey(…)")
    }
}

impl SrtpKey {
    /// A fresh key from the OS's generator: one per call and direction.
    pub fn random() -> SrtpKey {
        let mut bytes = [0u8; 30];
        rand::rng().fill_bytes(&mut bytes);
        SrtpKey::from_bytes(&bytes).expect("30 bytes")
    }

    /// 30 bytes: the key, then the salt.
    fn from_bytes(bytes: &[u8]) -> Option<SrtpKey> {
        let (key, salt) = bytes.split_at_checked(16)?;
        Some(SrtpKey {
            key: key.try_into().ok()?,
            salt: salt.try_into().ok()?,
        })
    }

    /// The key as `a=crypto` writes it after `inline:`.
    pub fn to_base64(&self) -> String {
        BASE64.encode([&self.key[..], &self.salt[..]].concat())
    }

    pub fn from_base64(text: &str) -> Option<SrtpKey> {
        SrtpKey::from_bytes(&BASE64.decode(text).ok()?)
    }
}

/// The keys of a secured call: ours protects what we send, the peer's what we
/// receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrtpKeys {
    pub local: SrtpKey,
    pub remote: SrtpKey,
}

/// The first `a=crypto` line of `m` voxhire can use: its tag and key. Lines with
/// another suite, several keys, a master key identifier (our packets carry none) or
/// session parameters (which RFC 4568 §6.3.1 makes binding) are passed over.
fn usable_crypto(m: &MediaDescription) -> Option<(u32, SrtpKey)> {
    m.attribute("crypto").find_map(|v| {
        let mut fields = v.split_whitespace();
        let tag = fields.next()?.parse().ok()?;
        let suite = fields.next()?;
        let params = fields.next()?;
        if fields.next().is_some()
            || !suite.eq_ignore_ascii_case(SRTP_SUITE)
            || params.contains(';')
        {
            return None;
        }
        let mut parts = params.strip_prefix("inline:")?.split('|');
        let key = SrtpKey::from_base64(parts.next()?)?;
        // `|lifetime` is fine (a call never sends 2^48 packets); `|MKI:length` is not.
        if parts.any(|p| p.contains(':')) {
            return None;
        }
        Some((tag, key))
    })
}

fn crypto_attribute(tag: u32, key: &SrtpKey) -> String {
    format!("crypto:{tag} {SRTP_SUITE} inline:{}", key.to_base64())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    pub media: String,
    pub port: u16,
    pub proto: String,
    pub formats: Vec<String>,
    pub connection: Option<IpAddr>,
    /// `a=` lines of this section, without the `a=`.
    pub attributes: Vec<String>,
}

impl MediaDescription {
    fn attribute(&self, name: &str) -> impl Iterator<Item = &str> {
        let prefix = format!("{name}:");
        self.attributes
            .iter()
            .filter_map(move |a| a.strip_prefix(prefix.as_str()))
    }

    /// The rtpmap encoding for payload type `pt` (static types per RFC 3551 when absent).
    pub fn rtpmap(&self, pt: u8) -> Option<String> {
        let dynamic = self.attribute("rtpmap").find_map(|v| {
            let (p, enc) = v.split_once(' ')?;
            (p.trim().parse::<u8>().ok()? == pt).then(|| enc.trim().to_string())
        });
        dynamic.or(match pt {
            0 => Some("PCMU/8000".into()),
            8 => Some("PCMA/8000".into()),
            _ => None,
        })
    }

    /// The stream is secured one way or another (RTP/SAVP, RTP/SAVPF,
    /// UDP/TLS/RTP/SAVP…); of those, only an SDES key is one voxhire can use.
    pub fn is_secured(&self) -> bool {
        self.proto.to_ascii_uppercase().contains("SAVP")
    }

    pub fn direction(&self) -> Direction {
        for a in &self.attributes {
            match a.as_str() {
                "sendonly" => return Direction::SendOnly,
                "recvonly" => return Direction::RecvOnly,
                "inactive" => return Direction::Inactive,
                "sendrecv" => return Direction::SendRecv,
                _ => {}
            }
        }
        Direction::SendRecv
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    pub origin_user: String,
    pub session_id: u64,
    pub session_version: u64,
    pub origin_addr: IpAddr,
    pub connection: Option<IpAddr>,
    pub media: Vec<MediaDescription>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdpError {
    #[error("SDP is not UTF-8")]
    NotUtf8,
    #[error("SDP line {line}: {reason}")]
    Syntax { line: usize, reason: String },
    #[error("SDP has no audio stream")]
    NoAudio,
    #[error("no common codec in the offer")]
    NoCommonCodec,
    #[error("SRTP offered with no {SRTP_SUITE} key voxhire can use")]
    NoUsableCrypto,
    #[error("the answer does not secure the stream our SRTP offer asked for")]
    SrtpRefused,
    #[error("the answer secures a stream we offered in the clear")]
    UnexpectedSrtp,
}

impl SdpError {
    /// The response to an INVITE whose offer fails this way: every SDP problem
    /// is 488 Not Acceptable Here (RFC 3261 §13.3.1.1), whether the body does
    /// not parse or offers nothing we can use.
    pub fn status(&self) -> crate::StatusCode {
        crate::StatusCode::NOT_ACCEPTABLE_HERE
    }
}

fn parse_connection(v: &str) -> Option<IpAddr> {
    let mut it = v.split_whitespace();
    let (net, _atype, addr) = (it.next()?, it.next()?, it.next()?);
    if net != "IN" {
        return None;
    }
    // Multicast TTL suffix ("/127") is not for us; strip it.
    addr.split('/').next()?.parse().ok()
}

impl SessionDescription {
    pub fn parse(bytes: &[u8]) -> Result<Self, SdpError> {
        let text = std::str::from_utf8(bytes).map_err(|_| SdpError::NotUtf8)?;
        let mut sdp = SessionDescription {
            origin_user: "-".into(),
            session_id: 0,
            session_version: 0,
            origin_addr: IpAddr::from([0, 0, 0, 0]),
            connection: None,
            media: Vec::new(),
        };
        let mut saw_version = false;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            let syntax = |reason: &str| SdpError::Syntax {
                line: i + 1,
                reason: reason.to_string(),
            };
            let (kind, value) = line
                .split_once('=')
                .filter(|(k, _)| k.len() == 1)
                .ok_or_else(|| syntax("expected <type>=<value>"))?;
            match kind {
                "v" => {
                    if value != "0" {
                        return Err(syntax("unsupported SDP version"));
                    }
                    saw_version = true;
                }
                "o" => {
                    let f: Vec<&str> = value.split_whitespace().collect();
                    if f.len() != 6 {
                        return Err(syntax("o= needs 6 fields"));
                    }
                    sdp.origin_user = f[0].to_string();
                    sdp.session_id = f[1].parse().map_err(|_| syntax("bad sess-id"))?;
                    sdp.session_version = f[2].parse().map_err(|_| syntax("bad sess-version"))?;
                    sdp.origin_addr = f[5].parse().unwrap_or(sdp.origin_addr);
                }
                "c" => {
                    let addr = parse_connection(value).ok_or_else(|| syntax("bad c= line"))?;
                    match sdp.media.last_mut() {
                        Some(m) => m.connection = Some(addr),
                        None => sdp.connection = Some(addr),
                    }
                }
                "m" => {
                    let f: Vec<&str> = value.split_whitespace().collect();
                    if f.len() < 4 {
                        return Err(syntax("m= needs media, port, proto and formats"));
                    }
                    let port = f[1]
                        .split('/')
                        .next()
                        .and_then(|p| p.parse().ok())
                        .ok_or_else(|| syntax("bad m= port"))?;
                    sdp.media.push(MediaDescription {
                        media: f[0].to_string(),
                        port,
                        proto: f[2].to_string(),
                        formats: f[3..].iter().map(|s| s.to_string()).collect(),
                        connection: None,
                        attributes: Vec::new(),
                    });
                }
                "a" => {
                    if let Some(m) = sdp.media.last_mut() {
                        m.attributes.push(value.to_string());
                    }
                }
                _ => {}
            }
        }
        if !saw_version {
            return Err(SdpError::Syntax {
                line: 1,
                reason: "missing v=0".into(),
            });
        }
        Ok(sdp)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let ip = |a: &IpAddr| if a.is_ipv4() { "IP4" } else { "IP6" };
        let mut s = String::new();
        let _ = write!(
            s,
            "v=0\r\no={} {} {} IN {} {}\r\ns=voxhire\r\n",
            self.origin_user,
            self.session_id,
            self.session_version,
            ip(&self.origin_addr),
            self.origin_addr
        );
        if let Some(c) = &self.connection {
            let _ = write!(s, "c=IN {} {c}\r\n", ip(c));
        }
        s.push_str("t=0 0\r\n");
        for m in &self.media {
            let _ = write!(
                s,
                "m={} {} {} {}\r\n",
                m.media,
                m.port,
                m.proto,
                m.formats.join(" ")
            );
            if let Some(c) = &m.connection {
                let _ = write!(s, "c=IN {} {c}\r\n", ip(c));
            }
            for a in &m.attributes {
                let _ = write!(s, "a={a}\r\n");
            }
        }
        s.into_bytes()
    }

    /// This offer secured with a fresh key when `srtp` (see [`secured`](Self::secured)),
    /// and the key, which [`accept_answer`] needs.
    #[must_use]
    pub fn secured_if(self, srtp: bool) -> (SessionDescription, Option<SrtpKey>) {
        if !srtp {
            return (self, None);
        }
        let key = SrtpKey::random();
        (self.secured(&key), Some(key))
    }

    /// This offer with its audio stream secured: `RTP/SAVP` and our key in an
    /// `a=crypto` line (tag 1).
    #[must_use]
    pub fn secured(mut self, key: &SrtpKey) -> SessionDescription {
        if let Some(m) = self
            .media
            .iter_mut()
            .find(|m| m.media == "audio" && m.port != 0)
        {
            m.proto = SAVP.into();
            m.attributes.insert(0, crypto_attribute(1, key));
        }
        self
    }

    /// The first audio stream with a non-zero port.
    pub fn audio(&self) -> Option<&MediaDescription> {
        self.media
            .iter()
            .find(|m| m.media == "audio" && m.port != 0)
    }

    /// RTP destination of the audio stream (media-level c= overrides session-level).
    pub fn audio_addr(&self) -> Option<SocketAddr> {
        let m = self.audio()?;
        let ip = m.connection.or(self.connection)?;
        Some(SocketAddr::new(ip, m.port))
    }
}

/// What a negotiation settled on; the media layer is configured from this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedAudio {
    pub codec: Codec,
    pub payload_type: u8,
    pub dtmf_payload_type: Option<u8>,
    /// Where to send RTP (unspecified address = hold, RFC 3264 §8.4).
    pub remote: SocketAddr,
    pub direction: Direction,
    /// The stream is SRTP with these keys (SDES); `None`: plain RTP.
    pub srtp: Option<SrtpKeys>,
}

/// Builds an offer for the local RTP address with the codecs in preference order.
pub fn offer(session_id: u64, rtp: SocketAddr, codecs: &[Codec]) -> SessionDescription {
    let mut formats: Vec<String> = codecs
        .iter()
        .map(|c| c.default_payload_type().to_string())
        .collect();
    formats.push(TELEPHONE_EVENT_PT.to_string());
    let mut attributes: Vec<String> = codecs
        .iter()
        .map(|c| format!("rtpmap:{} {}", c.default_payload_type(), c.rtpmap()))
        .collect();
    if codecs.contains(&Codec::Opus) {
        attributes.push(format!(
            "fmtp:{} useinbandfec=1;maxplaybackrate=16000",
            Codec::Opus.default_payload_type()
        ));
    }
    attributes.push(format!("rtpmap:{TELEPHONE_EVENT_PT} telephone-event/8000"));
    attributes.push(format!("fmtp:{TELEPHONE_EVENT_PT} 0-16"));
    attributes.push("ptime:20".into());
    attributes.push("sendrecv".into());
    SessionDescription {
        origin_user: "voxhire".into(),
        session_id,
        session_version: session_id,
        origin_addr: rtp.ip(),
        connection: Some(rtp.ip()),
        media: vec![MediaDescription {
            media: "audio".into(),
            port: rtp.port(),
            proto: "RTP/AVP".into(),
            formats,
            connection: None,
            attributes,
        }],
    }
}

fn codec_of(encoding: &str) -> Option<Codec> {
    let mut parts = encoding.split('/');
    let name = parts.next()?;
    let rate: u32 = parts.next()?.parse().ok()?;
    let codec = Codec::from_name(name)?;
    let expected = if codec == Codec::Opus { 48_000 } else { 8_000 };
    (rate == expected).then_some(codec)
}

fn telephone_event_pt(m: &MediaDescription) -> Option<u8> {
    m.formats
        .iter()
        .filter_map(|f| f.parse::<u8>().ok())
        .find(|&pt| {
            m.rtpmap(pt)
                .is_some_and(|e| e.eq_ignore_ascii_case("telephone-event/8000"))
        })
}

/// Picks the first offered codec we support and builds the answer (RFC 3264 §6).
pub fn answer(
    offer: &SessionDescription,
    session_id: u64,
    rtp: SocketAddr,
    supported: &[Codec],
) -> Result<(SessionDescription, NegotiatedAudio), SdpError> {
    let audio = offer.audio().ok_or(SdpError::NoAudio)?;
    let (pt, codec) = audio
        .formats
        .iter()
        .filter_map(|f| f.parse::<u8>().ok())
        .find_map(|pt| {
            let codec = codec_of(&audio.rtpmap(pt)?)?;
            supported.contains(&codec).then_some((pt, codec))
        })
        .ok_or(SdpError::NoCommonCodec)?;
    let dtmf = telephone_event_pt(audio);
    let remote = offer.audio_addr().ok_or(SdpError::NoAudio)?;
    // RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVP…: secured one way or another, and
    // only an SDES key is one we can use. A key on plain RTP/AVP is opportunistic
    // SRTP (RFC 8643): taken when usable, else the stream stays in the clear.
    let required = audio.is_secured();
    let srtp = match usable_crypto(audio) {
        Some((tag, remote_key)) => Some((
            tag,
            SrtpKeys {
                local: SrtpKey::random(),
                remote: remote_key,
            },
        )),
        None if required => return Err(SdpError::NoUsableCrypto),
        None => None,
    };
    let direction = match audio.direction() {
        Direction::SendOnly => Direction::RecvOnly,
        Direction::RecvOnly => Direction::SendOnly,
        d => d,
    };

    let mut formats = vec![pt.to_string()];
    let mut attributes = vec![format!("rtpmap:{pt} {}", codec.rtpmap())];
    if let Some((tag, keys)) = &srtp {
        attributes.insert(0, crypto_attribute(*tag, &keys.local));
    }
    if let Some(d) = dtmf {
        formats.push(d.to_string());
        attributes.push(format!("rtpmap:{d} telephone-event/8000"));
        attributes.push(format!("fmtp:{d} 0-16"));
    }
    attributes.push("ptime:20".into());
    attributes.push(
        match direction {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
        .into(),
    );
    let mut media = Vec::with_capacity(offer.media.len());
    let mut used = false;
    for m in &offer.media {
        if !used && m.media == "audio" && m.port != 0 {
            used = true;
            media.push(MediaDescription {
                media: "audio".into(),
                port: rtp.port(),
                proto: m.proto.clone(),
                formats: formats.clone(),
                connection: None,
                attributes: attributes.clone(),
            });
        } else {
            // RFC 3264 §6: a refused stream keeps its place with port 0.
            media.push(MediaDescription {
                media: m.media.clone(),
                port: 0,
                proto: m.proto.clone(),
                formats: m.formats.iter().take(1).cloned().collect(),
                connection: None,
                attributes: Vec::new(),
            });
        }
    }
    let answer = SessionDescription {
        origin_user: "voxhire".into(),
        session_id,
        session_version: session_id,
        origin_addr: rtp.ip(),
        connection: Some(rtp.ip()),
        media,
    };
    let negotiated = NegotiatedAudio {
        codec,
        payload_type: pt,
        dtmf_payload_type: dtmf,
        remote,
        direction,
        srtp: srtp.map(|(_, keys)| keys),
    };
    Ok((answer, negotiated))
}

/// Reads the answer to our offer: the codec the peer picked must be one we offered,
/// and the stream is secured exactly when we offered it so (`our_key`: the key of
/// [`SessionDescription::secured`]).
pub fn accept_answer(
    answer: &SessionDescription,
    offered: &[Codec],
    our_key: Option<&SrtpKey>,
) -> Result<NegotiatedAudio, SdpError> {
    let audio = answer.audio().ok_or(SdpError::NoAudio)?;
    let secured = audio.is_secured();
    let srtp = match our_key {
        Some(local) if secured => Some(SrtpKeys {
            local: local.clone(),
            remote: usable_crypto(audio).ok_or(SdpError::NoUsableCrypto)?.1,
        }),
        Some(_) => return Err(SdpError::SrtpRefused),
        None if secured => return Err(SdpError::UnexpectedSrtp),
        None => None,
    };
    let (payload_type, codec) = audio
        .formats
        .iter()
        .filter_map(|f| f.parse::<u8>().ok())
        .find_map(|pt| {
            let codec = codec_of(&audio.rtpmap(pt)?)?;
            offered.contains(&codec).then_some((pt, codec))
        })
        .ok_or(SdpError::NoCommonCodec)?;
    Ok(NegotiatedAudio {
        codec,
        payload_type,
        dtmf_payload_type: telephone_event_pt(audio),
        remote: answer.audio_addr().ok_or(SdpError::NoAudio)?,
        direction: audio.direction(),
        srtp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Codec; 3] = [Codec::Pcmu, Codec::Pcma, Codec::Opus];

    #[test]
    fn offer_answer_picks_first_common_codec() {
        let ours = offer(
            7,
            "127.0.0.1:40000".parse().unwrap(),
            &[Codec::Opus, Codec::Pcma, Codec::Pcmu],
        );
        let parsed = SessionDescription::parse(&ours.to_bytes()).unwrap();
        assert_eq!(parsed, ours);
        let (ans, neg) = answer(&parsed, 9, "127.0.0.1:41000".parse().unwrap(), &ALL).unwrap();
        assert_eq!(neg.codec, Codec::Opus);
        assert_eq!(neg.payload_type, 111);
        assert_eq!(neg.dtmf_payload_type, Some(101));
        assert_eq!(neg.remote, "127.0.0.1:40000".parse().unwrap());
        let back = accept_answer(
            &SessionDescription::parse(&ans.to_bytes()).unwrap(),
            &ALL,
            None,
        )
        .unwrap();
        assert_eq!(back.codec, Codec::Opus);
        assert_eq!(back.remote, "127.0.0.1:41000".parse().unwrap());
    }

    #[test]
    fn opus_only_when_both_sides_have_it() {
        let theirs = offer(
            1,
            "127.0.0.1:4000".parse().unwrap(),
            &[Codec::Opus, Codec::Pcmu],
        );
        let (_, neg) = answer(
            &theirs,
            2,
            "127.0.0.1:5000".parse().unwrap(),
            &[Codec::Pcmu],
        )
        .unwrap();
        assert_eq!(neg.codec, Codec::Pcmu);
    }

    #[test]
    fn no_common_codec_and_video_refused() {
        let sdp = b"v=0\r\no=- 1 1 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.4\r\nt=0 0\r\nm=audio 49217 RTP/AVP 12\r\nm=video 3227 RTP/AVP 31\r\n";
        let o = SessionDescription::parse(sdp).unwrap();
        assert_eq!(
            answer(&o, 1, "127.0.0.1:1".parse().unwrap(), &ALL).unwrap_err(),
            SdpError::NoCommonCodec
        );
        let sdp = String::from_utf8_lossy(sdp).replace("RTP/AVP 12", "RTP/AVP 0 12");
        let o = SessionDescription::parse(sdp.as_bytes()).unwrap();
        let (ans, neg) = answer(&o, 1, "127.0.0.1:1".parse().unwrap(), &ALL).unwrap();
        assert_eq!(neg.codec, Codec::Pcmu);
        assert_eq!(neg.remote, "192.0.2.4:49217".parse().unwrap());
        assert_eq!(ans.media[1].port, 0);
    }

    #[test]
    fn media_level_connection_wins_and_garbage_errors() {
        let sdp = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8\r\nc=IN IP4 127.0.0.5\r\n";
        let o = SessionDescription::parse(sdp).unwrap();
        assert_eq!(o.audio_addr(), Some("127.0.0.5:6000".parse().unwrap()));
        assert!(SessionDescription::parse(b"garbage").is_err());
        assert!(SessionDescription::parse(b"v=0\r\nm=audio x RTP/AVP 0\r\n").is_err());
        assert!(SessionDescription::parse(&[0xff, 0xfe]).is_err());
    }

    /// RFC 4568 §6.1's example key (40 base64 characters: 30 bytes).
    const RFC_KEY: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

    fn sdes_offer(crypto_lines: &[&str]) -> SessionDescription {
        let mut text = String::from(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.3\r\nt=0 0\r\nm=audio 49170 RTP/SAVP 0\r\n",
        );
        for c in crypto_lines {
            text.push_str(&format!("a=crypto:{c}\r\n"));
        }
        SessionDescription::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn an_sdes_offer_is_answered_with_our_own_key_under_its_tag() {
        let offer = sdes_offer(&[
            // Not ours: another suite, then a key with an MKI.
            "1 AES_256_CM_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzWVNfX19zZW1jdGwgKCkgewkyMjA7",
            &format!("2 AES_CM_128_HMAC_SHA1_80 inline:{RFC_KEY}|2^20|1:32"),
            &format!("3 AES_CM_128_HMAC_SHA1_80 inline:{RFC_KEY}|2^20"),
        ]);
        let rtp: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let (answer, n) = answer(&offer, 7, rtp, &ALL).unwrap();
        let keys = n.srtp.clone().expect("secured");
        assert_eq!(keys.remote, SrtpKey::from_base64(RFC_KEY).unwrap());
        assert_ne!(keys.local, keys.remote);
        let text = String::from_utf8(answer.to_bytes()).unwrap();
        assert!(text.contains("m=audio 40000 RTP/SAVP 0"), "{text}");
        let line = format!(
            "a=crypto:3 {SRTP_SUITE} inline:{}\r\n",
            keys.local.to_base64()
        );
        assert!(text.contains(&line), "{text}");
        // The offerer reads our answer back: its key and ours, mirrored.
        let mine = SrtpKey::from_base64(RFC_KEY).unwrap();
        let back = accept_answer(
            &SessionDescription::parse(text.as_bytes()).unwrap(),
            &ALL,
            Some(&mine),
        )
        .unwrap();
        assert_eq!(
            back.srtp,
            Some(SrtpKeys {
                local: mine,
                remote: keys.local.clone()
            })
        );
        // A key never reaches a log.
        assert_eq!(format!("{:?}", keys.local), "SrtpKey(…)");
    }

    #[test]
    fn a_key_on_plain_rtp_is_opportunistic_srtp() {
        let text = sdes_offer(&[&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{RFC_KEY}")]).to_bytes();
        let text = String::from_utf8(text)
            .unwrap()
            .replace("RTP/SAVP", "RTP/AVP");
        let offer = SessionDescription::parse(text.as_bytes()).unwrap();
        let rtp: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let (ours, n) = answer(&offer, 7, rtp, &ALL).unwrap();
        let keys = n.srtp.expect("taken");
        let text = String::from_utf8(ours.to_bytes()).unwrap();
        assert!(text.contains("m=audio 40000 RTP/AVP 0"), "{text}");
        assert!(text.contains(&keys.local.to_base64()), "{text}");
        // An unusable key on plain RTP/AVP: answered in the clear, as offered.
        let text = String::from_utf8(offer.to_bytes())
            .unwrap()
            .replace("AES_CM_128", "AES_CM_999");
        let (_, n) = answer(
            &SessionDescription::parse(text.as_bytes()).unwrap(),
            7,
            rtp,
            &ALL,
        )
        .unwrap();
        assert!(n.srtp.is_none());
    }

    #[test]
    fn srtp_without_a_usable_key_is_refused_never_answered_in_the_clear() {
        let rtp: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        for lines in [
            vec![],
            vec![format!(
                "1 AES_CM_128_HMAC_SHA1_80 inline:{RFC_KEY}|2^20|1:4"
            )],
            vec!["1 AES_CM_128_HMAC_SHA1_80 inline:dG9vIHNob3J0".to_string()],
            vec![format!(
                "1 AES_CM_128_HMAC_SHA1_80 inline:{RFC_KEY} UNENCRYPTED_SRTP"
            )],
        ] {
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let err = answer(&sdes_offer(&refs), 7, rtp, &ALL).unwrap_err();
            assert_eq!(err, SdpError::NoUsableCrypto, "{lines:?}");
            assert_eq!(err.status(), crate::StatusCode::NOT_ACCEPTABLE_HERE);
        }
    }

    #[test]
    fn our_srtp_offer_needs_a_secured_answer_and_a_plain_one_a_plain_answer() {
        let key = SrtpKey::random();
        let rtp: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let ours = offer(1, rtp, &ALL).secured(&key);
        let text = String::from_utf8(ours.to_bytes()).unwrap();
        assert!(text.contains("RTP/SAVP 0 8 111 101"), "{text}");
        assert!(text.contains(&format!(
            "a=crypto:1 {SRTP_SUITE} inline:{}",
            key.to_base64()
        )));
        // A peer that answers in the clear, and one that secures what we did not.
        let (plain, _) = answer(&offer(2, rtp, &ALL), 3, rtp, &ALL).unwrap();
        assert_eq!(
            accept_answer(&plain, &ALL, Some(&key)).unwrap_err(),
            SdpError::SrtpRefused
        );
        let (secured, _) = answer(&ours, 3, rtp, &ALL).unwrap();
        assert_eq!(
            accept_answer(&secured, &ALL, None).unwrap_err(),
            SdpError::UnexpectedSrtp
        );
        assert!(accept_answer(&secured, &ALL, Some(&key))
            .unwrap()
            .srtp
            .is_some());
    }
}
