//! Writes RTP, RTCP and DTMF seeds with voxhire-media's own serialisers.
//!
//!     cargo run --manifest-path fuzz/seedgen/Cargo.toml -- [OUT_DIR]   # default fuzz/seeds
use std::fs;
use std::path::PathBuf;

use voxhire_media::dtmf::{DtmfSender, TelephoneEvent};
use voxhire_media::rtcp::{serialize_compound, ReportBlock, RtcpPacket, SenderInfo};
use voxhire_media::rtp::RtpHeader;

fn write(dir: &str, name: &str, bytes: &[u8]) {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../seeds")));
    let d = root.join(dir);
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join(name), bytes).unwrap();
}

fn main() {
    let base = RtpHeader {
        marker: false,
        payload_type: 0,
        sequence_number: 4711,
        timestamp: 160 * 4711,
        ssrc: 0x1234_5678,
        csrc: vec![],
    };
    write("rtp", "pcmu-20ms", &base.serialize(&[0xff; 160]));
    write("rtp", "pcma-marker", &RtpHeader { marker: true, payload_type: 8, ..base.clone() }.serialize(&[0xd5; 160]));
    write("rtp", "opus-pt111", &RtpHeader { payload_type: 111, timestamp: 960 * 3, ..base.clone() }.serialize(&[0x78, 0x01, 0x02, 0x03, 0x04]));
    write("rtp", "seq-wrap", &RtpHeader { sequence_number: 0xffff, timestamp: u32::MAX, ..base.clone() }.serialize(&[0x7f; 20]));
    write("rtp", "two-csrc", &RtpHeader { csrc: vec![0xaaaa_aaaa, 0xbbbb_bbbb], ..base.clone() }.serialize(&[1, 2, 3]));
    write("rtp", "fifteen-csrc", &RtpHeader { csrc: (1..=15).collect(), ..base.clone() }.serialize(&[9]));
    write("rtp", "empty-payload", &base.serialize(&[]));
    // Extension and padding are never written by the serialiser: patch them in.
    let mut ext = base.serialize(&[]);
    ext[0] |= 0x30;
    ext.extend_from_slice(&[0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00, 5, 6, 7, 0, 0, 3]);
    write("rtp", "extension-padding", &ext);
    let tone = TelephoneEvent { event: 5, end: false, volume: 10, duration: 800 };
    write("rtp", "telephone-event", &RtpHeader { payload_type: 101, marker: true, ..base.clone() }.serialize(&tone.to_bytes()));

    let block = ReportBlock {
        ssrc: 0x8765_4321,
        fraction_lost: 12,
        cumulative_lost: -3,
        extended_highest_seq: 0x0001_0005,
        jitter: 80,
        last_sr: 0xaabb_ccdd,
        delay_since_last_sr: 65536,
    };
    let sr = RtcpPacket::SenderReport {
        ssrc: 0x1234_5678,
        info: SenderInfo { ntp_timestamp: 0xe8b1_2345_8000_0000, rtp_timestamp: 160_000, packet_count: 1000, octet_count: 160_000 },
        reports: vec![block],
    };
    let rr = RtcpPacket::ReceiverReport { ssrc: 0x1234_5678, reports: vec![block, ReportBlock { ssrc: 7, ..block }] };
    let sdes = RtcpPacket::SourceDescription(vec![(0x1234_5678, "agent@voxhire".into())]);
    let bye = RtcpPacket::Bye { sources: vec![0x1234_5678], reason: Some("call ended".into()) };
    write("rtcp", "sr-sdes", &serialize_compound(&[sr.clone(), sdes.clone()]));
    write("rtcp", "rr-sdes", &serialize_compound(&[rr.clone(), sdes.clone()]));
    write("rtcp", "rr-empty", &serialize_compound(&[RtcpPacket::ReceiverReport { ssrc: 1, reports: vec![] }]));
    write("rtcp", "sr-sdes-bye", &serialize_compound(&[sr, sdes.clone(), bye]));
    write("rtcp", "rr-bye-no-reason", &serialize_compound(&[rr, RtcpPacket::Bye { sources: vec![1, 2], reason: None }]));
    // An APP packet (skipped by the parser) after an SDES, and a padded RR.
    let mut app = serialize_compound(&[sdes]);
    app.extend_from_slice(&[0x80, 204, 0, 2, 0x12, 0x34, 0x56, 0x78, b'n', b'a', b'm', b'e']);
    write("rtcp", "sdes-app", &app);
    write("rtcp", "rr-padded", &[0xa0, 201, 0, 2, 0, 0, 0, 1, 0, 0, 0, 4]);

    // DTMF: a single payload, and a receiver record stream (ts, payload, step) of a
    // whole digit as DtmfSender produces it.
    write("dtmf", "event-5", &tone.to_bytes());
    let mut tx = DtmfSender::new(8000);
    tx.queue('7', std::time::Duration::from_millis(100)).unwrap();
    tx.queue('#', std::time::Duration::from_millis(60)).unwrap();
    let mut records = Vec::new();
    let mut ts = 0u32;
    while !tx.is_idle() {
        if let Some(p) = tx.next_packet(ts) {
            records.extend_from_slice(&p.timestamp.to_be_bytes());
            records.extend_from_slice(&p.payload);
            records.push(10); // 20 ms
        }
        ts += 160;
    }
    write("dtmf", "digits-7-hash", &records);
}
