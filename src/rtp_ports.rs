//! RTP/RTCP port pairs from a configured range (RTP even, RTCP = RTP + 1, RFC 3550 §11).

use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU16, Ordering};

use anyhow::{bail, Context, Result};
use tokio::net::UdpSocket;

pub struct RtpPorts {
    range: RangeInclusive<u16>,
    next: AtomicU16,
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
            next: AtomicU16::new(lo + lo % 2),
            range: lo..=hi,
        })
    }

    /// Binds the next free pair, cycling through the range.
    pub async fn bind(&self, ip: IpAddr) -> Result<(UdpSocket, UdpSocket)> {
        let (lo, hi) = (*self.range.start(), *self.range.end());
        let pairs = (hi - lo).div_ceil(2);
        for _ in 0..pairs {
            let mut port = self.next.fetch_add(2, Ordering::Relaxed);
            if port >= hi {
                let first = lo + lo % 2;
                self.next.store(first + 2, Ordering::Relaxed);
                port = first;
            }
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
