//! Retention on a real store and real files: a job keeping recordings 30
//! days and reports 90 loses each when due and not before, another job
//! without retention keeps everything, and every deletion is in the audit
//! trail, which still verifies.

use chrono::{TimeDelta, Utc};
use voxhire_server::audit::{self, Auditor, Verdict};
use voxhire_server::retention::{sweep, Swept};
use voxhire_server::store::{timestamp, Store};
use voxhire_vault::Keyring;

const FILES: [&str; 4] = [
    "recording.wav",
    "transcript.json",
    "events.jsonl",
    "report.json",
];

async fn job_with_call(
    store: &Store,
    dir: &std::path::Path,
    job: &str,
    retention: Option<&str>,
    ended: chrono::DateTime<Utc>,
) -> std::path::PathBuf {
    let now = timestamp(Utc::now());
    sqlx::query("INSERT INTO jobs (id, title, language, script_toml, created_at, retention) VALUES (?1, 't', 'en', '', ?2, ?3)")
        .bind(job).bind(&now).bind(retention)
        .execute(&store.pool).await.unwrap();
    let cand = format!("cand_{job}");
    sqlx::query("INSERT INTO candidates (id, job_id, name, phone, language, timezone, status, created_at, updated_at)
                 VALUES (?1, ?2, 'N', 'sip:n@127.0.0.1', 'en', 'UTC', 'interviewed', ?3, ?3)")
        .bind(&cand).bind(job).bind(&now)
        .execute(&store.pool).await.unwrap();
    let run_dir = dir.join(job).join(&cand).join("1");
    std::fs::create_dir_all(&run_dir).unwrap();
    for f in FILES {
        std::fs::write(run_dir.join(f), b"x").unwrap();
    }
    sqlx::query("INSERT INTO interviews (id, candidate_id, attempt_no, outcome, attempt, report_json, run_dir, started_at, ended_at)
                 VALUES (?1, ?2, 1, 'completed', '{}', '{\"score\": 80}', ?3, ?4, ?4)")
        .bind(format!("int_{job}")).bind(&cand).bind(run_dir.display().to_string()).bind(timestamp(ended))
        .execute(&store.pool).await.unwrap();
    run_dir
}

fn present(dir: &std::path::Path) -> Vec<&'static str> {
    FILES.into_iter().filter(|f| dir.join(f).exists()).collect()
}

#[tokio::test]
async fn recordings_and_reports_go_when_their_job_says_and_not_before() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("data"), None).await.unwrap();
    let keys = Keyring::generate();
    let auditor = Auditor::open(&store, &keys).await.unwrap();
    let now = Utc::now();
    let ended = now - TimeDelta::days(40);
    let kept = job_with_call(
        &store,
        tmp.path(),
        "job_a",
        Some(r#"{"recordings_days": 30, "reports_days": 90}"#),
        ended,
    )
    .await;
    let forever = job_with_call(&store, tmp.path(), "job_b", None, ended).await;

    assert_eq!(
        sweep(&store, &auditor, now - TimeDelta::days(15))
            .await
            .unwrap(),
        Swept::default(),
        "25 days after the call"
    );
    assert_eq!(present(&kept), FILES);
    assert_eq!(
        sweep(&store, &auditor, now).await.unwrap(),
        Swept {
            recordings: 1,
            reports: 0
        }
    );
    assert_eq!(
        present(&kept),
        ["transcript.json", "events.jsonl", "report.json"]
    );
    assert_eq!(
        sweep(&store, &auditor, now).await.unwrap(),
        Swept::default(),
        "once is enough"
    );
    assert_eq!(
        sweep(&store, &auditor, now + TimeDelta::days(51))
            .await
            .unwrap(),
        Swept {
            recordings: 0,
            reports: 1
        }
    );
    assert!(present(&kept).is_empty());
    let report: Option<String> =
        sqlx::query_scalar("SELECT report_json FROM interviews WHERE id = 'int_job_a'")
            .fetch_one(&store.pool)
            .await
            .unwrap();
    assert_eq!(report, None);
    assert_eq!(
        present(&forever),
        FILES,
        "a job without retention keeps its files"
    );

    let trail = audit::entries(&store, 0, 100).await.unwrap();
    let actions: Vec<(&str, &str)> = trail
        .iter()
        .map(|e| (e.action.as_str(), e.object.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("retention.recording", "int_job_a"),
            ("retention.report", "int_job_a")
        ]
    );
    let key = audit::mac_key(&store, &keys).await.unwrap();
    assert_eq!(
        audit::verify(&store, Some(&key)).await.unwrap(),
        Verdict::Intact {
            entries: 2,
            macs_checked: true
        }
    );
}
