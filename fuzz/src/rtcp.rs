//! `rtcp::parse_compound` on arbitrary datagrams and serialise → parse round trips.
//!
//! Properties: no panic; what parsed serialises to a compound that parses again.
//! Exact equality holds when every text (SDES CNAME, BYE reason) is valid UTF-8 of at
//! most 255 bytes: the parser decodes text lossily (an invalid byte becomes U+FFFD, 3
//! bytes) and the writer cuts text at 255 bytes on a char boundary, so a long or
//! non-UTF-8 text legitimately changes once. After that first round the packets are
//! a fixpoint, which is asserted for every input.

use voxhire_media::rtcp::{parse_compound, serialize_compound, RtcpPacket};

/// Checks the properties above on one input; panics on a violation.
pub fn check(data: &[u8]) {
    let Ok(packets) = parse_compound(data) else {
        return;
    };
    let bytes = serialize_compound(&packets);
    assert_eq!(bytes.len() % 4, 0, "RTCP packets are whole 32-bit words");
    if packets.is_empty() {
        // Only skipped packet types (APP, XR, feedback …): nothing is written.
        assert!(bytes.is_empty());
        return;
    }
    let again = parse_compound(&bytes).expect("a serialised compound parses");
    if texts_survive(&packets) {
        assert_eq!(again, packets, "RTCP serialise → parse changed the packets");
    } else {
        assert_eq!(again.len(), packets.len());
    }
    let bytes2 = serialize_compound(&again);
    assert_eq!(
        bytes2, bytes,
        "serialising is not a fixpoint after one round"
    );
    assert_eq!(parse_compound(&bytes2).unwrap(), again);
}

fn texts_survive(packets: &[RtcpPacket]) -> bool {
    packets.iter().all(|p| match p {
        RtcpPacket::SourceDescription(chunks) => chunks.iter().all(|(_, c)| c.len() <= 255),
        RtcpPacket::Bye { reason, .. } => reason.as_ref().is_none_or(|r| r.len() <= 255),
        _ => true,
    })
}
