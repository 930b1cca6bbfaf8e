//! `SessionDescription::parse`, the offer/answer step and print → parse round trips.
//!
//! Properties: no panic; a parsed SDP prints to text that parses to the same value;
//! `answer()` on it either refuses (no audio, no common codec) or builds an answer
//! that itself round-trips and that `accept_answer()` accepts with the codec and
//! payload type `answer()` chose.

use voxhire_sip::sdp::{accept_answer, answer, Codec, SessionDescription};

const CODECS: [Codec; 3] = [Codec::Pcmu, Codec::Pcma, Codec::Opus];

/// Checks the properties above on one input; panics on a violation.
pub fn check(data: &[u8]) {
    let Ok(offer) = SessionDescription::parse(data) else {
        return;
    };
    let printed = offer.to_bytes();
    let again = SessionDescription::parse(&printed).unwrap_or_else(|e| {
        panic!(
            "printed SDP does not parse again: {e}\n{:?}",
            String::from_utf8_lossy(&printed)
        )
    });
    assert_eq!(again, offer, "SDP print → parse changed it");
    let _ = offer.audio_addr();
    if let Some(m) = offer.audio() {
        let _ = m.direction();
        for f in &m.formats {
            if let Ok(pt) = f.parse::<u8>() {
                let _ = m.rtpmap(pt);
            }
        }
    }

    let Ok((ans, negotiated)) = answer(&offer, 1, "127.0.0.1:4000".parse().unwrap(), &CODECS)
    else {
        return;
    };
    let ans_bytes = ans.to_bytes();
    let ans_again = SessionDescription::parse(&ans_bytes).expect("our answer parses");
    assert_eq!(ans_again, ans);
    assert_eq!(
        ans.media.len(),
        offer.media.len(),
        "RFC 3264 §6: the answer has one m-line per offered m-line"
    );
    // Offered as SRTP (RTP/SAVP): we answered with our key, and the offerer (holding
    // the offer's key) reads it back. Opportunistic SRTP on RTP/AVP is one we never
    // offer ourselves, so its answer is read as an offerer in the clear would.
    let secured = offer.audio().is_some_and(|m| m.is_secured());
    let offerer_key = negotiated
        .srtp
        .as_ref()
        .filter(|_| secured)
        .map(|k| &k.remote);
    let accepted =
        accept_answer(&ans_again, &CODECS, offerer_key).expect("our own answer is acceptable");
    if secured {
        assert_eq!(
            accepted.srtp.as_ref().map(|k| &k.remote),
            negotiated.srtp.as_ref().map(|k| &k.local),
            "the offerer reads our key back"
        );
    }
    assert_eq!(accepted.codec, negotiated.codec);
    assert_eq!(accepted.payload_type, negotiated.payload_type);
    assert_eq!(accepted.dtmf_payload_type, negotiated.dtmf_payload_type);
    assert_eq!(accepted.direction, negotiated.direction);
    assert_eq!(accepted.remote, "127.0.0.1:4000".parse().unwrap());
}
