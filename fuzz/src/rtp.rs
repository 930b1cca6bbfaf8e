//! `RtpPacket::parse` on arbitrary datagrams and serialise → parse round trips.
//!
//! Properties: no panic; a parsed packet re-serialised (header extension and
//! padding are dropped by design, see rtp.rs) parses to the same header and payload;
//! the RTP/RTCP demultiplexer agrees with itself on the re-serialised packet.

use voxhire_media::rtp::{looks_like_rtcp, RtpPacket, FIXED_HEADER_LEN};

/// Checks the properties above on one input; panics on a violation.
pub fn check(data: &[u8]) {
    let _ = looks_like_rtcp(data);
    let Ok(pkt) = RtpPacket::parse(data) else {
        return;
    };
    assert!(pkt.header.payload_type < 128);
    assert!(pkt.header.csrc.len() <= 15);
    assert!(FIXED_HEADER_LEN + 4 * pkt.header.csrc.len() + pkt.payload.len() <= data.len());

    let bytes = pkt.header.serialize(pkt.payload);
    let again = RtpPacket::parse(&bytes).expect("a serialised packet parses");
    assert_eq!(again.header, pkt.header);
    assert_eq!(again.payload, pkt.payload);
    assert_eq!(again.header.serialize(again.payload), bytes);
    // The second octet is marker|PT, so a packet RTP parsed keeps its demux verdict
    // when written without extension or padding.
    assert_eq!(looks_like_rtcp(&bytes), looks_like_rtcp(data));
}
