//! `voxhire candidate`: a simulated job candidate for end-to-end interview tests.
//! A SIP UAS that answers calls and, turn by turn, waits for the agent to finish
//! speaking (Silero VAD on the received audio) and then plays a recorded answer.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;

#[derive(clap::Args)]
pub struct CandidateArgs {
    /// SIP address to listen on.
    #[arg(long, default_value = "127.0.0.1:5090")]
    listen: SocketAddr,
    /// Directory of scenarios: the Request-URI user `alice` selects `DIR/alice.toml`.
    #[arg(long, value_name = "DIR")]
    scenarios: PathBuf,
    /// RTP port range for calls.
    #[arg(long, default_value = "21000-21999", value_name = "LO-HI")]
    rtp_ports: String,
    /// Directory for per-call stereo recordings (left = candidate, right = agent).
    #[arg(long, value_name = "DIR")]
    record_dir: Option<PathBuf>,
    /// Agent silence (ms) after speech that ends the agent's turn.
    #[arg(long, default_value_t = 600, value_name = "MS")]
    gap_ms: u64,
}

pub async fn run(args: CandidateArgs) -> Result<()> {
    let _ = (
        &args.listen,
        &args.scenarios,
        &args.rtp_ports,
        &args.record_dir,
        args.gap_ms,
    );
    anyhow::bail!("voxhire candidate: not implemented yet")
}
