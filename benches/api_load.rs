//! The back office under load: `cargo bench --bench api_load`.
//!
//! Starts the real `voxhire server` on loopback with a fresh store, then
//! prints:
//! - import: candidates with résumés created per second through
//!   `POST /jobs/{id}/candidates/import` (each résumé screened, English ones
//!   compared with the role by MiniLM), in batches of 50;
//! - reads: list (`GET /jobs/{id}/candidates?limit=50`) and get
//!   (`GET /candidates/{id}`) latency p50/p95/p99 and requests per second with
//!   1, 8 and 32 clients on keep-alive connections (`API_LOAD_SECS`, default
//!   10 s per level);
//! - webhooks: from a status change being asked for (`POST
//!   /candidates/{id}/status`) to the ATS stand-in receiving its signed
//!   `candidate.status_changed` (the outbox row is committed with the change;
//!   the deliverer is woken at once), p50/p95 over 100 changes.
//!
//! The client shares the machine's cores with the server: the figures are a
//! floor for a server on its own machine. Not a criterion bench: it measures
//! a server process over the network stack.

mod common;

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{percentile, BIN};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const CANDIDATES: usize = 500;

fn main() {
    let dir = tempfile::tempdir().expect("scratch dir");
    let data = dir.path().join("data");
    // A throwaway master key for this run's store.
    let keys = format!("0000be4c {}", "5a".repeat(32));
    let out = Command::new(BIN)
        .env("VOXHIRE_MASTER_KEYS", &keys)
        .args([
            "apikey", "create", "--name", "load", "--scope", "write", "--data",
        ])
        .arg(&data)
        .output()
        .expect("voxhire apikey create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = serde_json::from_slice::<Value>(&out.stdout).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut server = Command::new(BIN)
        .env("VOXHIRE_MASTER_KEYS", &keys)
        .args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--sip",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.path().join("server.log")).unwrap())
        .spawn()
        .expect("voxhire server");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .expect("the listening line");
    let http = serde_json::from_str::<Value>(&line).expect("a JSON line")["http"]
        .as_str()
        .unwrap()
        .to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(run(format!("http://{http}/api/v1"), key));
    let _ = server.kill();
    let _ = server.wait();
}

async fn run(base: String, key: String) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let auth = format!("Bearer {key}");
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .header("authorization", &auth)
            .json(&body)
            .send()
    };

    // The ATS stand-in: records when each status change arrives.
    let ats = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ats_addr = ats.local_addr().unwrap();
    let arrivals: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let log = arrivals.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = ats.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut r = BufReader::new(stream);
                loop {
                    let mut len = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let at = Instant::now();
                    log.lock()
                        .unwrap()
                        .push((at, String::from_utf8_lossy(&body).into_owned()));
                    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                    if r.get_mut().write_all(ok).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let r = post(
        "/webhooks",
        json!({"url": format!("http://{ats_addr}/hooks"), "events": ["candidate.status_changed"]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);

    let script =
        std::fs::read_to_string(common::repo().join("config/interview-java-backend.en.toml"))
            .unwrap();
    let job: Value = post(
        "/jobs",
        json!({"title": "Java backend engineer", "script": script,
            "requirements": {"must_have": ["Java"], "nice_to_have": ["Kafka", "k8s", "Redis"], "min_years": 3,
                             "summary": "Backend engineer building payment services in Java"}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let job = job["id"].as_str().unwrap().to_owned();

    // Import.
    let resume_en = "Backend engineer with 6 years of experience.\nBuilt the payment gateway in Java and Spring Boot; event streams on Kafka.\nServices on Kubernetes; caching with Redis.\nMentored junior engineers.\nBSc Computer Science.";
    let resume_zh = "五年多后端开发经验。\n负责订单系统重构，主要用Java和Spring Cloud。\n服务部署在K8s上，消息队列使用Kafka。";
    let started = Instant::now();
    for batch in 0..CANDIDATES / 50 {
        let rows: Vec<Value> = (0..50)
            .map(|i| {
                let n = batch * 50 + i;
                json!({"name": format!("Candidate {n}"), "phone": format!("sip:c{n}@127.0.0.1:9"),
                       "resume_text": if n % 2 == 0 { resume_en } else { resume_zh }})
            })
            .collect();
        let r = post(
            &format!("/jobs/{job}/candidates/import"),
            json!({"candidates": rows}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    let took = started.elapsed();
    println!(
        "import: {CANDIDATES} candidates with résumés (half English, half Mandarin) in {:.1} s — {:.1} ms per candidate, screening included",
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / CANDIDATES as f64
    );
    let list: Value = client
        .get(format!("{base}/jobs/{job}/candidates?limit=200"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();

    // Reads.
    let secs: u64 = std::env::var("API_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    println!("reads: {secs} s per level; latency in ms");
    println!(
        "{:>8} {:>6} {:>9} {:>7} {:>7} {:>7}",
        "clients", "route", "req/s", "p50", "p95", "p99"
    );
    for clients in [1usize, 8, 32] {
        let until = Instant::now() + Duration::from_secs(secs);
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (client, base, auth, job, ids) = (
                client.clone(),
                base.clone(),
                auth.clone(),
                job.clone(),
                ids.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let (mut list, mut get) = (Vec::new(), Vec::new());
                let mut i = c;
                while Instant::now() < until {
                    let (url, into) = if i % 2 == 0 {
                        (format!("{base}/jobs/{job}/candidates?limit=50"), &mut list)
                    } else {
                        (
                            format!("{base}/candidates/{}", ids[i % ids.len()]),
                            &mut get,
                        )
                    };
                    let t = Instant::now();
                    let r = client
                        .get(url)
                        .header("authorization", &auth)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    r.bytes().await.unwrap();
                    into.push(t.elapsed().as_micros() as u64);
                    i += 1;
                }
                (list, get)
            }));
        }
        let (mut list, mut get) = (Vec::new(), Vec::new());
        for t in tasks {
            let (l, g) = t.await.unwrap();
            list.extend(l);
            get.extend(g);
        }
        for (route, v) in [("list", &mut list), ("get", &mut get)] {
            v.sort_unstable();
            println!(
                "{clients:>8} {route:>6} {:>9.0} {:>7.2} {:>7.2} {:>7.2}",
                v.len() as f64 / secs as f64,
                percentile(v, 50) as f64 / 1000.0,
                percentile(v, 95) as f64 / 1000.0,
                percentile(v, 99) as f64 / 1000.0,
            );
        }
    }

    // Webhooks: a status change asked for, to the ATS receiving it.
    let mut sent = Vec::new();
    for (i, id) in ids.iter().take(100).enumerate() {
        let status = if i % 2 == 0 { "held" } else { "advanced" };
        let asked = Instant::now();
        let r = post(
            &format!("/candidates/{id}/status"),
            json!({"status": status, "reason": format!("load {i}")}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 200);
        sent.push((format!("\"load {i}\""), asked));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let arrived = arrivals.lock().unwrap().clone();
    let mut lat: Vec<u64> = sent
        .iter()
        .filter_map(|(tag, at)| {
            arrived
                .iter()
                .find(|(_, body)| body.contains(tag.as_str()))
                .map(|(got, _)| got.saturating_duration_since(*at).as_micros() as u64)
        })
        .collect();
    lat.sort_unstable();
    println!(
        "webhooks: {} of {} status changes reached the ATS; request → delivery p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        lat.len(),
        sent.len(),
        percentile(&lat, 50) as f64 / 1000.0,
        percentile(&lat, 95) as f64 / 1000.0,
        lat.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
}
