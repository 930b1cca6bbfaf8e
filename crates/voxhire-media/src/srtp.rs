//! SRTP and SRTCP (RFC 3711) for a call keyed in its SDP (SDES, RFC 4568): one
//! context per direction, AES-128 counter mode with an 80-bit HMAC-SHA1 tag, the
//! suite `voxhire_sip::sdp::SRTP_SUITE` negotiates.
//!
//! The cipher is webrtc-rs's Sans-IO `rtc-srtp` (with its `ring` provider); this
//! module only pairs the two directions and names the errors. A packet that fails
//! authentication or replay checks is an error the media task counts and drops.

use rtc_srtp::context::Context;
use rtc_srtp::crypto::providers::RingCrypto;
use rtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use rtc_srtp::protection_profile::ProtectionProfile;

use crate::session::TransmitKind;

/// Packets the replay window remembers per stream (RFC 3711 §3.3.2: at least 64).
const REPLAY_WINDOW: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum SrtpError {
    #[error("cannot set up SRTP: {0}")]
    Setup(String),
    #[error("SRTP packet rejected: {0}")]
    Rejected(String),
    #[error("cannot protect the packet: {0}")]
    Protect(String),
}

/// A master key and salt (16 + 14 bytes, as `a=crypto` carries them).
#[derive(Clone, Copy)]
pub struct MasterKey<'a> {
    pub key: &'a [u8],
    pub salt: &'a [u8],
}

fn setup(e: impl std::fmt::Display) -> SrtpError {
    SrtpError::Setup(e.to_string())
}

/// One call's SRTP: what we send is protected with our key, what we receive is
/// checked and decrypted with the peer's.
pub struct Srtp {
    outbound: Context,
    inbound: Context,
}

impl std::fmt::Debug for Srtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Srtp(AES_CM_128_HMAC_SHA1_80)")
    }
}

impl Srtp {
    pub fn new(local: MasterKey<'_>, remote: MasterKey<'_>) -> Result<Srtp, SrtpError> {
        let profile = ProtectionProfile::Aes128CmHmacSha1_80;
        let outbound =
            Context::new(local.key, local.salt, profile, None, None, &RingCrypto).map_err(setup)?;
        let inbound = Context::new(
            remote.key,
            remote.salt,
            profile,
            Some(srtp_replay_protection(REPLAY_WINDOW)),
            Some(srtcp_replay_protection(REPLAY_WINDOW)),
            &RingCrypto,
        )
        .map_err(setup)?;
        Ok(Srtp { outbound, inbound })
    }

    /// An RTP or RTCP packet as it goes on the wire.
    pub fn protect(&mut self, kind: TransmitKind, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let protected = match kind {
            TransmitKind::Rtp => self.outbound.encrypt_rtp(packet),
            TransmitKind::Rtcp => self.outbound.encrypt_rtcp(packet),
        };
        protected
            .map(Vec::from)
            .map_err(|e| SrtpError::Protect(e.to_string()))
    }

    /// A received SRTP or SRTCP packet, authenticated and decrypted.
    pub fn unprotect(&mut self, kind: TransmitKind, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let clear = match kind {
            TransmitKind::Rtp => self.inbound.decrypt_rtp(packet),
            TransmitKind::Rtcp => self.inbound.decrypt_rtcp(packet),
        };
        clear
            .map(Vec::from)
            .map_err(|e| SrtpError::Rejected(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: [u8; 16] = [1; 16];
    const SALT_A: [u8; 14] = [2; 14];
    const KEY_B: [u8; 16] = [3; 16];
    const SALT_B: [u8; 14] = [4; 14];

    fn pair() -> (Srtp, Srtp) {
        let a = |k, s| MasterKey { key: k, salt: s };
        (
            Srtp::new(a(&KEY_A, &SALT_A), a(&KEY_B, &SALT_B)).unwrap(),
            Srtp::new(a(&KEY_B, &SALT_B), a(&KEY_A, &SALT_A)).unwrap(),
        )
    }

    /// An RTP packet: version 2, PCMU, sequence `seq`, 160 bytes of payload.
    fn rtp(seq: u16) -> Vec<u8> {
        let mut p = vec![0x80, 0x00];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
        p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        p.extend((0..160).map(|i| (i as u8) ^ (seq as u8)));
        p
    }

    #[test]
    fn each_side_reads_what_the_other_protected_and_nothing_else() {
        let (mut a, mut b) = pair();
        for seq in 1..50 {
            let clear = rtp(seq);
            let wire = a.protect(TransmitKind::Rtp, &clear).unwrap();
            assert_eq!(wire.len(), clear.len() + 10, "an 80-bit tag");
            assert_ne!(
                &wire[12..clear.len()],
                &clear[12..],
                "the payload is encrypted"
            );
            assert_eq!(b.unprotect(TransmitKind::Rtp, &wire).unwrap(), clear);
        }
        // A flipped bit, a replayed packet and a clear packet are all refused.
        let mut wire = a.protect(TransmitKind::Rtp, &rtp(50)).unwrap();
        wire[20] ^= 1;
        assert!(matches!(
            b.unprotect(TransmitKind::Rtp, &wire),
            Err(SrtpError::Rejected(_))
        ));
        let wire = a.protect(TransmitKind::Rtp, &rtp(51)).unwrap();
        b.unprotect(TransmitKind::Rtp, &wire).unwrap();
        assert!(b.unprotect(TransmitKind::Rtp, &wire).is_err(), "a replay");
        assert!(
            b.unprotect(TransmitKind::Rtp, &rtp(52)).is_err(),
            "plain RTP"
        );
        // Our own packets do not decrypt with our receiving context.
        let wire = a.protect(TransmitKind::Rtp, &rtp(53)).unwrap();
        assert!(a.unprotect(TransmitKind::Rtp, &wire).is_err());
    }

    /// Packets libsrtp protected (tests/data/srtp/make-vectors.py, through PyPI's
    /// pylibsrtp 1.0.0): we decrypt each, and protect each clear packet to the same
    /// bytes, across a wrap of the sequence number.
    #[test]
    fn agrees_with_libsrtp_byte_for_byte() {
        let vectors = include_str!("../../../tests/data/srtp/vectors.txt");
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let mut sender: Option<Srtp> = None;
        let mut receiver: Option<Srtp> = None;
        let mut checked = 0;
        for line in vectors.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (key, clear, protected) = (hex(f[1]), hex(f[2]), hex(f[3]));
            let kind = if f[0] == "rtp" {
                TransmitKind::Rtp
            } else {
                TransmitKind::Rtcp
            };
            // One key both ways: libsrtp protected with it, we check both directions.
            let master = MasterKey {
                key: &key[..16],
                salt: &key[16..],
            };
            let make = || Srtp::new(master, master).unwrap();
            let ours = sender
                .get_or_insert_with(make)
                .protect(kind, &clear)
                .unwrap();
            assert_eq!(ours, protected, "{} {}", f[0], f[2]);
            let back = receiver
                .get_or_insert_with(make)
                .unprotect(kind, &protected)
                .unwrap();
            assert_eq!(back, clear, "{} {}", f[0], f[2]);
            checked += 1;
        }
        assert_eq!(checked, 7);
    }

    #[test]
    fn rtcp_is_protected_too() {
        let (mut a, mut b) = pair();
        // A receiver report with no blocks: V=2, PT=201, length 1, SSRC.
        let rr = [0x80, 201, 0, 1, 0x12, 0x34, 0x56, 0x78];
        let wire = a.protect(TransmitKind::Rtcp, &rr).unwrap();
        assert!(wire.len() > rr.len());
        assert_eq!(b.unprotect(TransmitKind::Rtcp, &wire).unwrap(), rr);
    }
}
