//! Staff sign-in, roles and the audit trail, through the real server:
//! accounts made with `voxhire user create`, signed in with codes from their
//! authenticator (RFC 6238), every API route walked with every kind of
//! caller, and the audit trail checked, then tampered with on disk.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::http::{request, request_with};
use common::server::{
    api_key_in, cookie_of, create_user, create_user_in, sign_in, Server, PASSWORD,
};
use common::voxhire::voxhire;
use common::Scratch;
use serde_json::{json, Value};

fn run_verify(data: &Path) -> (bool, Value, String) {
    run_verify_in(data, None)
}

fn run_verify_in(data: &Path, database: Option<&str>) -> (bool, Value, String) {
    let mut cmd = voxhire();
    cmd.args(["audit", "verify", "--data"]).arg(data);
    if let Some(url) = database {
        cmd.args(["--database", url]);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        out.status.success(),
        serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs SQL on a copy of the store as someone with the disk would (the
/// append-only triggers dropped first).
fn tamper(data: &Path, copy: &Path, sql: &str) {
    std::fs::create_dir_all(copy).unwrap();
    std::fs::copy(data.join("voxhire.sqlite"), copy.join("voxhire.sqlite")).unwrap();
    let script = format!(
        "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.executescript('''DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; {sql}''')\nc.commit()\n"
    );
    python_on(&script, &copy.join("voxhire.sqlite"));
}

/// Runs a Python script on a store file (as someone with the disk would,
/// with Python's own sqlite3), which must succeed.
fn python_on(script: &str, db: &Path) {
    let st = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(db)
        .status()
        .unwrap();
    assert!(st.success(), "the script on {} failed", db.display());
}

#[test]
fn staff_sign_in_with_totp_roles_on_every_route_and_a_tamper_evident_audit_trail() {
    let scratch = Scratch::new("security-e2e");
    let data = scratch.join("data");
    let (mut server, cand_id) = sign_ins_and_every_route(&scratch, &data, None);
    server.guard.signal("TERM");
    server
        .guard
        .wait_timeout(std::time::Duration::from_secs(30));

    // The trail verifies; one edited, deleted or reordered entry is named.
    let (ok, v, err) = run_verify(&data);
    assert!(ok, "{v} {err}");
    let n = v["entries"].as_i64().unwrap();
    assert!(n > 20, "{v}");
    assert_eq!(v["macs_checked"], true);
    let cases = [
        ("edit", "UPDATE audit_log SET object = 'cand_other' WHERE seq = 7".to_owned(), 7),
        ("delete", "DELETE FROM audit_log WHERE seq = 9".to_owned(), 9),
        (
            "reorder",
            "UPDATE audit_log SET seq = -1 WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = 6; UPDATE audit_log SET seq = 6 WHERE seq = -1".to_owned(),
            5,
        ),
        (
            // Rewritten from entry 11 on with the hashes recomputed: only the
            // MAC, which needs the master key, gives it away.
            "rechain",
            "UPDATE audit_log SET action = 'read.nothing' WHERE seq = 11".to_owned(),
            11,
        ),
    ];
    for (name, sql, at) in cases {
        let copy = scratch.join(&format!("tampered-{name}"));
        tamper(&data, &copy, &sql);
        if name == "rechain" {
            rechain(&copy.join("voxhire.sqlite"), 11);
        }
        let (ok, v, err) = run_verify(&copy);
        assert!(!ok, "{name}: {v}");
        assert_eq!(v["broken_at"], at, "{name}: {v} {err}");
        assert!(err.contains(&format!("entry {at}")), "{name}: {err}");
        if name == "rechain" {
            assert!(v["why"].as_str().unwrap().contains("MAC"), "{v}");
        }
    }

    // Rotation: a new master key, every secret re-wrapped under it; the old
    // key can then go, and the trail still verifies with the new one alone.
    let late = create_user(&data, "late@example.com", "recruiter");
    let key_file = scratch.join("master.key");
    std::fs::write(
        &key_file,
        format!("{}\n", common::voxhire::TEST_MASTER_KEYS),
    )
    .unwrap();
    let out = voxhire()
        .args(["keys", "rotate", "--keys"])
        .arg(&key_file)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rotated: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        rotated["secrets"].as_i64().unwrap() >= 5,
        "4 TOTP secrets and the MAC key: {rotated}"
    );
    let lines = std::fs::read_to_string(&key_file).unwrap();
    let newest = scratch.join("newest.key");
    std::fs::write(&newest, lines.lines().last().unwrap()).unwrap();
    let out = voxhire()
        .env_remove("VOXHIRE_MASTER_KEYS")
        .args(["audit", "verify", "--keys"])
        .arg(&newest)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(
        out.status.success(),
        "{v} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        (v["intact"].clone(), v["macs_checked"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(
        v["entries"].as_i64(),
        Some(n + 2),
        "the new user and the rotation are in the trail"
    );

    // The server on the new key alone: TOTP secrets and candidates' names,
    // sealed under the old key, were re-wrapped and still open.
    let server = Server::start_with(&scratch, &data, &["--keys", newest.to_str().unwrap()]);
    let code = late.totp.generate_current().to_string();
    let cookie = cookie_of(&sign_in(server.http, &late.email, PASSWORD, &code));
    let r = request_with(
        server.http,
        "GET",
        &format!("/api/v1/candidates/{cand_id}"),
        None,
        None,
        &[("Cookie", &cookie)],
    );
    assert_eq!(
        (r.status, r.body["name"].clone()),
        (200, json!("Wang Fang")),
        "{}",
        r.text
    );
}

/// The same back office on a PostgreSQL store: staff, keys, every route with
/// every caller, the audit trail (appended under the table lock) intact.
#[test]
fn the_back_office_runs_on_a_postgresql_store() {
    let scratch = Scratch::new("security-e2e-pg");
    let pg = common::postgres::Postgres::start();
    let data = scratch.join("data");
    let db = Some(pg.url.as_str());
    let (server, cand) = sign_ins_and_every_route(&scratch, &data, db);
    let http = server.http;
    let key = api_key_in(&data, db, "write");
    let post = |path: &str, body: Value, headers: &[(&str, &str)]| {
        request_with(http, "POST", path, Some(&key), Some(&body), headers)
    };
    // A webhook (its secret sealed into BYTEA), a job created twice with one
    // Idempotency-Key (acted on once, the sealed answer replayed).
    let r = post(
        "/api/v1/webhooks",
        json!({"url": "http://127.0.0.1:9/hooks", "events": ["candidate.status_changed"]}),
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let hook = r.body["id"].as_str().unwrap().to_owned();
    let script =
        std::fs::read_to_string(common::repo_root().join("config/interview-java-backend.en.toml"))
            .unwrap();
    let job = json!({"title": "Backend", "script": script});
    let first = post("/api/v1/jobs", job.clone(), &[("Idempotency-Key", "job-1")]);
    let again = post("/api/v1/jobs", job, &[("Idempotency-Key", "job-1")]);
    assert_eq!((first.status, again.status), (201, 201), "{}", again.text);
    assert_eq!(
        first.body["id"], again.body["id"],
        "one job: {}",
        again.text
    );
    // A status change queues its webhook; the delivery is listed.
    let r = post(
        &format!("/api/v1/candidates/{cand}/status"),
        json!({"status": "rejected", "reason": "not a fit"}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let deliveries = request(
        http,
        "GET",
        &format!("/api/v1/webhooks/{hook}/deliveries"),
        Some(&key),
        None,
    );
    assert_eq!(deliveries.status, 200, "{}", deliveries.text);
    assert!(
        deliveries.text.contains("candidate.status_changed"),
        "{}",
        deliveries.text
    );
    // Erasure, by an admin: the name is gone from the store.
    let admin = create_user_in(&data, db, "dpo@example.com", "admin");
    let code = admin.totp.generate_current().to_string();
    let cookie = cookie_of(&sign_in(http, &admin.email, PASSWORD, &code));
    let r = request_with(
        http,
        "POST",
        &format!("/api/v1/candidates/{cand}/erase"),
        None,
        None,
        &[("Cookie", &cookie)],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let c = request(
        http,
        "GET",
        &format!("/api/v1/candidates/{cand}"),
        Some(&key),
        None,
    );
    assert_eq!(
        (c.body["name"].clone(), c.body["status"].clone()),
        (json!("[erased]"), json!("erased")),
        "{}",
        c.text
    );
    let (ok, v, err) = run_verify_in(&data, db);
    assert!(ok, "{v} {err}");
    assert!(v["entries"].as_i64().unwrap() > 20, "{v}");
    drop(server);
}

/// Staff accounts and keys made, sign-ins tried, every route walked with every
/// kind of caller, a candidate's data read into the audit trail, a session
/// ended; returns the running server and the candidate's id.
fn sign_ins_and_every_route(
    scratch: &Scratch,
    data: &Path,
    database: Option<&str>,
) -> (Server, String) {
    let admin = create_user_in(data, database, "admin@example.com", "admin");
    let recruiter = create_user_in(data, database, "recruiter@example.com", "recruiter");
    let auditor = create_user_in(data, database, "auditor@example.com", "auditor");
    let locked = create_user_in(data, database, "locked@example.com", "recruiter");
    let read_key = api_key_in(data, database, "read");
    let write_key = api_key_in(data, database, "write");
    let extra: Vec<&str> = database
        .map(|url| vec!["--database", url])
        .unwrap_or_default();
    let server = Server::start_with(scratch, data, &extra);
    // Sign-in: the password alone, a wrong code and a replayed code fail.
    let r = sign_in(server.http, &admin.email, PASSWORD, "");
    assert_eq!(r.status, 401, "{}", r.text);
    let http = server.http;
    let code = admin.totp.generate_current().to_string();
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    assert_eq!(sign_in(http, &admin.email, PASSWORD, &wrong).status, 401);
    let r = sign_in(http, &admin.email, PASSWORD, &code);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["role"], "admin");
    let admin_cookie = cookie_of(&r);
    let r = sign_in(http, &admin.email, PASSWORD, &code);
    assert_eq!(r.status, 401, "a used code is refused: {}", r.text);
    let r = sign_in(http, "nobody@example.com", PASSWORD, &code);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body["error"]["message"], "wrong email, password or code",
        "an unknown email is not told apart"
    );

    let code = recruiter.totp.generate_current().to_string();
    let recruiter_cookie = cookie_of(&sign_in(http, &recruiter.email, PASSWORD, &code));
    // A recovery code works once, instead of the authenticator.
    let r = sign_in(http, &auditor.email, PASSWORD, &auditor.recovery[0]);
    assert_eq!(r.status, 200, "{}", r.text);
    let auditor_cookie = cookie_of(&r);
    assert_eq!(
        sign_in(http, &auditor.email, PASSWORD, &auditor.recovery[0]).status,
        401
    );

    // Guessing: five wrong passwords lock the account, even against the
    // right password and code, with Retry-After.
    for _ in 0..5 {
        let code = locked.totp.generate_current().to_string();
        assert_eq!(
            sign_in(http, &locked.email, "guess guess guess", &code).status,
            401
        );
    }
    let code = locked.totp.generate_current().to_string();
    let r = sign_in(http, &locked.email, PASSWORD, &code);
    assert_eq!(r.status, 429, "{}", r.text);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((800..=900).contains(&retry), "{retry}");

    // Every route in the OpenAPI document, with every kind of caller. The
    // table is the roles' definition, written out independently of the
    // server's code: a route missing from it fails the test.
    let expected: BTreeMap<&str, &str> = [
        ("GET /api/v1/health", "public"),
        ("POST /api/v1/session", "public"),
        ("GET /api/v1/session", "any"),
        ("DELETE /api/v1/session", "staff"),
        ("GET /api/v1/jobs", "read"),
        ("POST /api/v1/jobs", "write"),
        ("GET /api/v1/jobs/{id}", "read"),
        ("GET /api/v1/jobs/{id}/candidates", "read"),
        ("POST /api/v1/jobs/{id}/candidates", "write"),
        ("POST /api/v1/jobs/{id}/candidates/import", "write"),
        ("GET /api/v1/jobs/{id}/campaign", "read"),
        ("POST /api/v1/jobs/{id}/campaign", "write"),
        ("POST /api/v1/jobs/{id}/campaign/pause", "write"),
        ("POST /api/v1/jobs/{id}/campaign/resume", "write"),
        ("POST /api/v1/jobs/{id}/campaign/cancel", "write"),
        ("GET /api/v1/candidates/{id}", "read"),
        ("GET /api/v1/candidates/{id}/events", "read"),
        ("POST /api/v1/candidates/{id}/status", "write"),
        ("POST /api/v1/candidates/{id}/erase", "erase"),
        ("GET /api/v1/candidates/{id}/interviews", "read"),
        ("PUT /api/v1/candidates/{id}/resume", "write"),
        ("GET /api/v1/interviews/{id}", "read"),
        ("GET /api/v1/interviews/{id}/{file}", "read"),
        ("POST /api/v1/webhooks", "webhooks"),
        ("GET /api/v1/webhooks/{id}/deliveries", "webhooks"),
        ("GET /api/v1/users", "users"),
        ("POST /api/v1/users", "users"),
        ("POST /api/v1/users/{id}/disable", "users"),
        ("GET /api/v1/audit", "audit"),
        ("GET /api/v1/audit/verify", "audit"),
    ]
    .into_iter()
    .collect();
    // Who holds which right.
    let holds = |who: &str, right: &str| -> bool {
        match right {
            "any" => true,
            "staff" => matches!(who, "admin" | "recruiter" | "auditor"),
            "read" => matches!(who, "recruiter" | "auditor" | "read key" | "write key"),
            "write" => matches!(who, "recruiter" | "write key"),
            "webhooks" => matches!(who, "admin" | "write key"),
            "users" | "erase" => who == "admin",
            "audit" => matches!(who, "admin" | "auditor"),
            other => panic!("no right {other}"),
        }
    };
    let doc = request(http, "GET", "/api/v1/openapi.json", None, None).body;
    let mut walked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let route = format!("{} {path}", method.to_uppercase());
            let right = *expected
                .get(route.as_str())
                .unwrap_or_else(|| panic!("{route} is not in the test's table of rights"));
            if right == "public" || route == "DELETE /api/v1/session" {
                continue;
            }
            let url = path
                .replace("{id}", "zz_none")
                .replace("{file}", "recording");
            let body = matches!(method, "post" | "put").then(|| json!({}));
            let callers: [(&str, Option<&str>, Option<&str>); 6] = [
                ("anonymous", None, None),
                ("admin", None, Some(&admin_cookie)),
                ("recruiter", None, Some(&recruiter_cookie)),
                ("auditor", None, Some(&auditor_cookie)),
                ("read key", Some(&read_key), None),
                ("write key", Some(&write_key), None),
            ];
            for (who, key, cookie) in callers {
                let headers: Vec<(&str, &str)> =
                    cookie.map(|c| ("Cookie", c)).into_iter().collect();
                let r = request_with(
                    http,
                    &method.to_uppercase(),
                    &url,
                    key,
                    body.as_ref(),
                    &headers,
                );
                if who == "anonymous" {
                    assert_eq!(r.status, 401, "{route} as {who}: {}", r.text);
                } else if holds(who, right) {
                    assert!(
                        r.status != 401 && r.status != 403 && r.status < 500,
                        "{route} as {who} should pass the access check: {} {}",
                        r.status,
                        r.text
                    );
                } else {
                    assert_eq!(r.status, 403, "{route} as {who}: {}", r.text);
                }
                walked += 1;
            }
        }
    }
    assert_eq!(walked, (expected.len() - 3) * 6, "every route walked");

    // Reads of a candidate's data are in the trail, with ids only.
    let job = request_with(
        http,
        "POST",
        "/api/v1/jobs",
        None,
        Some(
            &json!({"title": "Backend engineer", "script": std::fs::read_to_string(common::repo_root().join("config/interview-java-backend.en.toml")).unwrap()}),
        ),
        &[("Cookie", &recruiter_cookie)],
    );
    assert_eq!(job.status, 201, "{}", job.text);
    let job_id = job.body["id"].as_str().unwrap();
    let cand = request_with(
        http,
        "POST",
        &format!("/api/v1/jobs/{job_id}/candidates"),
        None,
        Some(
            &json!({"name": "Wang Fang", "phone": "+8613800138000", "language": "en", "timezone": "Asia/Shanghai"}),
        ),
        &[("Cookie", &recruiter_cookie)],
    );
    assert_eq!(cand.status, 201, "{}", cand.text);
    let cand_id = cand.body["id"].as_str().unwrap().to_owned();
    let r = request_with(
        http,
        "GET",
        &format!("/api/v1/candidates/{cand_id}"),
        None,
        None,
        &[("Cookie", &auditor_cookie)],
    );
    assert_eq!(r.status, 200);
    let trail = request_with(
        http,
        "GET",
        "/api/v1/audit?limit=1000",
        None,
        None,
        &[("Cookie", &auditor_cookie)],
    );
    assert_eq!(trail.status, 200, "{}", trail.text);
    let entries = trail.body.as_array().unwrap();
    let has = |action: &str, object: &str| {
        entries
            .iter()
            .any(|e| e["action"] == action && e["object"] == object)
    };
    assert!(has("read.candidate", &cand_id), "{}", trail.text);
    assert!(has("candidate.status", &cand_id));
    assert!(entries.iter().any(|e| e["action"] == "signin"));
    assert!(entries
        .iter()
        .any(|e| e["action"] == "signin.refused" && e["detail"]["why"] == "code"));
    assert!(entries.iter().any(|e| e["action"] == "apikey.create"));
    assert!(
        !trail.text.contains("Wang") && !trail.text.contains("13800138000"),
        "no personal data in the trail"
    );
    let check = request_with(
        http,
        "GET",
        "/api/v1/audit/verify",
        None,
        None,
        &[("Cookie", &admin_cookie)],
    );
    assert_eq!(check.body["intact"], true, "{}", check.text);

    // Signing out ends the session at once.
    let r = request_with(
        http,
        "DELETE",
        "/api/v1/session",
        None,
        None,
        &[("Cookie", &recruiter_cookie)],
    );
    assert_eq!(r.status, 204, "{}", r.text);
    let r = request_with(
        http,
        "GET",
        "/api/v1/jobs",
        None,
        None,
        &[("Cookie", &recruiter_cookie)],
    );
    assert_eq!(r.status, 401);
    (server, cand_id)
}

/// Recomputes every hash from entry `from` on, as an attacker without the
/// MAC key would: the chain is consistent again, the MACs are not.
fn rechain(db: &Path, from: i64) {
    let script = format!(
        r#"
import sqlite3, sys, json, hashlib
c = sqlite3.connect(sys.argv[1])
rows = c.execute("SELECT seq, at, actor, action, object, detail, prev_hash FROM audit_log WHERE seq >= {from} ORDER BY seq").fetchall()
prev = c.execute("SELECT hash FROM audit_log WHERE seq = {from} - 1").fetchone()[0]
for seq, at, actor, action, obj, detail, _ in rows:
    canon = json.dumps([seq, at, actor, action, obj, detail, prev], ensure_ascii=False, separators=(',', ':'))
    h = hashlib.sha256(canon.encode()).hexdigest()
    c.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, seq))
    prev = h
c.commit()
"#
    );
    python_on(&script, db);
}

/// With a certificate the API speaks only HTTPS, and says so with HSTS; a
/// key that does not match the certificate is refused at start, naming the
/// files.
#[test]
fn the_api_serves_https_with_hsts() {
    let scratch = Scratch::new("security-tls");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_pem, key_pem) = (scratch.join("cert.pem"), scratch.join("key.pem"));
    std::fs::write(&cert_pem, cert.cert.pem()).unwrap();
    std::fs::write(&key_pem, cert.signing_key.serialize_pem()).unwrap();
    let data = scratch.join("data");
    let server = Server::start_with(
        &scratch,
        &data,
        &[
            "--tls-cert",
            cert_pem.to_str().unwrap(),
            "--tls-key",
            key_pem.to_str().unwrap(),
        ],
    );
    let port = server.http.port();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, hsts, plain_refused) = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap(),
            )
            .resolve("localhost", server.http)
            .build()
            .unwrap();
        let r = client
            .get(format!("https://localhost:{port}/api/v1/health"))
            .send()
            .await
            .unwrap();
        let hsts = r
            .headers()
            .get("strict-transport-security")
            .map(|v| v.to_str().unwrap().to_owned());
        let plain = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/api/v1/health"))
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await;
        (r.status().as_u16(), hsts, plain.is_err())
    });
    assert_eq!(status, 200);
    assert_eq!(hsts.as_deref(), Some("max-age=31536000; includeSubDomains"));
    assert!(plain_refused, "plain HTTP gets no answer on the HTTPS port");
    drop(server);

    // A key from another certificate: refused at start, both files named.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let wrong_key = scratch.join("other-key.pem");
    std::fs::write(&wrong_key, other.signing_key.serialize_pem()).unwrap();
    let out = voxhire()
        .args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--sip",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(scratch.join("data2"))
        .args([
            "--tls-cert",
            cert_pem.to_str().unwrap(),
            "--tls-key",
            wrong_key.to_str().unwrap(),
        ])
        .current_dir(common::repo_root())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cert.pem") && err.contains("other-key.pem"),
        "{err}"
    );
}
