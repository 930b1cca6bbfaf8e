//! Accepting an inbound call: the offer's checks, RTP ports, the SDP answer,
//! media, 180 and 200 — and every refusal with its status — in one place, for
//! `voxhire serve` and the candidate simulator alike.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use anyhow::Result;
use voxhire_sip::sdp::{self, Codec, SdpError, SessionDescription};
use voxhire_sip::ua::CallHandle;
use voxhire_sip::StatusCode;

use crate::media_task::{MediaHandle, MediaParams, ReceivedAudio, Recording};
use crate::rtp_ports::RtpPorts;
use crate::sip_endpoint::SipEndpoint;

/// Seconds a caller refused for capacity is told to wait (Retry-After).
pub const RETRY_AFTER_SECS: u32 = 5;

/// What media an accepted call gets; asked for only once the offer is usable.
#[derive(Default)]
pub struct MediaSetup {
    pub echo: bool,
    pub recording: Option<Recording>,
    /// Whether the recording is sealed.
    pub archive: crate::archive::Archive,
    /// Every received 20 ms frame (see [`MediaHandle::start_with_tap`]).
    pub tap: Option<ReceivedAudio>,
}

/// How accepting went.
pub enum Accepted {
    /// 200 OK sent with our SDP; media runs.
    Answered {
        media: MediaHandle,
        codec: &'static str,
    },
    /// Refused with this final status (already sent).
    Refused(StatusCode),
}

/// Answers inbound calls on one SIP endpoint.
pub struct Answerer {
    pub sip: SipEndpoint,
    pub ports: Arc<RtpPorts>,
    /// The address our SDP advertises.
    pub local_ip: IpAddr,
    /// Codecs we accept, in our order of preference.
    pub codecs: Vec<Codec>,
}

impl Answerer {
    /// Refuses the call with `status`; a 503 says when to retry.
    pub async fn refuse(&self, call: CallHandle, status: StatusCode) -> Result<()> {
        let headers = if status == StatusCode::SERVICE_UNAVAILABLE {
            vec![("Retry-After".into(), RETRY_AFTER_SECS.to_string())]
        } else {
            Vec::new()
        };
        self.sip.reject(call, status, headers).await
    }

    /// Answers `call` if its offer is usable: 488 for an offer that is missing
    /// (offerless INVITEs are not supported), unparsable or without a common
    /// codec; 503 when no RTP ports are free. `setup` is called once the call
    /// will be answered.
    pub async fn accept(
        &self,
        call: CallHandle,
        call_id: &str,
        offer: Option<&[u8]>,
        setup: impl FnOnce() -> Result<MediaSetup>,
    ) -> Result<Accepted> {
        let offer = match offer.map(SessionDescription::parse) {
            Some(Ok(o)) => o,
            Some(Err(e)) => return self.refused(call, call_id, &e).await,
            None => return self.refused(call, call_id, &SdpError::NoAudio).await,
        };
        let (rtp, rtcp) = match self.ports.bind(self.local_ip).await {
            Ok(pair) => pair,
            Err(e) => {
                tracing::error!(%call_id, error = %e, "no RTP ports; 503");
                self.refuse(call, StatusCode::SERVICE_UNAVAILABLE).await?;
                return Ok(Accepted::Refused(StatusCode::SERVICE_UNAVAILABLE));
            }
        };
        let rtp_addr = SocketAddr::new(self.local_ip, rtp.local_addr()?.port());
        let (answer, negotiated) =
            match sdp::answer(&offer, rand::random::<u32>() as u64, rtp_addr, &self.codecs) {
                Ok(a) => a,
                Err(e) => return self.refused(call, call_id, &e).await,
            };
        let codec = negotiated.codec.name();
        let setup = setup()?;
        let media = MediaHandle::start_with_tap(
            rtp,
            rtcp,
            MediaParams {
                negotiated,
                echo: setup.echo,
                recording: setup.recording,
                archive: setup.archive,
                seed: rand::random(),
                call_id: call_id.to_owned(),
            },
            setup.tap,
        )?;
        self.sip.ring(call).await?;
        self.sip.answer(call, answer.to_bytes()).await?;
        Ok(Accepted::Answered { media, codec })
    }

    async fn refused(&self, call: CallHandle, call_id: &str, e: &SdpError) -> Result<Accepted> {
        let status = e.status();
        tracing::warn!(%call_id, error = %e, status = status.code(), "unusable SDP offer");
        self.refuse(call, status).await?;
        Ok(Accepted::Refused(status))
    }
}

/// A Call-ID made safe for a file name (at most `max` characters): anything
/// but letters, digits, `-`, `_` and `.` becomes `_`, and so does a leading
/// dot (no hidden files, no `..`).
pub fn file_safe(call_id: &str, max: usize) -> String {
    call_id
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if c.is_ascii_alphanumeric() || "-_".contains(c) || (c == '.' && i > 0) {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::file_safe;

    #[test]
    fn call_ids_become_file_names() {
        assert_eq!(file_safe("a1b2@127.0.0.1", 96), "a1b2_127.0.0.1");
        assert_eq!(file_safe("../../etc/passwd", 96), "_._.._etc_passwd");
        assert_eq!(file_safe("..", 96), "_.");
        assert_eq!(file_safe("abcdef", 3), "abc");
    }
}
