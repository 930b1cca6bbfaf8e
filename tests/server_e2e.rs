//! The back office end to end, through its API only: `voxhire server` on
//! loopback with its embedded store, an API key from `voxhire apikey create`,
//! a job made from the example script, a candidate played by
//! `voxhire-candidate`, the campaign started over HTTP, the real interview
//! (SIP, RTP, VAD, Whisper, NLU, TTS), and an ATS stand-in that receives the
//! signed webhooks — failing the first two `interview.completed` deliveries,
//! which must still arrive, as one logical delivery.

mod common;

use std::time::{Duration, Instant};

use common::candidate::Candidate;
use common::http::{request, request_raw, request_with, Ats};
use common::server::{
    api_key, assert_recording_plays, cookie_of, create_user, sign_in, Server, PASSWORD,
};
use common::voxhire::voxhire;
use common::{repo_root, Scratch};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};

fn verify(secret: &str, signature: &str, body: &str) -> bool {
    let Some((t, v1)) = signature
        .strip_prefix("t=")
        .and_then(|s| s.split_once(",v1="))
    else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

#[test]
fn a_job_is_interviewed_through_the_api_and_the_ats_gets_signed_webhooks() {
    let scratch = Scratch::new("server-e2e");
    let candidate = Candidate::start(scratch.path());
    let data = scratch.join("data");
    let key = api_key(&data, "write");
    let read_key = api_key(&data, "read");
    let server = Server::start(&scratch, &data);
    let ats = Ats::start("interview.completed", 2);
    let http = server.http;
    let post = |path: &str, body: Value| request(http, "POST", path, Some(&key), Some(&body));
    let get = |path: &str| request(http, "GET", path, Some(&key), None);

    // Who may do what.
    let r = request(http, "GET", "/api/v1/jobs", None, None);
    assert_eq!(
        (r.status, r.body["error"]["code"].clone()),
        (401, json!("unauthorized"))
    );
    let r = request(
        http,
        "POST",
        "/api/v1/jobs",
        Some(&read_key),
        Some(&json!({"title": "x", "script": ""})),
    );
    assert_eq!(r.status, 403, "{}", r.text);

    let r = post(
        "/api/v1/webhooks",
        json!({"url": format!("http://{}/hooks/voxhire", ats.addr),
               "events": ["interview.completed", "candidate.status_changed", "candidate.screened"]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let (webhook, secret) = (
        r.body["id"].as_str().unwrap().to_owned(),
        r.body["secret"].as_str().unwrap().to_owned(),
    );

    // A script with an error is refused with the line and key at fault.
    let r = post(
        "/api/v1/jobs",
        json!({"title": "Broken", "script": "id = \"x\"\nquestions = 7\n"}),
    );
    assert_eq!(
        (r.status, r.body["error"]["field"].clone()),
        (422, json!("script")),
        "{}",
        r.text
    );
    let script =
        std::fs::read_to_string(repo_root().join("config/interview-java-backend.en.toml")).unwrap();
    let requirements =
        json!({"must_have": ["Java"], "nice_to_have": ["Kafka", "k8s"], "min_years": 3});
    let r = post(
        "/api/v1/jobs",
        json!({"title": "Java backend engineer", "script": script,
                                        "requirements": {"must_have": ["Klingon"]}}),
    );
    assert_eq!(
        (r.status, r.body["error"]["field"].clone()),
        (422, json!("requirements")),
        "{}",
        r.text
    );
    let r = post(
        "/api/v1/jobs",
        json!({"title": "Java backend engineer", "script": script,
                                        "requirements": requirements}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let job = r.body["id"].as_str().unwrap().to_owned();

    let r = post(
        &format!("/api/v1/jobs/{job}/candidates"),
        json!({"name": "Alice Chen", "phone": format!("sip:alice@{}", candidate.sip),
               "language": "en", "timezone": "Asia/Shanghai", "external_id": "ats-4711",
               "resume_text": "Alice Chen\nBackend engineer, 6 years of experience.\nPayment services in Java and Spring Boot; event streams on Kafka."}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "shortlisted", "{}", r.text);
    let java = r.body["screening"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["requirement"] == "Java")
        .unwrap()
        .clone();
    assert!(
        java["quote"]
            .as_str()
            .unwrap()
            .contains("Java and Spring Boot"),
        "{java}"
    );
    let cand = r.body["id"].as_str().unwrap().to_owned();
    // A Mandarin résumé is read in Mandarin (years, K8s); a recruiter holds
    // this one back, so it is not dialled.
    let r = post(
        &format!("/api/v1/jobs/{job}/candidates"),
        json!({"name": "张伟", "phone": format!("sip:zhang@{}", candidate.sip), "language": "en",
               "resume_text": "张伟\n五年多后端开发经验。\n主要用Java和Spring Cloud，服务部署在K8s上。"}),
    );
    assert_eq!(
        (r.status, r.body["status"].clone()),
        (201, json!("shortlisted")),
        "{}",
        r.text
    );
    assert!(
        r.body["screening"]["years"].as_f64().unwrap() >= 5.0,
        "{}",
        r.text
    );
    let zhang = r.body["id"].as_str().unwrap().to_owned();
    let r = post(
        &format!("/api/v1/candidates/{zhang}/status"),
        json!({"status": "held", "reason": "the hiring manager reads it first"}),
    );
    assert_eq!(
        (r.status, r.body["status"].clone()),
        (200, json!("held")),
        "{}",
        r.text
    );
    // A résumé without the must-have is screened out, with the reasons.
    let r = post(
        &format!("/api/v1/jobs/{job}/candidates"),
        json!({"name": "Dev Front", "phone": format!("sip:dev@{}", candidate.sip),
               "resume_text": "Frontend developer, 2 years of React and TypeScript."}),
    );
    assert_eq!(
        (r.status, r.body["status"].clone()),
        (201, json!("screened_out")),
        "{}",
        r.text
    );
    let reasons = r.body["screening"]["reasons"].to_string();
    assert!(
        reasons.contains("Java") && reasons.contains("fewer than 3"),
        "{reasons}"
    );
    let r = post(
        &format!("/api/v1/jobs/{job}/candidates"),
        json!({"name": "Bad", "phone": "not a number"}),
    );
    assert_eq!(
        (r.status, r.body["error"]["field"].clone()),
        (422, json!("phone")),
        "{}",
        r.text
    );

    // A retried create with the same Idempotency-Key acts once and answers
    // the same; the key reused for another request is refused.
    let other = json!({"title": "Retried", "script": script});
    let once = |body: &Value| {
        request_with(
            http,
            "POST",
            "/api/v1/jobs",
            Some(&key),
            Some(body),
            &[("Idempotency-Key", "job-7")],
        )
    };
    let (first, again) = (once(&other), once(&other));
    assert_eq!((first.status, again.status), (201, 201), "{}", again.text);
    assert_eq!(first.body["id"], again.body["id"], "one job, not two");
    let r = once(&json!({"title": "Something else", "script": script}));
    assert_eq!(
        (r.status, r.body["error"]["field"].clone()),
        (422, json!("Idempotency-Key")),
        "{}",
        r.text
    );
    let jobs = get("/api/v1/jobs?limit=200");
    let retried = jobs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["title"] == "Retried")
        .count();
    assert_eq!(retried, 1, "{}", jobs.text);

    // A bulk import (CSV): each row created or refused on its own, by row.
    let retried_job = first.body["id"].as_str().unwrap();
    let csv = "name,phone,timezone,external_id\nHana Sato,sip:hana@127.0.0.1:5999,Asia/Tokyo,ats-1\nNo Phone,call me maybe,UTC,ats-2\n";
    let r = request_raw(
        http,
        "POST",
        &format!("/api/v1/jobs/{retried_job}/candidates/import"),
        Some(&key),
        Some(("text/csv", csv.as_bytes().to_vec())),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["created"].as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(
        (
            r.body["refused"][0]["row"].clone(),
            r.body["refused"][0]["field"].clone()
        ),
        (json!(2), json!("phone")),
        "{}",
        r.text
    );

    // Résumé files: a DOCX in Mandarin and a PDF in English, screened on
    // upload; a file that is neither is refused with the reason.
    let r = post(
        "/api/v1/jobs",
        json!({"title": "Screening only", "script": script, "requirements": requirements}),
    );
    let screening_job = r.body["id"].as_str().unwrap().to_owned();
    let r = post(
        &format!("/api/v1/jobs/{screening_job}/candidates"),
        json!({"name": "Li Na", "phone": "sip:lina@127.0.0.1:5999"}),
    );
    let lina = r.body["id"].as_str().unwrap().to_owned();
    let upload = |bytes: Vec<u8>, kind: &str| {
        request_raw(
            http,
            "PUT",
            &format!("/api/v1/candidates/{lina}/resume"),
            Some(&key),
            Some((kind, bytes)),
            &[],
        )
    };
    let r = upload(
        voxhire_server::resume::fixtures::docx(&[
            "李娜",
            "六年Java后端开发经验。",
            "熟悉Kafka和Kubernetes。",
        ]),
        "application/octet-stream",
    );
    assert_eq!(
        (r.status, r.body["status"].clone()),
        (200, json!("shortlisted")),
        "{}",
        r.text
    );
    let r = upload(
        voxhire_server::resume::fixtures::pdf(&["Li Na", "Frontend developer, 2 years of React."]),
        "application/pdf",
    );
    assert_eq!(
        (r.status, r.body["status"].clone()),
        (200, json!("screened_out")),
        "{}",
        r.text
    );
    let r = upload(vec![0xff, 0x00, 0x13, 0x37], "application/octet-stream");
    assert_eq!(
        (r.status, r.body["error"]["field"].clone()),
        (422, json!("resume")),
        "{}",
        r.text
    );

    let r = post(&format!("/api/v1/jobs/{job}/campaign/resume"), json!({}));
    assert_eq!(r.status, 409, "nothing to resume yet: {}", r.text);
    let r = post(&format!("/api/v1/jobs/{job}/campaign"), json!({}));
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["candidates"], 1, "{}", r.text);
    let r = post(&format!("/api/v1/jobs/{job}/campaign"), json!({}));
    assert_eq!(r.status, 409, "a second start while running: {}", r.text);

    // Paused while the candidate is on the phone: the interview finishes,
    // nobody new is dialled, and the campaign then says paused.
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(400);
        while !done() {
            assert!(
                Instant::now() < deadline,
                "still waiting for {what}: {}\n{}",
                get(&format!("/api/v1/jobs/{job}/campaign")).text,
                server.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    };
    wait_for("the call", &|| {
        get(&format!("/api/v1/candidates/{cand}")).body["status"] == "calling"
    });
    let r = post(&format!("/api/v1/jobs/{job}/campaign/pause"), json!({}));
    assert_eq!(
        (r.status, r.body["state"].clone()),
        (202, json!("pausing")),
        "{}",
        r.text
    );
    let r = post(&format!("/api/v1/jobs/{job}/campaign"), json!({}));
    assert_eq!(r.status, 409, "a start while pausing: {}", r.text);
    wait_for("the pause", &|| {
        get(&format!("/api/v1/jobs/{job}/campaign")).body["state"] == "paused"
    });
    let p = get(&format!("/api/v1/jobs/{job}/campaign"));
    assert_eq!(
        p.body["counts"]["interviewed"],
        1,
        "the call in progress finished its interview: {}\n{}",
        p.text,
        server.log()
    );
    let ended = Instant::now();
    let r = post(&format!("/api/v1/jobs/{job}/campaign/resume"), json!({}));
    assert_eq!(r.status, 202, "{}", r.text);
    wait_for("the end", &|| {
        get(&format!("/api/v1/jobs/{job}/campaign")).body["state"] == "finished"
    });

    // The ATS gets interview.completed: refused twice, then delivered — the
    // same delivery id each time, signed over the body, carrying the report.
    let deadline = Instant::now() + Duration::from_secs(60);
    let completed = loop {
        let got: Vec<_> = ats
            .all()
            .into_iter()
            .filter(|r| r.event == "interview.completed")
            .collect();
        if got.iter().any(|r| r.answered == 200) {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "no interview.completed delivered: {got:?}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(completed.len(), 3, "{completed:?}");
    assert!(
        completed
            .iter()
            .all(|r| r.delivery == completed[0].delivery),
        "{completed:?}"
    );
    for r in &completed {
        assert!(
            verify(&secret, &r.signature, &r.body),
            "bad signature {r:?}"
        );
        assert!(!verify("wrong secret", &r.signature, &r.body));
    }
    let body: Value = serde_json::from_str(&completed[2].body).unwrap();
    assert_eq!(body["type"], "interview.completed");
    assert_eq!(body["data"]["candidate_id"], cand.as_str());
    assert_eq!(body["data"]["report"]["status"], "completed", "{body:#}");
    assert!(
        body["data"]["report"]["score"].as_f64().unwrap() > 0.0,
        "{body:#}"
    );
    println!(
        "interview.completed delivered {:.1} s after the campaign settled (two refusals, backoff 1 s + 2 s)",
        completed[2].at.saturating_duration_since(ended).as_secs_f64()
    );

    // Status updates went out too, with the ATS's own id.
    let statuses: Vec<Value> = ats
        .all()
        .into_iter()
        .filter(|r| r.event == "candidate.status_changed")
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    let seen: Vec<&str> = statuses
        .iter()
        .filter(|s| s["data"]["candidate_id"] == cand.as_str())
        .filter_map(|s| s["data"]["status"].as_str())
        .collect();
    assert_eq!(seen, ["calling", "interviewed"], "{statuses:?}");
    assert!(statuses
        .iter()
        .filter(|s| s["data"]["candidate_id"] == cand.as_str())
        .all(|s| s["data"]["external_id"] == "ats-4711"));
    let screened = ats
        .all()
        .iter()
        .filter(|r| r.event == "candidate.screened")
        .count();
    assert_eq!(
        screened, 5,
        "one candidate.screened per résumé: three created, two uploaded"
    );

    // The outbox shows one logical delivery of the result, delivered on the third try.
    let d = get(&format!("/api/v1/webhooks/{webhook}/deliveries"));
    let results: Vec<&Value> = d.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["event_type"] == "interview.completed")
        .collect();
    assert_eq!(results.len(), 1, "{}", d.text);
    assert_eq!(
        (results[0]["state"].clone(), results[0]["attempts"].clone()),
        (json!("delivered"), json!(3))
    );

    // The candidate's history and result, through the API.
    let ev = get(&format!("/api/v1/candidates/{cand}/events"));
    let history: Vec<&str> = ev.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["status"].as_str())
        .collect();
    assert_eq!(
        history,
        ["imported", "shortlisted", "calling", "interviewed"],
        "{}",
        ev.text
    );
    let iv = get(&format!("/api/v1/candidates/{cand}/interviews"));
    assert_eq!(iv.body["items"][0]["status"], "completed", "{}", iv.text);
    assert_eq!(iv.body["items"][0]["report"]["status"], "completed");

    // The interview's files: the transcript, and the recording streamed with
    // range support (a player seeking in it gets 206 and just those bytes).
    let interview = iv.body["items"][0]["id"].as_str().unwrap().to_owned();
    let one = get(&format!("/api/v1/interviews/{interview}"));
    assert_eq!(
        one.body["files"]["recording"],
        format!("/api/v1/interviews/{interview}/recording"),
        "{}",
        one.text
    );
    let t = get(&format!("/api/v1/interviews/{interview}/transcript"));
    assert_eq!(t.status, 200, "{}", t.text);
    assert!(
        t.body["turns"]
            .as_array()
            .is_some_and(|turns| turns.len() >= 4),
        "{}",
        t.text
    );
    let whole = get(&format!("/api/v1/interviews/{interview}/recording"));
    assert_eq!(
        (whole.status, whole.header("content-type")),
        (200, Some("audio/wav")),
        "{}",
        whole.head
    );
    assert_eq!(&whole.bytes[..4], b"RIFF");
    assert!(
        whole.bytes.len() > 16_000 * 10,
        "{} bytes",
        whole.bytes.len()
    );

    // Nothing of the call is on disk in the clear: no WAV or JSON file, no
    // name. What the API sends is the sealed recording, byte for byte.
    let run_dir = find_file(&data, "recording.wav")
        .parent()
        .unwrap()
        .to_path_buf();
    let keys = voxhire_vault::Keyring::parse(common::voxhire::TEST_MASTER_KEYS, "test").unwrap();
    let plain = voxhire_engine::archive::read(&run_dir.join("recording.wav"), Some(&keys)).unwrap();
    assert!(
        plain == whole.bytes,
        "the API's recording is the sealed one decrypted"
    );
    let wav = hound::WavReader::new(std::io::Cursor::new(&whole.bytes)).unwrap();
    assert_eq!((wav.spec().channels, wav.spec().sample_rate), (2, 8000));
    assert!(wav.duration() > 8000 * 10, "{} samples", wav.duration());
    for file in files_under(&data) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&file).unwrap();
        // The store holds her name, number and résumé sealed too.
        for trace in [&b"Alice"[..], b"sip:alice@", b"Payment services"] {
            assert!(
                !bytes.windows(trace.len()).any(|w| w == trace),
                "{} holds {:?} in the clear",
                file.display(),
                String::from_utf8_lossy(trace)
            );
        }
        if name.starts_with("voxhire.sqlite") || name == "script.toml" {
            continue; // The store's pages, and the job's script.
        }
        assert!(
            !bytes.starts_with(b"RIFF") && !bytes.starts_with(b"{") && !bytes.starts_with(b"["),
            "{} is in the clear",
            file.display()
        );
    }
    let part = request_with(
        http,
        "GET",
        &format!("/api/v1/interviews/{interview}/recording"),
        Some(&read_key),
        None,
        &[("Range", "bytes=8-15")],
    );
    assert_eq!(part.status, 206, "{}", part.head);
    assert_eq!(part.bytes, whole.bytes[8..16]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 8-15/{}", whole.bytes.len()).as_str())
    );
    let r = get(&format!("/api/v1/interviews/{interview}/secrets"));
    assert_eq!(r.status, 404, "{}", r.text);
    let r = request(
        http,
        "GET",
        &format!("/api/v1/interviews/{interview}/recording"),
        None,
        None,
    );
    assert_eq!(r.status, 401, "{}", r.text);

    // An authorised export decrypts the interview's files, byte for byte
    // what the API serves, and is audited.
    let export = scratch.join("export");
    let out = voxhire()
        .args(["archive", "export", "--interview", &interview, "--out"])
        .arg(&export)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read(export.join("recording.wav")).unwrap() == whole.bytes);
    let exported: Value =
        serde_json::from_slice(&std::fs::read(export.join("transcript.json")).unwrap()).unwrap();
    assert_eq!(exported, t.body, "the exported transcript is the API's");
    std::fs::remove_dir_all(&export).unwrap();

    // Alice asks to be erased: an admin does it, and nothing of her name,
    // number or voice is left in the store or the archive; the audit trail,
    // which names ids only, still verifies.
    let admin = create_user(&data, "dpo@example.com", "admin");
    let code = admin.totp.generate_current().to_string();
    let admin_cookie = cookie_of(&sign_in(http, &admin.email, PASSWORD, &code));
    let erase = |who: &[(&str, &str)], key: Option<&str>| {
        request_with(
            http,
            "POST",
            &format!("/api/v1/candidates/{cand}/erase"),
            key,
            None,
            who,
        )
    };
    assert_eq!(
        erase(&[], Some(&key)).status,
        403,
        "a write key may not erase"
    );
    let r = erase(&[("Cookie", &admin_cookie)], None);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["call_dirs_removed"], 1, "{}", r.text);
    let c = get(&format!("/api/v1/candidates/{cand}"));
    assert_eq!(
        (c.body["name"].clone(), c.body["status"].clone()),
        (json!("[erased]"), json!("erased")),
        "{}",
        c.text
    );
    let rec = get(&format!("/api/v1/interviews/{interview}/recording"));
    assert_eq!(rec.status, 404, "{}", rec.text);
    assert!(!run_dir.exists(), "the call's files are gone");
    for file in files_under(&data) {
        let bytes = std::fs::read(&file).unwrap();
        for trace in [
            &b"Alice Chen"[..],
            b"sip:alice@",
            b"Payment services in Java",
        ] {
            assert!(
                !bytes.windows(trace.len()).any(|w| w == trace),
                "{} still holds {:?} after erasure",
                file.display(),
                String::from_utf8_lossy(trace)
            );
        }
    }
    let out = voxhire()
        .args(["audit", "verify", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    drop(server.guard);
}

/// SIGTERM stops the server cleanly (exit 0), with the store left open-able:
/// a second start on the same data directory applies no migration twice and
/// still knows the API key.
#[test]
fn the_server_stops_on_sigterm_and_restarts_on_its_store() {
    let scratch = Scratch::new("server-restart");
    let data = scratch.join("data");
    let key = api_key(&data, "read");
    let mut server = Server::start(&scratch, &data);
    let r = request(server.http, "GET", "/api/v1/jobs", Some(&key), None);
    assert_eq!(r.status, 200, "{}", r.text);
    server.guard.signal("TERM");
    let status = server.guard.wait_timeout(Duration::from_secs(20));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "exit on SIGTERM\n{}",
        server.log()
    );
    let again = Server::start(&scratch, &data);
    let r = request(again.http, "GET", "/api/v1/jobs", Some(&key), None);
    assert_eq!(r.status, 200, "the key survives a restart: {}", r.text);
    // The API describes itself: OpenAPI 3.1, every route, and a reference
    // page rendered from it (both public).
    let doc = request(again.http, "GET", "/api/v1/openapi.json", None, None);
    assert_eq!(doc.status, 200, "{}", doc.text);
    assert!(
        doc.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc.body["openapi"]
    );
    for (path, method) in [
        ("/api/v1/jobs", "post"),
        ("/api/v1/jobs/{id}/candidates/import", "post"),
        ("/api/v1/jobs/{id}/campaign/pause", "post"),
        ("/api/v1/candidates/{id}/resume", "put"),
        ("/api/v1/interviews/{id}/{file}", "get"),
        ("/api/v1/webhooks/{id}/deliveries", "get"),
    ] {
        assert!(
            doc.body["paths"][path][method].is_object(),
            "{method} {path} undescribed"
        );
    }
    assert!(doc.body["components"]["securitySchemes"]["api_key"].is_object());
    let page = request(again.http, "GET", "/api/v1/docs", None, None);
    assert_eq!(page.status, 200);
    assert!(
        page.text
            .contains("<code>/api/v1/jobs/{id}/campaign/resume</code>"),
        "{}",
        page.text
    );
    let r = request(again.http, "GET", "/api/v1/nowhere", Some(&key), None);
    assert_eq!(
        (r.status, r.body["error"]["code"].clone()),
        (404, json!("not_found"))
    );

    // A revoked key is refused at once; revoking it twice says so.
    let listed = voxhire()
        .args(["apikey", "list", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let first: Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    assert!(!listed.contains(&key), "list never shows a key: {listed}");
    let id = first["id"].as_str().unwrap();
    let revoke = |id: &str| {
        voxhire()
            .args(["apikey", "revoke", id, "--data"])
            .arg(&data)
            .output()
            .unwrap()
    };
    assert!(revoke(id).status.success());
    let r = request(again.http, "GET", "/api/v1/jobs", Some(&key), None);
    assert_eq!(r.status, 401, "{}", r.text);
    let twice = revoke(id);
    assert!(!twice.status.success());
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("no key"),
        "{:?}",
        twice
    );
    let r = request(again.http, "GET", "/api/v1/nowhere", Some(&key), None);
    assert_eq!(
        r.status, 404,
        "an unknown route is 404 before any key check"
    );
}

/// A job's campaign settings are checked and kept; its campaign can be
/// paused, resumed and cancelled, and one left running resumes when the
/// server starts again. The calling window opens in six hours, so nobody is
/// dialled meanwhile.
#[test]
fn a_campaign_keeps_its_window_and_state_across_pause_resume_restart_and_cancel() {
    let scratch = Scratch::new("server-campaign-states");
    let data = scratch.join("data");
    let key = api_key(&data, "write");
    let mut server = Server::start(&scratch, &data);
    let script =
        std::fs::read_to_string(repo_root().join("config/interview-java-backend.en.toml")).unwrap();
    let call = |server: &Server, method: &str, path: &str, body: Option<Value>| {
        request(server.http, method, path, Some(&key), body.as_ref())
    };

    let r = call(
        &server,
        "POST",
        "/api/v1/jobs",
        Some(json!({"title": "x", "script": script,
            "campaign": {"retry": {"max_attempts": 2, "backoff_secs": [60], "on": ["busy", "engaged"]}}})),
    );
    assert_eq!(
        (r.status, r.body["error"]["field"].clone()),
        (422, json!("campaign.retry.on[1]")),
        "{}",
        r.text
    );
    let hour = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 3600
        + 6)
        % 24;
    let window = json!({"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "start": format!("{hour:02}:00"), "end": format!("{hour:02}:30")});
    let r = call(
        &server,
        "POST",
        "/api/v1/jobs",
        Some(json!({"title": "Night shift", "script": script,
            "campaign": {"calling_window": window, "ring_timeout_secs": 20}})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["campaign"]["calling_window"], window, "{}", r.text);
    let job = r.body["id"].as_str().unwrap().to_owned();
    let r = call(
        &server,
        "POST",
        &format!("/api/v1/jobs/{job}/candidates"),
        Some(json!({"name": "Sam", "phone": "sip:sam@127.0.0.1:9", "timezone": "UTC"})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let cand = r.body["id"].as_str().unwrap().to_owned();

    let campaign = format!("/api/v1/jobs/{job}/campaign");
    let state = |server: &Server| call(server, "GET", &campaign, None).body["state"].clone();
    let wait_state = |server: &Server, want: &str| {
        // The campaign loads the job's models first (seconds).
        let deadline = Instant::now() + Duration::from_secs(90);
        while state(server) != want {
            assert!(
                Instant::now() < deadline,
                "campaign never {want}\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    assert_eq!(state(&server), "idle");
    let r = call(&server, "POST", &format!("{campaign}/pause"), None);
    assert_eq!(r.status, 409, "nothing to pause: {}", r.text);
    let r = call(&server, "POST", &campaign, None);
    assert_eq!(
        (r.status, r.body["state"].clone()),
        (202, json!("running")),
        "{}",
        r.text
    );
    let r = call(&server, "POST", &format!("{campaign}/pause"), None);
    assert_eq!(r.status, 202, "{}", r.text);
    wait_state(&server, "paused");
    let r = call(&server, "POST", &campaign, None);
    assert_eq!(
        r.status, 409,
        "a paused campaign is resumed, not started: {}",
        r.text
    );
    let r = call(&server, "POST", &format!("{campaign}/resume"), None);
    assert_eq!(
        (r.status, r.body["state"].clone()),
        (202, json!("running")),
        "{}",
        r.text
    );

    // Stopped with SIGTERM while running; the next start picks it up.
    server.guard.signal("TERM");
    let status = server.guard.wait_timeout(Duration::from_secs(90));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", server.log());
    let server = Server::start(&scratch, &data);
    assert_eq!(
        state(&server),
        "running",
        "resumed at start\n{}",
        server.log()
    );

    let r = call(&server, "POST", &format!("{campaign}/cancel"), None);
    assert_eq!(r.status, 202, "{}", r.text);
    wait_state(&server, "cancelled");
    let r = call(&server, "POST", &format!("{campaign}/cancel"), None);
    assert_eq!(r.status, 409, "{}", r.text);

    // Nobody was dialled outside the window.
    let ev = call(
        &server,
        "GET",
        &format!("/api/v1/candidates/{cand}/events"),
        None,
    );
    let history: Vec<&str> = ev.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["status"].as_str())
        .collect();
    assert_eq!(history, ["imported"], "{}", ev.text);
}

/// Every file under `dir`.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn find_file(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    files_under(dir)
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == name))
        .unwrap_or_else(|| panic!("no {name} under {}", dir.display()))
}

/// A deploy restarts the server mid-interview: SIGTERM ends the call with
/// BYE (the candidate hears the agent hang up), the server exits 0 with the
/// attempt recorded and its files kept, and the campaign, left running,
/// resumes when the server starts again.
#[test]
fn sigterm_during_an_interview_hangs_up_records_the_attempt_and_resumes() {
    let scratch = Scratch::new("server-sigterm-call");
    let candidate = Candidate::start(scratch.path());
    let data = scratch.join("data");
    let key = api_key(&data, "write");
    let (mut server, job, cand) = alice_being_called(&scratch, &candidate, &data, &key);
    let call = |server: &Server, method: &str, path: &str, body: Option<Value>| {
        request(server.http, method, path, Some(&key), body.as_ref())
    };
    // Well into the interview (the greeting alone is several seconds).
    std::thread::sleep(Duration::from_secs(8));
    server.guard.signal("TERM");
    let status = server.guard.wait_timeout(Duration::from_secs(60));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", server.log());
    let line = candidate.next_call(Duration::from_secs(30));
    assert_eq!(
        (line["outcome"].clone(), line["sip_status"].clone()),
        (json!("agent_hung_up"), json!(200)),
        "the candidate was hung up on with BYE, mid-interview: {line}"
    );

    let server = Server::start(&scratch, &data);
    let iv = call(
        &server,
        "GET",
        &format!("/api/v1/candidates/{cand}/interviews"),
        None,
    );
    assert_eq!(iv.status, 200, "{}", iv.text);
    let first = &iv.body["items"][0];
    assert_eq!(
        first["attempt_no"], 1,
        "the interrupted attempt is on record: {}",
        iv.text
    );
    assert!(
        first["files"]["recording"].is_string(),
        "its recording is kept: {}",
        iv.text
    );
    let rec = call(
        &server,
        "GET",
        first["files"]["recording"].as_str().unwrap(),
        None,
    );
    assert_eq!(rec.status, 200);
    assert!(
        rec.bytes.len() > 44 + 32_000 * 4,
        "seconds of audio: {} bytes",
        rec.bytes.len()
    );
    let c = call(
        &server,
        "GET",
        &format!("/api/v1/jobs/{job}/campaign"),
        None,
    );
    assert!(
        matches!(c.body["state"].as_str(), Some("running" | "finished")),
        "the campaign picked up where it was: {}",
        c.text
    );
    assert!(
        server
            .log()
            .contains("resumed the campaign that was running"),
        "the campaign left running was resumed at start: {}",
        server.log()
    );
    let r = call(
        &server,
        "POST",
        &format!("/api/v1/jobs/{job}/campaign/cancel"),
        None,
    );
    assert!(matches!(r.status, 202 | 409), "{}", r.text);
}

/// The server is killed (-9) mid-interview. At the next start the call it
/// left up is ended with a BYE, the attempt it left in progress is closed as
/// interrupted, with the recording and the
/// event log written so far repaired and served, and the candidate is no
/// longer stuck in `calling`.
#[test]
fn a_killed_server_closes_the_interrupted_attempt_and_keeps_its_files() {
    let scratch = Scratch::new("server-kill-call");
    let candidate = Candidate::start(scratch.path());
    let data = scratch.join("data");
    let key = api_key(&data, "write");
    let (mut server, job, cand) = alice_being_called(&scratch, &candidate, &data, &key);
    let call = |server: &Server, method: &str, path: &str, body: Option<Value>| {
        request(server.http, method, path, Some(&key), body.as_ref())
    };
    let iv = call(
        &server,
        "GET",
        &format!("/api/v1/candidates/{cand}/interviews"),
        None,
    );
    assert_eq!(
        iv.body["items"][0]["outcome"], "in_progress",
        "the attempt is on record from the dial: {}",
        iv.text
    );
    // Long enough for the recording's first sealed chunk (64 KiB, 2 s of stereo).
    std::thread::sleep(Duration::from_secs(10));
    server.guard.signal("KILL");
    server.guard.wait_timeout(Duration::from_secs(10));

    let server = Server::start(&scratch, &data);
    // The restarted server ended the dead server's call with a BYE: the
    // candidate heard the agent hang up (without it, the simulator waits 60 s
    // of silence and gives up, as a person would hang up on dead air).
    let line = candidate.next_call(Duration::from_secs(30));
    assert_eq!(line["outcome"], "agent_hung_up", "{line}\n{}", server.log());
    assert!(
        server.log().contains("ended a call the last run left up"),
        "{}",
        server.log()
    );
    let c = call(&server, "GET", &format!("/api/v1/candidates/{cand}"), None);
    assert!(
        matches!(c.body["status"].as_str(), Some("interrupted" | "calling")),
        "no longer stuck in the dead call's status: {}",
        c.text
    );
    let iv = call(
        &server,
        "GET",
        &format!("/api/v1/candidates/{cand}/interviews"),
        None,
    );
    let first = &iv.body["items"][0];
    assert_eq!(
        (first["attempt_no"].clone(), first["outcome"].clone()),
        (json!(1), json!("failed")),
        "{}",
        iv.text
    );
    assert_recording_plays(&server, &key, first);
    let ev = call(
        &server,
        "GET",
        first["files"]["events"]
            .as_str()
            .expect("a repaired event log"),
        None,
    );
    assert!(
        ev.text.contains("\"invite\""),
        "the log's whole 1 KiB chunks survive: {}",
        ev.text
    );
    let history = call(
        &server,
        "GET",
        &format!("/api/v1/candidates/{cand}/events"),
        None,
    );
    assert!(history.text.contains("interrupted"), "{}", history.text);
    let r = call(
        &server,
        "POST",
        &format!("/api/v1/jobs/{job}/campaign/cancel"),
        None,
    );
    assert!(matches!(r.status, 202 | 409), "{}", r.text);
}

/// A server running a campaign for the simulated Alice (the example English
/// script), returned once she is being called: the server, the job, her id.
fn alice_being_called(
    scratch: &Scratch,
    candidate: &Candidate,
    data: &std::path::Path,
    key: &str,
) -> (Server, String, String) {
    let server = Server::start(scratch, data);
    let post = |path: &str, body: Value| request(server.http, "POST", path, Some(key), Some(&body));
    let script =
        std::fs::read_to_string(repo_root().join("config/interview-java-backend.en.toml")).unwrap();
    let r = post("/api/v1/jobs", json!({"title": "x", "script": script}));
    assert_eq!(r.status, 201, "{}", r.text);
    let job = r.body["id"].as_str().unwrap().to_owned();
    let r = post(
        &format!("/api/v1/jobs/{job}/candidates"),
        json!({"name": "Alice Chen", "phone": format!("sip:alice@{}", candidate.sip)}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let cand = r.body["id"].as_str().unwrap().to_owned();
    let r = post(&format!("/api/v1/jobs/{job}/campaign"), json!({}));
    assert_eq!(r.status, 202, "{}", r.text);
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = || {
        request(
            server.http,
            "GET",
            &format!("/api/v1/candidates/{cand}"),
            Some(key),
            None,
        )
        .body["status"]
            .clone()
    };
    while status() != "calling" {
        assert!(Instant::now() < deadline, "never dialled\n{}", server.log());
        std::thread::sleep(Duration::from_millis(250));
    }
    (server, job, cand)
}
