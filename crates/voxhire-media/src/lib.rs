//! Sans-IO media for voxhire calls: RTP/RTCP (RFC 3550), symmetric RTP (RFC 4961),
//! G.711 and Opus (RFC 7587), DTMF telephone-events (RFC 4733), a jitter buffer,
//! resampling and WAV I/O.
//!
//! Nothing here opens a socket, reads a clock or spawns a thread. A
//! [`MediaSession`] is driven by its caller: feed it datagrams and the time, then
//! drain the datagrams it wants sent, the events it raises, and the instant it next
//! needs to be woken. Call audio is 8 kHz mono 16-bit in 20 ms frames throughout.
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::{Duration, Instant, SystemTime};
//! use voxhire_media::{CodecKind, MediaConfig, MediaEvent, MediaSession, TransmitKind};
//!
//! let peer: SocketAddr = "192.0.2.10:40000".parse().unwrap();
//! let start = Instant::now();
//! let mut now = start;
//! let cfg = MediaConfig::new(CodecKind::Pcmu, peer, 42, SystemTime::now());
//! let mut session = MediaSession::new(cfg, now).unwrap();
//! session.queue_audio(&[0i16; 800]); // 100 ms of the agent's prompt
//!
//! let (mut rtp_sent, mut frames_heard) = (0, 0);
//! // The driver's loop, with a virtual clock in place of a timer and sockets.
//! while let Some(wake) = session.poll_timeout() {
//!     if wake > start + Duration::from_millis(200) {
//!         break;
//!     }
//!     now = wake; // tokio::time::sleep_until(wake), or a datagram arriving first
//!     // A datagram from the RTP socket would go to `session.handle_rtp(now, src, &buf)`
//!     // and one from the RTCP socket to `session.handle_rtcp(now, src, &buf)`.
//!     session.handle_timeout(now);
//!     while let Some(t) = session.poll_transmit() {
//!         // rtp_socket.send_to(&t.payload, t.dst) or the RTCP socket, by `t.kind`.
//!         rtp_sent += usize::from(t.kind == TransmitKind::Rtp);
//!     }
//!     while let Some(event) = session.poll_event() {
//!         match event {
//!             MediaEvent::Audio(frame) => frames_heard += frame.len() / 160, // to VAD/ASR
//!             MediaEvent::Dtmf { digit, .. } => println!("pressed {digit}"),
//!             MediaEvent::RemoteLatched(addr) => println!("peer media from {addr}"),
//!             MediaEvent::RemoteBye => println!("peer left"),
//!         }
//!     }
//! }
//! // One packet and one playout frame per 20 ms tick, ticks 0 through 10.
//! assert_eq!((rtp_sent, frames_heard), (11, 11));
//! ```
#![forbid(unsafe_code)]

use std::time::Duration;

pub mod codec;
pub mod dtmf;
pub mod g711;
pub mod jitter;
pub mod opus;
pub mod reception;
pub mod resample;
pub mod rtcp;
pub mod rtp;
pub mod session;
pub mod srtp;
pub mod stats;
pub mod wav;

pub use codec::{AudioDecoder, AudioEncoder, CodecError, CodecKind};
pub use session::{MediaConfig, MediaError, MediaEvent, MediaSession, Transmit, TransmitKind};
pub use stats::{RemoteReport, RtpStats};

/// Sample rate of all call audio inside voxhire.
pub const PCM_RATE: u32 = 8000;
/// Samples in one 20 ms frame at [`PCM_RATE`].
pub const FRAME_SAMPLES: usize = 160;
/// Packetisation time: one RTP packet carries one 20 ms frame.
pub const PTIME: Duration = Duration::from_millis(20);
