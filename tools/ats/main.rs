//! `voxhire-ats`: a tiny ATS stand-in for trying the back office on one
//! machine. It receives voxhire's webhooks, checks each signature (HMAC-SHA256
//! over "<t>.<body>" with the subscription's secret, and a timestamp no older
//! than five minutes), drops a delivery id it has already taken, and prints one
//! JSON line per delivery. Used by `scripts/demo.sh`; not a product command.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "voxhire-ats",
    about = "An ATS stand-in that receives and verifies voxhire's webhooks"
)]
struct Args {
    /// Where to listen for deliveries (POST any path).
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// The webhook subscription's secret (`whsec_…`, returned when it was created).
    #[arg(long)]
    secret: String,
}

/// Older signatures are replays.
const MAX_AGE_SECS: i64 = 300;

#[derive(Clone)]
struct Ats {
    secret: Arc<String>,
    seen: Arc<Mutex<HashSet<String>>>,
}

async fn receive(State(ats): State<Ats>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (signature, delivery, event) = (
        header("voxhire-signature"),
        header("voxhire-delivery"),
        header("voxhire-event"),
    );
    let t: Option<i64> = signature
        .strip_prefix("t=")
        .and_then(|s| s.split_once(','))
        .and_then(|(t, _)| t.parse().ok());
    let fresh = t.is_some_and(|t| (chrono::Utc::now().timestamp() - t).abs() <= MAX_AGE_SECS);
    let valid =
        t.is_some_and(|t| voxhire_server::webhooks::signature(&ats.secret, t, &body) == signature);
    if !valid || !fresh {
        println!(
            "{}",
            serde_json::json!({"rejected": delivery, "event": event, "why": if valid { "stale" } else { "bad signature" }})
        );
        return StatusCode::UNAUTHORIZED;
    }
    let first = ats
        .seen
        .lock()
        .map(|mut s| s.insert(delivery.clone()))
        .unwrap_or(true);
    let payload: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let data = &payload["data"];
    let line = match event.as_str() {
        "interview.completed" => serde_json::json!({
            "event": event, "delivery": delivery, "duplicate": !first,
            "candidate": data["candidate_id"], "status": data["report"]["status"],
            "score": data["report"]["score"], "recommendation": data["report"]["recommendation"],
        }),
        _ => {
            serde_json::json!({"event": event, "delivery": delivery, "duplicate": !first, "data": data})
        }
    };
    println!("{line}");
    StatusCode::OK
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let ats = Ats {
        secret: Arc::new(args.secret),
        seen: Arc::default(),
    };
    let app = Router::new().fallback(post(receive)).with_state(ats);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    eprintln!("voxhire-ats listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
