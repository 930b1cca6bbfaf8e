//! RTP packet parsing and serialisation (RFC 3550 §5.1).
//!
//! Own parser rather than webrtc-rs's `rtp` crate: the fixed header is twelve bytes and
//! the whole job is ~100 lines, while `rtp` 0.17 drags in `bytes`, `webrtc-util`,
//! `rand` 0.8 and allocates a `Bytes` per packet. Here a parsed packet borrows its
//! payload from the datagram, so the receive path does not copy.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           timestamp                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           synchronization source (SSRC) identifier            |
//! +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
//! |            contributing source (CSRC) identifiers             |
//! |                             ....                              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use thiserror::Error;

/// The only RTP version in use (RFC 3550 §5.1).
pub const RTP_VERSION: u8 = 2;
/// Size of the fixed header, before CSRCs and extension.
pub const FIXED_HEADER_LEN: usize = 12;

/// Why a datagram is not a valid RTP packet. Every variant is the peer's fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RtpError {
    #[error("datagram of {0} bytes is shorter than the 12-byte RTP header")]
    TooShort(usize),
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    #[error("CSRC list or header extension runs past the end of the datagram")]
    TruncatedHeader,
    #[error("padding count {padding} does not fit a {available}-byte payload")]
    BadPadding { padding: usize, available: usize },
}

/// The RTP header fields voxhire uses. Header extensions are skipped on parse and
/// never written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpHeader {
    pub marker: bool,
    /// 7-bit payload type.
    pub payload_type: u8,
    pub sequence_number: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    /// Contributing sources (at most 15); empty for a plain two-party call.
    pub csrc: Vec<u32>,
}

/// A parsed RTP packet borrowing its payload (padding removed) from the datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub header: RtpHeader,
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses one RTP packet. Never panics, whatever the bytes.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtpError> {
        if buf.len() < FIXED_HEADER_LEN {
            return Err(RtpError::TooShort(buf.len()));
        }
        let version = buf[0] >> 6;
        if version != RTP_VERSION {
            return Err(RtpError::BadVersion(version));
        }
        let has_padding = buf[0] & 0x20 != 0;
        let has_extension = buf[0] & 0x10 != 0;
        let csrc_count = usize::from(buf[0] & 0x0f);

        let mut offset = FIXED_HEADER_LEN;
        let csrc_end = offset + 4 * csrc_count;
        let csrc_bytes = buf.get(offset..csrc_end).ok_or(RtpError::TruncatedHeader)?;
        let csrc = csrc_bytes.chunks_exact(4).map(be_u32).collect();
        offset = csrc_end;

        if has_extension {
            // RFC 3550 §5.3.1: 16-bit profile-defined id, 16-bit length in 32-bit words
            // excluding this 4-byte extension header.
            let ext = buf
                .get(offset..offset + 4)
                .ok_or(RtpError::TruncatedHeader)?;
            let words = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
            offset += 4 + 4 * words;
            if offset > buf.len() {
                return Err(RtpError::TruncatedHeader);
            }
        }

        let mut end = buf.len();
        if has_padding {
            // RFC 3550 §5.1: the last octet counts the padding octets, itself included.
            let padding = usize::from(buf[end - 1]);
            let available = end - offset;
            if padding == 0 || padding > available {
                return Err(RtpError::BadPadding { padding, available });
            }
            end -= padding;
        }

        Ok(Self {
            header: RtpHeader {
                marker: buf[1] & 0x80 != 0,
                payload_type: buf[1] & 0x7f,
                sequence_number: u16::from_be_bytes([buf[2], buf[3]]),
                timestamp: be_u32(&buf[4..8]),
                ssrc: be_u32(&buf[8..12]),
                csrc,
            },
            payload: &buf[offset..end],
        })
    }
}

impl RtpHeader {
    /// Serialises this header followed by `payload` into a new datagram.
    /// The CSRC list is truncated to 15 entries, the most the CC field can count.
    pub fn serialize(&self, payload: &[u8]) -> Vec<u8> {
        let csrc = &self.csrc[..self.csrc.len().min(15)];
        let mut out = Vec::with_capacity(FIXED_HEADER_LEN + 4 * csrc.len() + payload.len());
        // `csrc.len() <= 15`, so the cast is lossless.
        out.push(RTP_VERSION << 6 | csrc.len() as u8);
        out.push(u8::from(self.marker) << 7 | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence_number.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        for id in csrc {
            out.extend_from_slice(&id.to_be_bytes());
        }
        out.extend_from_slice(payload);
        out
    }
}

/// RFC 5761 §4: with RTP and RTCP multiplexed on one port, the second octet of an
/// RTCP packet (its packet type) falls in 192..=223, which RTP payload types avoid.
pub fn looks_like_rtcp(buf: &[u8]) -> bool {
    matches!(buf.get(1), Some(192..=223))
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> RtpHeader {
        RtpHeader {
            marker: true,
            payload_type: 0,
            sequence_number: 0xfffe,
            timestamp: 0x0102_0304,
            ssrc: 0xdead_beef,
            csrc: vec![],
        }
    }

    #[test]
    fn round_trip() {
        let bytes = header().serialize(&[1, 2, 3]);
        assert_eq!(
            bytes,
            [0x80, 0x80, 0xff, 0xfe, 1, 2, 3, 4, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]
        );
        let pkt = RtpPacket::parse(&bytes).unwrap();
        assert_eq!(pkt.header, header());
        assert_eq!(pkt.payload, &[1, 2, 3]);
    }

    #[test]
    fn csrc_round_trip() {
        let h = RtpHeader {
            csrc: vec![7, 8],
            ..header()
        };
        let bytes = h.serialize(&[9]);
        assert_eq!(bytes[0], 0x82);
        let pkt = RtpPacket::parse(&bytes).unwrap();
        assert_eq!(pkt.header.csrc, vec![7, 8]);
        assert_eq!(pkt.payload, &[9]);
    }

    #[test]
    fn skips_header_extension_and_strips_padding() {
        let mut bytes = header().serialize(&[]);
        bytes[0] |= 0x30; // padding + extension
        bytes.extend_from_slice(&[0xbe, 0xde, 0x00, 0x01, 0xaa, 0xbb, 0xcc, 0xdd]);
        bytes.extend_from_slice(&[5, 6, 7]); // payload
        bytes.extend_from_slice(&[0, 0, 3]); // three octets of padding
        let pkt = RtpPacket::parse(&bytes).unwrap();
        assert_eq!(pkt.payload, &[5, 6, 7]);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(RtpPacket::parse(&[0x80; 5]), Err(RtpError::TooShort(5)));
        let mut bytes = header().serialize(&[1]);
        bytes[0] = 0x40;
        assert_eq!(RtpPacket::parse(&bytes), Err(RtpError::BadVersion(1)));
        bytes[0] = 0x8f; // 15 CSRCs announced, none present
        assert_eq!(RtpPacket::parse(&bytes), Err(RtpError::TruncatedHeader));
        bytes[0] = 0x90; // extension announced, not present
        assert_eq!(RtpPacket::parse(&bytes), Err(RtpError::TruncatedHeader));
        bytes[0] = 0xa0; // padding of 1 byte == the payload byte 1: ok
        assert_eq!(RtpPacket::parse(&bytes).unwrap().payload, &[] as &[u8]);
        *bytes.last_mut().unwrap() = 2; // padding longer than the payload
        assert!(matches!(
            RtpPacket::parse(&bytes),
            Err(RtpError::BadPadding { .. })
        ));
        *bytes.last_mut().unwrap() = 0;
        assert!(RtpPacket::parse(&bytes).is_err());
    }

    #[test]
    fn never_panics_on_any_short_prefix_of_any_header_byte() {
        let base = RtpHeader {
            csrc: vec![1, 2, 3],
            ..header()
        }
        .serialize(&[0u8; 40]);
        for first in 0..=255u8 {
            let mut b = base.clone();
            b[0] = first;
            for len in 0..b.len() {
                let _ = RtpPacket::parse(&b[..len]);
            }
        }
    }

    #[test]
    fn rtcp_demux() {
        assert!(looks_like_rtcp(&[0x80, 200]));
        assert!(!looks_like_rtcp(&[0x80, 0x80]));
        assert!(!looks_like_rtcp(&[0x80]));
    }
}
