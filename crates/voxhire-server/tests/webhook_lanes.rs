//! One subscriber's ATS hanging does not hold up another's: the hanging one
//! keeps its connection open (the delivery waits out its timeout), and the
//! healthy one gets its delivery meanwhile. Real sockets, a real store.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use voxhire_server::store::{timestamp, Store};
use voxhire_server::{secrets, webhooks};
use voxhire_vault::Keyring;

async fn subscribe(store: &Store, keys: &Keyring, id: &str, url: &str) {
    sqlx::query("INSERT INTO webhooks (id, url, secret, events, created_at) VALUES (?1, ?2, ?3, '[\"*\"]', ?4)")
        .bind(id)
        .bind(url)
        .bind(voxhire_vault::seal(keys, &secrets::webhook_label(id), b"whsec_test"))
        .bind(timestamp(chrono::Utc::now()))
        .execute(&store.pool)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_subscriber_does_not_delay_another() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("data"), None).await.unwrap();
    let keys = Arc::new(Keyring::generate());

    // Accepts and reads, never answers, until the test ends.
    let hanging = TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging_addr = hanging.local_addr().unwrap();
    let (held_tx, held_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut conn, _) = hanging.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = conn.read(&mut buf);
        held_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_secs(60));
    });
    // Answers 200 and hands over what it got.
    let healthy = TcpListener::bind("127.0.0.1:0").unwrap();
    let healthy_addr = healthy.local_addr().unwrap();
    let (got_tx, got_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut conn, _) = healthy.accept().unwrap();
        let mut buf = vec![0u8; 65536];
        let n = conn.read(&mut buf).unwrap();
        conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .unwrap();
        got_tx
            .send(String::from_utf8_lossy(&buf[..n]).into_owned())
            .unwrap();
    });

    // The hanging subscriber first, so a single queue would serve it first.
    subscribe(
        &store,
        &keys,
        "whk_hanging",
        &format!("http://{hanging_addr}/hook"),
    )
    .await;
    subscribe(
        &store,
        &keys,
        "whk_healthy",
        &format!("http://{healthy_addr}/hook"),
    )
    .await;
    let mut tx = store.pool.begin().await.unwrap();
    let queued = webhooks::enqueue(
        &mut tx,
        &keys,
        "candidate.status_changed",
        serde_json::json!({"candidate_id": "cand_1", "status": "interviewed"}),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(queued, 2);

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let deliverer = tokio::spawn(webhooks::deliver(
        store.clone(),
        keys.clone(),
        Arc::new(tokio::sync::Notify::new()),
        stop_rx,
    ));
    let got = tokio::task::spawn_blocking(move || {
        held_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the hanging ATS was called");
        // Its delivery now waits out the 10 s timeout; the other must not.
        got_rx.recv_timeout(Duration::from_secs(5))
    })
    .await
    .unwrap()
    .expect("the healthy ATS got its delivery while the other one hung");
    assert!(got.contains("\"interviewed\""), "{got}");
    assert!(
        got.to_ascii_lowercase().contains("voxhire-signature: t="),
        "{got}"
    );
    stop_tx.send(true).unwrap();
    deliverer.await.unwrap();
}
