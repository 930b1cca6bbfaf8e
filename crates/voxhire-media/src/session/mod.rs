//! One call's RTP/RTCP endpoint, Sans-IO.
//!
//! The caller feeds datagrams and time in and drains datagrams and events out; see
//! the crate documentation for the run loop. Everything happens on a 20 ms tick
//! grid anchored at the `now` given to [`MediaSession::new`]: tick k is due at
//! `start + k × 20 ms`, so pacing never drifts whatever the caller's timer does.
//! On each tick the session sends one RTP packet (queued audio, a DTMF event, or
//! encoded silence to keep NAT bindings and the peer's statistics alive) and emits
//! one [`MediaEvent::Audio`] frame from the jitter buffer.

mod config;
mod report;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;
use tracing::{debug, warn};

pub use config::{MediaConfig, MediaError, MediaEvent, Transmit, TransmitKind};

use crate::codec::{AudioDecoder, AudioEncoder};
use crate::dtmf::{DtmfReceiver, DtmfSender};
use crate::jitter::{Frame, JitterBuffer, PushOutcome};
use crate::reception::ReceptionStats;
use crate::rtp::{self, RtpHeader, RtpPacket};
use crate::stats::{RemoteReport, RtpStats};
use crate::{FRAME_SAMPLES, PCM_RATE, PTIME};

/// A caller this many ticks late gets them all sent at once; beyond that the
/// oldest are skipped (a burst of stale audio helps nobody).
const MAX_CATCH_UP_TICKS: u64 = 3;
/// Jitter buffer pops per tick at most: enough for 10 ms packets, and bounded even
/// if a peer sends empty payloads.
const MAX_POPS_PER_TICK: usize = 4;

/// A per-call RTP/RTCP session.
#[derive(Debug)]
pub struct MediaSession {
    cfg: MediaConfig,
    start: Instant,
    closed: bool,

    // Sending.
    encoder: AudioEncoder,
    /// Audio waiting to be sent, 8 kHz.
    queued: VecDeque<i16>,
    dtmf_tx: DtmfSender,
    /// Index of the next tick to run.
    next_tick: u64,
    seq: u16,
    /// RTP timestamp of the next tick.
    timestamp: u32,
    /// Set the marker bit on the next audio packet (stream start, timestamp jump).
    marker: bool,

    // Receiving.
    /// Where RTP goes: the configured address, then the latched one.
    remote_rtp: SocketAddr,
    latched: bool,
    /// Source address of the peer's RTCP, once seen.
    remote_rtcp_seen: Option<SocketAddr>,
    source: Option<ReceptionStats>,
    /// Loss and receive counts of sources the peer has already replaced.
    retired_lost: u64,
    retired_received: u64,
    jitter: JitterBuffer,
    decoder: AudioDecoder,
    dtmf_rx: DtmfReceiver,
    /// Decoded samples waiting for playout (a peer may send other than 20 ms).
    playout: VecDeque<i16>,

    // RTCP.
    rng: StdRng,
    next_report: Instant,
    remote_report: Option<RemoteReport>,
    rtt: Option<Duration>,

    stats: RtpStats,
    transmits: VecDeque<Transmit>,
    events: VecDeque<MediaEvent>,
}

impl MediaSession {
    pub fn new(cfg: MediaConfig, now: Instant) -> Result<Self, MediaError> {
        for pt in std::iter::once(cfg.payload_type).chain(cfg.dtmf_payload_type) {
            if pt > 127 {
                return Err(MediaError::BadPayloadType(pt));
            }
        }
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let clock_rate = cfg.codec.clock_rate();
        Ok(Self {
            encoder: AudioEncoder::new(cfg.codec)?,
            decoder: AudioDecoder::new(cfg.codec)?,
            queued: VecDeque::new(),
            dtmf_tx: DtmfSender::new(clock_rate),
            next_tick: 0,
            seq: cfg.initial_seq,
            timestamp: cfg.initial_timestamp,
            marker: true,
            remote_rtp: cfg.remote_rtp,
            latched: false,
            remote_rtcp_seen: None,
            source: None,
            retired_lost: 0,
            retired_received: 0,
            jitter: JitterBuffer::new(cfg.jitter),
            dtmf_rx: DtmfReceiver::new(clock_rate),
            playout: VecDeque::new(),
            next_report: now + report::first_interval(&mut rng),
            rng,
            remote_report: None,
            rtt: None,
            stats: RtpStats::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            start: now,
            closed: false,
            cfg,
        })
    }

    // Getters.

    pub fn stats(&self) -> RtpStats {
        let jitter = self.jitter.stats();
        let (lost, received) = self.source.as_ref().map_or((0, 0), |s| {
            (
                u64::try_from(s.cumulative_lost()).unwrap_or(0),
                s.received(),
            )
        });
        RtpStats {
            received: self.retired_received + received,
            lost: self.retired_lost + lost,
            duplicates: jitter.duplicates,
            late: jitter.late,
            concealed: jitter.lost + jitter.underruns,
            jitter_ms: self.source.as_ref().map_or(0.0, ReceptionStats::jitter_ms),
            playout_delay_ms: self.jitter.target_delay().as_secs_f64() * 1000.0,
            remote: self.remote_report,
            rtt_ms: self.rtt.map(|d| d.as_secs_f64() * 1000.0),
            ..self.stats.clone()
        }
    }

    /// Milliseconds of queued audio not yet sent.
    pub fn queued_audio_ms(&self) -> u64 {
        self.queued.len() as u64 * 1000 / u64::from(PCM_RATE)
    }

    /// Samples (8 kHz) of queued audio not yet sent.
    pub fn queued_samples(&self) -> usize {
        self.queued.len()
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    // Input.

    /// Handles a datagram from the RTP socket. Garbage is counted and dropped.
    pub fn handle_rtp(&mut self, now: Instant, src: SocketAddr, bytes: &[u8]) {
        if self.closed {
            return;
        }
        if rtp::looks_like_rtcp(bytes) {
            // RFC 5761 §4: a peer multiplexing RTCP onto the RTP port.
            return self.handle_rtcp(now, src, bytes);
        }
        let Ok(packet) = RtpPacket::parse(bytes) else {
            self.stats.invalid += 1;
            return;
        };
        let header = &packet.header;
        let is_dtmf = Some(header.payload_type) == self.cfg.dtmf_payload_type;
        if header.payload_type != self.cfg.payload_type && !is_dtmf {
            // RFC 3550 §5.1: receivers ignore payload types they do not understand.
            self.stats.invalid += 1;
            return;
        }
        if !self.latch(src) {
            self.stats.foreign_source += 1;
            return;
        }
        self.select_source(now, header.ssrc, header.sequence_number);
        let Some(source) = self.source.as_mut() else {
            return;
        };
        if !source.update(header.sequence_number) {
            self.stats.invalid += 1;
            return;
        }
        let seq = header.sequence_number;
        let outcome = if is_dtmf {
            self.jitter.push_non_audio(now, seq)
        } else {
            self.jitter.push(now, seq, packet.payload.to_vec())
        };
        if outcome == PushOutcome::Duplicate {
            source.uncount_duplicate();
            return;
        }
        if is_dtmf {
            if self
                .dtmf_rx
                .handle_packet(now, header.timestamp, packet.payload)
                .is_err()
            {
                self.stats.invalid += 1;
            }
            self.drain_digits();
        } else {
            source.update_jitter(now, header.timestamp);
        }
    }

    /// Handles a datagram from the RTCP socket. Garbage is counted and dropped.
    pub fn handle_rtcp(&mut self, now: Instant, src: SocketAddr, bytes: &[u8]) {
        if self.closed {
            return;
        }
        let Ok(packets) = crate::rtcp::parse_compound(bytes) else {
            self.stats.invalid += 1;
            return;
        };
        self.stats.rtcp_received += 1;
        self.remote_rtcp_seen.get_or_insert(src);
        self.handle_report(now, packets);
    }

    /// Runs every tick that is due at `now`, and the RTCP report if it is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if let Some(due) = self.due_tick(now) {
            let behind = due - self.next_tick + 1;
            if behind > MAX_CATCH_UP_TICKS {
                self.skip_ticks(behind - MAX_CATCH_UP_TICKS);
            }
            while self.next_tick <= due {
                let at = self.tick_at(self.next_tick);
                self.send_tick();
                self.playout_tick(at);
                self.next_tick += 1;
            }
            self.dtmf_rx.handle_timeout(now);
            self.drain_digits();
        }
        if now >= self.next_report {
            self.send_report(now, false);
            self.next_report = now + report::interval(&mut self.rng);
        }
    }

    // Mutators.

    /// Queues 8 kHz audio to send, one 20 ms frame per tick after what is queued.
    pub fn queue_audio(&mut self, samples: &[i16]) {
        if !self.closed {
            self.queued.extend(samples);
        }
    }

    /// Drops all queued audio (barge-in): the next tick sends silence.
    pub fn clear_queued_audio(&mut self) {
        self.queued.clear();
    }

    /// Points RTP at a new address from a re-INVITE's SDP (RFC 3264 §8.3.1); the
    /// peer's next packet may latch it again (RFC 4961).
    pub fn set_remote(&mut self, addr: SocketAddr) {
        self.remote_rtp = addr;
        self.latched = false;
        self.remote_rtcp_seen = None;
    }

    /// Queues an RFC 4733 DTMF digit (0-9, *, #, A-D) of 40 ms to 1 s. Queued audio
    /// pauses while digits are sent.
    pub fn send_dtmf(&mut self, digit: char, duration: Duration) -> Result<(), MediaError> {
        if self.closed {
            return Err(MediaError::Closed);
        }
        if self.cfg.dtmf_payload_type.is_none() {
            return Err(MediaError::DtmfNotNegotiated);
        }
        Ok(self.dtmf_tx.queue(digit, duration)?)
    }

    /// Ends the session: queues an RTCP BYE (with a final report) and stops sending.
    pub fn bye(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        self.send_report(now, true);
        self.queued.clear();
        self.closed = true;
    }

    // Output.

    /// When [`handle_timeout`](Self::handle_timeout) should next run; `None` once
    /// closed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        (!self.closed).then(|| self.tick_at(self.next_tick).min(self.next_report))
    }

    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    #[must_use]
    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        self.events.pop_front()
    }

    // Internals.

    fn tick_at(&self, tick: u64) -> Instant {
        self.start + Duration::from_millis(tick.saturating_mul(PTIME.as_millis() as u64))
    }

    /// The latest tick due at `now`, if it has not run yet.
    fn due_tick(&self, now: Instant) -> Option<u64> {
        let elapsed = now.checked_duration_since(self.start)?;
        let due = u64::try_from(elapsed.as_nanos() / PTIME.as_nanos()).unwrap_or(u64::MAX);
        (due >= self.next_tick).then_some(due)
    }

    /// Skips ticks the caller was too late for: no packets, but the timestamp
    /// advances so it keeps matching the clock (RFC 3550 §5.1), and the marker
    /// flags the discontinuity.
    fn skip_ticks(&mut self, ticks: u64) {
        let step = u64::from(self.cfg.codec.rtp_timestamp_step());
        // RTP timestamps are modulo 2^32; truncation is the wraparound.
        self.timestamp = self.timestamp.wrapping_add(ticks.wrapping_mul(step) as u32);
        self.next_tick += ticks;
        self.marker = true;
        self.stats.skipped_ticks += ticks;
    }

    fn send_tick(&mut self) {
        let timestamp = self.timestamp;
        self.timestamp = timestamp.wrapping_add(self.cfg.codec.rtp_timestamp_step());
        let dtmf = self
            .cfg
            .dtmf_payload_type
            .and_then(|pt| Some((pt, self.dtmf_tx.next_packet(timestamp)?)));
        let (header, payload) = if let Some((pt, event)) = dtmf {
            let header = self.header(event.marker, pt, event.timestamp);
            (header, event.payload.to_vec())
        } else {
            let mut frame = [0i16; FRAME_SAMPLES];
            let n = self.queued.len().min(FRAME_SAMPLES);
            for (slot, sample) in frame.iter_mut().zip(self.queued.drain(..n)) {
                *slot = sample;
            }
            let payload = match self.encoder.encode(&frame) {
                Ok(payload) => payload,
                Err(e) => {
                    warn!(error = %e, "audio encoder failed; frame not sent");
                    return;
                }
            };
            let marker = std::mem::take(&mut self.marker);
            (
                self.header(marker, self.cfg.payload_type, timestamp),
                payload,
            )
        };
        self.seq = self.seq.wrapping_add(1);
        self.stats.sent += 1;
        self.stats.sent_octets += payload.len() as u64;
        self.transmits.push_back(Transmit {
            dst: self.remote_rtp,
            kind: TransmitKind::Rtp,
            payload: header.serialize(&payload),
        });
    }

    fn header(&self, marker: bool, payload_type: u8, timestamp: u32) -> RtpHeader {
        RtpHeader {
            marker,
            payload_type,
            sequence_number: self.seq,
            timestamp,
            ssrc: self.cfg.ssrc,
            csrc: Vec::new(),
        }
    }

    /// Emits one frame of the peer's audio. Before the peer's first packet has been
    /// through the jitter buffer's initial delay this is silence, so the
    /// application always gets 50 frames a second.
    fn playout_tick(&mut self, at: Instant) {
        for _ in 0..MAX_POPS_PER_TICK {
            if self.playout.len() >= FRAME_SAMPLES {
                break;
            }
            let pcm = match self.jitter.pop(at) {
                None | Some(Frame::NonAudio) => vec![0; FRAME_SAMPLES],
                Some(Frame::Audio(payload)) => match self.decoder.decode(&payload) {
                    Ok(pcm) => pcm,
                    Err(e) => {
                        debug!(error = %e, "undecodable payload concealed");
                        self.stats.decode_errors += 1;
                        self.conceal()
                    }
                },
                Some(Frame::Missing) => self.conceal(),
            };
            self.playout.extend(pcm);
        }
        let mut frame: Vec<i16> = self
            .playout
            .drain(..self.playout.len().min(FRAME_SAMPLES))
            .collect();
        frame.resize(FRAME_SAMPLES, 0);
        self.events.push_back(MediaEvent::Audio(frame));
    }

    fn conceal(&mut self) -> Vec<i16> {
        self.decoder.conceal().unwrap_or_else(|e| {
            debug!(error = %e, "concealment failed; silence instead");
            vec![0; FRAME_SAMPLES]
        })
    }

    /// RFC 4961 symmetric RTP: the first valid packet's source becomes the remote
    /// address; afterwards only that source is accepted.
    fn latch(&mut self, src: SocketAddr) -> bool {
        if self.latched {
            return src == self.remote_rtp;
        }
        debug!(configured = %self.remote_rtp, %src, "RTP remote latched");
        self.latched = true;
        self.remote_rtp = src;
        self.events.push_back(MediaEvent::RemoteLatched(src));
        true
    }

    /// Makes `ssrc` the tracked source, replacing the previous one if the peer
    /// changed SSRC (a re-INVITE or transfer behind a PBX).
    fn select_source(&mut self, now: Instant, ssrc: u32, seq: u16) {
        if self.source.as_ref().is_some_and(|s| s.ssrc() != ssrc) {
            debug!(ssrc, "remote SSRC changed");
            if let Some(old) = self.source.take() {
                self.retired_lost += u64::try_from(old.cumulative_lost()).unwrap_or(0);
                self.retired_received += old.received();
            }
            self.jitter.reset();
        }
        let clock_rate = self.cfg.codec.clock_rate();
        self.source
            .get_or_insert_with(|| ReceptionStats::new(ssrc, seq, clock_rate, now));
    }

    fn drain_digits(&mut self) {
        while let Some(d) = self.dtmf_rx.poll_digit() {
            self.events.push_back(MediaEvent::Dtmf {
                digit: d.digit,
                duration: d.duration,
            });
        }
    }

    /// RTCP goes where the peer's RTCP comes from; before that, to the RTCP address
    /// it signalled (RFC 3605 `a=rtcp`) unless RTP latched elsewhere, else to the RTP
    /// port + 1 (RFC 3550 §11).
    fn rtcp_destination(&self) -> SocketAddr {
        if let Some(seen) = self.remote_rtcp_seen {
            return seen;
        }
        match self.cfg.remote_rtcp {
            Some(signalled) if self.remote_rtp == self.cfg.remote_rtp => signalled,
            _ => {
                let mut addr = self.remote_rtp;
                addr.set_port(addr.port().wrapping_add(1));
                addr
            }
        }
    }
}
