//! RTCP packets (RFC 3550 §6): Sender Report, Receiver Report, SDES CNAME and BYE,
//! in compound packets (§6.1).
//!
//! Parsing follows the validity checks of RFC 3550 Appendix A.2 loosely: every packet
//! must be version 2 and the packet lengths must tile the datagram exactly, or the
//! whole compound is rejected. Packet types voxhire does not use (APP, RTPFB, PSFB, XR
//! …) are skipped, and so are SDES items other than CNAME. The first packet is not
//! required to be a report, so reduced-size RTCP (RFC 5506) is accepted too.

use thiserror::Error;

const PT_SR: u8 = 200;
const PT_RR: u8 = 201;
const PT_SDES: u8 = 202;
const PT_BYE: u8 = 203;
const SDES_END: u8 = 0;
const SDES_CNAME: u8 = 1;
const REPORT_BLOCK_LEN: usize = 24;
/// The 5-bit count field limits report blocks (and BYE sources) per packet.
const MAX_COUNT: usize = 31;

/// Why a datagram is not a valid RTCP compound packet. Always the peer's fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RtcpError {
    #[error("RTCP packet shorter than its 4-byte header")]
    TooShort,
    #[error("RTCP version {0}, expected 2")]
    BadVersion(u8),
    #[error("RTCP length field runs past the end of the datagram")]
    BadLength,
    #[error("RTCP packet type {0} is too short for its count of {1}")]
    CountOverflow(u8, usize),
    #[error("RTCP padding does not fit the packet")]
    BadPadding,
}

/// One reception report (RFC 3550 §6.4.1) about the source `ssrc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Packets lost since the start, 24-bit signed (duplicates can make it negative).
    pub cumulative_lost: i32,
    /// Cycle count in the high 16 bits, highest sequence number in the low 16.
    pub extended_highest_seq: u32,
    /// Interarrival jitter in RTP timestamp units (RFC 3550 §6.4.1, A.8).
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received from `ssrc`.
    pub last_sr: u32,
    /// Delay since that SR was received, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

/// The sender information section of an SR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// 64-bit NTP timestamp: seconds since 1900 in the high word, fraction in the low.
    pub ntp_timestamp: u64,
    pub rtp_timestamp: u32,
    pub packet_count: u32,
    pub octet_count: u32,
}

/// An RTCP packet voxhire understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    SenderReport {
        ssrc: u32,
        info: SenderInfo,
        reports: Vec<ReportBlock>,
    },
    ReceiverReport {
        ssrc: u32,
        reports: Vec<ReportBlock>,
    },
    /// SDES chunks as (SSRC, CNAME) pairs; chunks without a CNAME are left out.
    SourceDescription(Vec<(u32, String)>),
    Bye {
        sources: Vec<u32>,
        reason: Option<String>,
    },
}

/// Parses a compound RTCP packet. Unknown packet types are skipped.
pub fn parse_compound(buf: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    let mut packets = Vec::new();
    let mut rest = buf;
    if rest.is_empty() {
        return Err(RtcpError::TooShort);
    }
    while !rest.is_empty() {
        let header = rest.get(..4).ok_or(RtcpError::TooShort)?;
        let version = header[0] >> 6;
        if version != 2 {
            return Err(RtcpError::BadVersion(version));
        }
        let len = 4 * (usize::from(u16::from_be_bytes([header[2], header[3]])) + 1);
        let packet = rest.get(..len).ok_or(RtcpError::BadLength)?;
        rest = &rest[len..];

        let mut body = &packet[4..];
        if header[0] & 0x20 != 0 {
            let padding = usize::from(*body.last().ok_or(RtcpError::BadPadding)?);
            if padding == 0 || padding > body.len() {
                return Err(RtcpError::BadPadding);
            }
            body = &body[..body.len() - padding];
        }
        let count = usize::from(header[0] & 0x1f);
        let packet_type = header[1];
        let overflow = || RtcpError::CountOverflow(packet_type, count);
        match packet_type {
            PT_SR => {
                let fixed = body.get(..24).ok_or_else(overflow)?;
                packets.push(RtcpPacket::SenderReport {
                    ssrc: be_u32(fixed, 0),
                    info: SenderInfo {
                        ntp_timestamp: u64::from(be_u32(fixed, 4)) << 32
                            | u64::from(be_u32(fixed, 8)),
                        rtp_timestamp: be_u32(fixed, 12),
                        packet_count: be_u32(fixed, 16),
                        octet_count: be_u32(fixed, 20),
                    },
                    reports: parse_blocks(&body[24..], count).ok_or_else(overflow)?,
                });
            }
            PT_RR => {
                let fixed = body.get(..4).ok_or_else(overflow)?;
                packets.push(RtcpPacket::ReceiverReport {
                    ssrc: be_u32(fixed, 0),
                    reports: parse_blocks(&body[4..], count).ok_or_else(overflow)?,
                });
            }
            PT_SDES => packets.push(RtcpPacket::SourceDescription(
                parse_sdes(body, count).ok_or_else(overflow)?,
            )),
            PT_BYE => {
                let ids = body.get(..4 * count).ok_or_else(overflow)?;
                let sources = ids.chunks_exact(4).map(|c| be_u32(c, 0)).collect();
                // RFC 3550 §6.6: an optional length-prefixed reason follows the SSRCs.
                let reason = body[4 * count..].split_first().and_then(|(&n, text)| {
                    text.get(..usize::from(n))
                        .map(|t| String::from_utf8_lossy(t).into_owned())
                });
                packets.push(RtcpPacket::Bye { sources, reason });
            }
            _ => {}
        }
    }
    Ok(packets)
}

fn parse_blocks(buf: &[u8], count: usize) -> Option<Vec<ReportBlock>> {
    let blocks = buf.get(..count * REPORT_BLOCK_LEN)?;
    Some(
        blocks
            .chunks_exact(REPORT_BLOCK_LEN)
            .map(|b| {
                // Sign-extend the 24-bit cumulative loss.
                let lost = i32::from_be_bytes([b[5], b[6], b[7], 0]) >> 8;
                ReportBlock {
                    ssrc: be_u32(b, 0),
                    fraction_lost: b[4],
                    cumulative_lost: lost,
                    extended_highest_seq: be_u32(b, 8),
                    jitter: be_u32(b, 12),
                    last_sr: be_u32(b, 16),
                    delay_since_last_sr: be_u32(b, 20),
                }
            })
            .collect(),
    )
}

/// RFC 3550 §6.5: each chunk is an SSRC, items of (type, length, text), a null
/// terminator, and padding to the next 32-bit boundary.
fn parse_sdes(mut buf: &[u8], count: usize) -> Option<Vec<(u32, String)>> {
    let mut chunks = Vec::new();
    for _ in 0..count {
        let ssrc = be_u32(buf.get(..4)?, 0);
        let mut pos = 4;
        let mut cname = None;
        loop {
            let item_type = *buf.get(pos)?;
            if item_type == SDES_END {
                pos += 1;
                break;
            }
            let len = usize::from(*buf.get(pos + 1)?);
            let text = buf.get(pos + 2..pos + 2 + len)?;
            if item_type == SDES_CNAME {
                cname = Some(String::from_utf8_lossy(text).into_owned());
            }
            pos += 2 + len;
        }
        buf = buf.get(pos.next_multiple_of(4)..)?;
        chunks.extend(cname.map(|c| (ssrc, c)));
    }
    Some(chunks)
}

impl RtcpPacket {
    /// Appends this packet, header included, to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        match self {
            Self::SenderReport {
                ssrc,
                info,
                reports,
            } => {
                let reports = &reports[..reports.len().min(MAX_COUNT)];
                write_header(out, reports.len(), PT_SR);
                out.extend_from_slice(&ssrc.to_be_bytes());
                out.extend_from_slice(&info.ntp_timestamp.to_be_bytes());
                out.extend_from_slice(&info.rtp_timestamp.to_be_bytes());
                out.extend_from_slice(&info.packet_count.to_be_bytes());
                out.extend_from_slice(&info.octet_count.to_be_bytes());
                reports.iter().for_each(|r| write_block(out, r));
            }
            Self::ReceiverReport { ssrc, reports } => {
                let reports = &reports[..reports.len().min(MAX_COUNT)];
                write_header(out, reports.len(), PT_RR);
                out.extend_from_slice(&ssrc.to_be_bytes());
                reports.iter().for_each(|r| write_block(out, r));
            }
            Self::SourceDescription(chunks) => {
                let chunks = &chunks[..chunks.len().min(MAX_COUNT)];
                write_header(out, chunks.len(), PT_SDES);
                for (ssrc, cname) in chunks {
                    out.extend_from_slice(&ssrc.to_be_bytes());
                    out.push(SDES_CNAME);
                    write_text(out, cname);
                    out.push(SDES_END);
                    pad_to_word(out);
                }
            }
            Self::Bye { sources, reason } => {
                let sources = &sources[..sources.len().min(MAX_COUNT)];
                write_header(out, sources.len(), PT_BYE);
                sources
                    .iter()
                    .for_each(|s| out.extend_from_slice(&s.to_be_bytes()));
                if let Some(reason) = reason {
                    write_text(out, reason);
                    pad_to_word(out);
                }
            }
        }
        // The length field counts 32-bit words minus one; every arm wrote whole words.
        let words = (out.len() - start) / 4 - 1;
        let words = u16::try_from(words).unwrap_or(u16::MAX);
        out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
    }
}

/// Serialises packets into one compound datagram.
pub fn serialize_compound(packets: &[RtcpPacket]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    packets.iter().for_each(|p| p.write(&mut out));
    out
}

fn write_header(out: &mut Vec<u8>, count: usize, packet_type: u8) {
    // `count` ≤ 31, so it fits the five bits.
    out.extend_from_slice(&[2 << 6 | count as u8, packet_type, 0, 0]);
}

fn write_block(out: &mut Vec<u8>, r: &ReportBlock) {
    out.extend_from_slice(&r.ssrc.to_be_bytes());
    out.push(r.fraction_lost);
    // Clamp to the 24-bit signed range, then keep the low three bytes.
    let lost = r.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff);
    out.extend_from_slice(&lost.to_be_bytes()[1..]);
    out.extend_from_slice(&r.extended_highest_seq.to_be_bytes());
    out.extend_from_slice(&r.jitter.to_be_bytes());
    out.extend_from_slice(&r.last_sr.to_be_bytes());
    out.extend_from_slice(&r.delay_since_last_sr.to_be_bytes());
}

/// Writes an 8-bit length and the text, cut at 255 bytes on a char boundary.
fn write_text(out: &mut Vec<u8>, text: &str) {
    let mut end = text.len().min(255);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // `end` ≤ 255.
    out.push(end as u8);
    out.extend_from_slice(&text.as_bytes()[..end]);
}

fn pad_to_word(out: &mut Vec<u8>) {
    out.resize(out.len().next_multiple_of(4), 0);
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> ReportBlock {
        ReportBlock {
            ssrc: 0x1234_5678,
            fraction_lost: 64,
            cumulative_lost: -3,
            extended_highest_seq: 0x0001_0005,
            jitter: 77,
            last_sr: 0xaabb_ccdd,
            delay_since_last_sr: 65536,
        }
    }

    #[test]
    fn compound_round_trip() {
        let packets = vec![
            RtcpPacket::SenderReport {
                ssrc: 1,
                info: SenderInfo {
                    ntp_timestamp: 0xe000_0000_8000_0000,
                    rtp_timestamp: 160,
                    packet_count: 10,
                    octet_count: 1600,
                },
                reports: vec![block()],
            },
            RtcpPacket::SourceDescription(vec![(1, "agent@voxhire".into())]),
            RtcpPacket::Bye {
                sources: vec![1],
                reason: Some("call ended".into()),
            },
        ];
        let bytes = serialize_compound(&packets);
        assert_eq!(bytes.len() % 4, 0);
        assert_eq!(parse_compound(&bytes).unwrap(), packets);
    }

    #[test]
    fn receiver_report_wire_format() {
        let rr = RtcpPacket::ReceiverReport {
            ssrc: 2,
            reports: vec![block()],
        };
        let bytes = serialize_compound(std::slice::from_ref(&rr));
        assert_eq!(&bytes[..8], &[0x81, 201, 0, 7, 0, 0, 0, 2]);
        assert_eq!(&bytes[12..16], &[64, 0xff, 0xff, 0xfd], "24-bit -3");
        assert_eq!(parse_compound(&bytes).unwrap(), vec![rr]);
    }

    #[test]
    fn sdes_with_several_items_and_empty_bye() {
        // An SDES chunk as a softphone sends it: CNAME then TOOL, then a BYE without
        // a reason, then an APP packet that is skipped.
        let mut bytes = vec![0x81, 202, 0, 5, 0, 0, 0, 9, 1, 3, b'a', b'@', b'b', 6, 6];
        bytes.extend_from_slice(b"sipp/3");
        bytes.extend_from_slice(&[0, 0, 0]); // end item + padding
        bytes.extend_from_slice(&[0x81, 203, 0, 1, 0, 0, 0, 9]);
        bytes.extend_from_slice(&[0x80, 204, 0, 2, 0, 0, 0, 9, b'n', b'a', b'm', b'e']);
        assert_eq!(
            parse_compound(&bytes).unwrap(),
            vec![
                RtcpPacket::SourceDescription(vec![(9, "a@b".into())]),
                RtcpPacket::Bye {
                    sources: vec![9],
                    reason: None
                },
            ]
        );
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert_eq!(parse_compound(&[]), Err(RtcpError::TooShort));
        assert_eq!(parse_compound(&[0x80, 200]), Err(RtcpError::TooShort));
        assert_eq!(
            parse_compound(&[0x40, 200, 0, 0]),
            Err(RtcpError::BadVersion(1))
        );
        assert_eq!(
            parse_compound(&[0x80, 200, 0, 9, 0, 0, 0, 0]),
            Err(RtcpError::BadLength)
        );
        assert_eq!(
            parse_compound(&[0x81, 201, 0, 1, 0, 0, 0, 1]),
            Err(RtcpError::CountOverflow(201, 1))
        );
        // Exhaustive over the first header byte and truncation of a real compound.
        let good = serialize_compound(&[
            RtcpPacket::ReceiverReport {
                ssrc: 2,
                reports: vec![block()],
            },
            RtcpPacket::SourceDescription(vec![(2, "x".into())]),
        ]);
        for first in 0..=255u8 {
            let mut b = good.clone();
            b[0] = first;
            for len in 0..=b.len() {
                let _ = parse_compound(&b[..len]);
            }
        }
    }
}
