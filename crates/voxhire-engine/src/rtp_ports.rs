//! RTP/RTCP port pairs from a configured range (RTP even, RTCP = RTP + 1, RFC 3550 §11).

use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{bail, Context, Result};
use tokio::net::UdpSocket;

pub struct RtpPorts {
    range: RangeInclusive<u16>,
    /// Pairs handed out so far (wraps at u32::MAX, harmlessly: only its
    /// remainder by the number of pairs is used).
    next: AtomicU32,
}

impl RtpPorts {
    /// Parses `LO-HI`.
    pub fn parse(spec: &str) -> Result<RtpPorts> {
        let (lo, hi) = spec
            .split_once('-')
            .context("expected LO-HI, e.g. 20000-20999")?;
        let lo: u16 = lo.trim().parse().context("low port is not a number")?;
        let hi: u16 = hi.trim().parse().context("high port is not a number")?;
        if lo < 1024 || hi <= lo || hi - lo < 3 {
            bail!(
                "RTP port range {lo}-{hi} must be above 1023 and hold at least two even/odd pairs"
            );
        }
        Ok(RtpPorts {
            next: AtomicU32::new(0),
            range: lo..=hi,
        })
    }

    /// The even RTP ports of the range whose RTCP port (+1) is in it too.
    fn pairs(&self) -> (u16, u32) {
        let (lo, hi) = (*self.range.start(), *self.range.end());
        let first = lo + lo % 2;
        (first, (u32::from(hi) - u32::from(first)).div_ceil(2))
    }

    /// The RTP port of the next pair, cycling through the range (never outside
    /// it, whatever the range's end).
    fn next_port(&self) -> u16 {
        let (first, pairs) = self.pairs();
        let i = self.next.fetch_add(1, Ordering::Relaxed) % pairs;
        // first + 2i + 1 <= hi, so this fits in u16.
        (u32::from(first) + 2 * i) as u16
    }

    /// Binds the next free pair, cycling through the range.
    pub async fn bind(&self, ip: IpAddr) -> Result<(UdpSocket, UdpSocket)> {
        let (lo, hi) = (*self.range.start(), *self.range.end());
        for _ in 0..self.pairs().1 {
            let port = self.next_port();
            let Ok(rtp) = UdpSocket::bind(SocketAddr::new(ip, port)).await else {
                continue;
            };
            let Ok(rtcp) = UdpSocket::bind(SocketAddr::new(ip, port + 1)).await else {
                continue;
            };
            return Ok((rtp, rtcp));
        }
        bail!("no free RTP port pair in {lo}-{hi} on {ip}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_cycle_inside_the_range_up_to_its_top() {
        for (spec, first, pairs) in [
            ("65530-65535", 65530, 3),
            ("20001-20008", 20002, 3),
            ("20000-20003", 20000, 2),
        ] {
            let ports = RtpPorts::parse(spec).unwrap();
            let (lo, hi) = (*ports.range.start(), *ports.range.end());
            assert_eq!(ports.pairs(), (first, pairs), "{spec}");
            for _ in 0..100_000 {
                let p = ports.next_port();
                assert!(p.is_multiple_of(2) && p >= lo && p < hi, "{spec}: {p}");
            }
        }
    }

    #[test]
    fn bad_ranges_are_refused() {
        for spec in ["100-200", "30000-20000", "20000-20002", "x-20000", "20000"] {
            assert!(RtpPorts::parse(spec).is_err(), "{spec}");
        }
    }
}
