//! `voxhire keys`, `voxhire user` and `voxhire audit`: the master keys,
//! staff accounts and the audit trail, for the operator on the server's
//! machine.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use super::server::DataArgs;
use anyhow::{Context, Result};
use voxhire_server::audit::{self, Auditor, Event, Verdict};
use voxhire_server::auth::Role;
use voxhire_vault::Keyring;

/// Where the master keys come from.
#[derive(clap::Args, Clone)]
pub struct KeyArgs {
    /// The master key file (lines `<id> <key>`; `voxhire keys generate`
    /// makes one). Default: the keys in VOXHIRE_MASTER_KEYS. Keep it off the
    /// data directory's disk.
    #[arg(long, value_name = "FILE")]
    pub keys: Option<PathBuf>,
}

impl KeyArgs {
    pub fn load(&self) -> Result<Keyring> {
        self.try_load()?.with_context(|| {
            format!(
                "no master key: pass --keys FILE or set {} (make a key file with `voxhire keys generate --out FILE`)",
                voxhire_vault::keyring::ENV
            )
        })
    }

    /// Where calls' files go: sealed under the keys when they are given,
    /// in the clear otherwise.
    pub fn archive(&self) -> Result<voxhire_engine::archive::Archive> {
        Ok(match self.try_load()? {
            Some(ring) => voxhire_engine::archive::Archive::sealed(std::sync::Arc::new(ring)),
            None => voxhire_engine::archive::Archive::plain(),
        })
    }

    fn try_load(&self) -> Result<Option<Keyring>> {
        match &self.keys {
            Some(path) => Ok(Some(Keyring::load(path)?)),
            None => Ok(Keyring::from_env().transpose()?),
        }
    }
}

#[derive(clap::Subcommand)]
pub enum KeysCommand {
    /// Write a new master key file (mode 0600; refuses to overwrite).
    Generate {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Add a fresh master key to the key file and re-wrap every secret's
    /// and every call file's data key under it (the data itself is not
    /// re-encrypted). Stop the server first: it reads its keys at start.
    Rotate {
        /// The key file to add the new key to.
        #[arg(long, value_name = "FILE")]
        keys: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Create a staff account; reads the password from the first line of
    /// stdin and prints the TOTP secret and recovery codes (shown once).
    Create {
        #[arg(long)]
        email: String,
        /// admin (users, keys, integrations, erasure, audit), recruiter (jobs,
        /// candidates, campaigns, results) or auditor (read-only, audit).
        #[arg(long, value_parser = ["admin", "recruiter", "auditor"])]
        role: String,
        #[command(flatten)]
        keys: KeyArgs,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List the staff accounts.
    List(DataArgs),
}

#[derive(clap::Subcommand)]
pub enum ArchiveCommand {
    /// Decrypt one interview's files (recording, transcript, events,
    /// report) into a directory, for an authorised person; the export is in
    /// the audit trail.
    Export {
        /// The interview's id (`int_…`, from the API).
        #[arg(long)]
        interview: String,
        /// Where the plaintext files go (created; must not hold them yet).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        keys: KeyArgs,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Check the whole audit trail: each entry follows from the one before
    /// and (with the master key) was written by this server. Names the first
    /// entry that does not hold up and exits 1.
    Verify {
        #[command(flatten)]
        keys: KeyArgs,
        #[command(flatten)]
        data: DataArgs,
    },
}

pub async fn keys(cmd: KeysCommand) -> Result<()> {
    match cmd {
        KeysCommand::Generate { out } => {
            write_new_key_file(&out, &Keyring::generate())?;
            let ring = Keyring::load(&out)?;
            println!(
                "{}",
                serde_json::json!({"key_file": out, "key_id": ring.current().id_str()})
            );
            eprintln!("keep {} safe and off the data directory's disk: without it nothing encrypted can be read", out.display());
            Ok(())
        }
        KeysCommand::Rotate { keys, data } => rotate(&keys, &data).await,
    }
}

fn write_new_key_file(path: &Path, ring: &Keyring) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    file.write_all(b"# voxhire master keys: <id> <key>; the last line is current\n")?;
    file.write_all(ring.to_lines().as_bytes())?;
    file.sync_all()?;
    Ok(())
}

async fn rotate(key_file: &Path, data: &DataArgs) -> Result<()> {
    let mut ring = Keyring::load(key_file)?;
    let store = data.store().await?;
    let auditor = Auditor::open(&store, &ring).await?;
    let new_id = ring.push_fresh().id_str().to_owned();
    // The new key reaches the file before anything is wrapped with it, and
    // the old ones stay: a rotation cut short leaves everything readable.
    let tmp = key_file.with_extension("rotating");
    let _ = std::fs::remove_file(&tmp);
    write_new_key_file(&tmp, &ring)?;
    std::fs::rename(&tmp, key_file).with_context(|| format!("replacing {}", key_file.display()))?;
    let secrets = voxhire_server::secrets::rewrap_all(&store, &ring).await?;
    let files = {
        let data = data.data.clone();
        tokio::task::block_in_place(|| voxhire_engine::archive::rewrap_all(&data, &ring))?
    };
    let rewrapped = secrets + files;
    auditor
        .record(
            &store,
            Event {
                actor: "operator",
                action: "keys.rotate",
                object: &new_id,
                detail: serde_json::json!({ "secrets": secrets, "files": files }),
            },
        )
        .await?;
    println!(
        "{}",
        serde_json::json!({"key_id": new_id, "rewrapped": rewrapped, "secrets": secrets, "files": files})
    );
    eprintln!(
        "every secret is wrapped under {new_id} now; once no other data directory uses them, the older lines in {} can be deleted",
        key_file.display()
    );
    Ok(())
}

pub async fn user(cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Create {
            email,
            role,
            keys,
            data,
        } => {
            let ring = keys.load()?;
            let role = Role::parse(&role).context("--role")?;
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let store = data.store().await?;
            let auditor = Auditor::open(&store, &ring).await?;
            let made = voxhire_server::staff::create_user(&store, &ring, &email, role, password)
                .await
                .map_err(|e| match e.field {
                    Some(field) => anyhow::anyhow!("{field}: {}", e.message),
                    None => anyhow::anyhow!("{}", e.message),
                })?;
            auditor
                .record(
                    &store,
                    Event {
                        actor: "operator",
                        action: "user.create",
                        object: &made.id,
                        detail: serde_json::json!({ "role": role.name() }),
                    },
                )
                .await?;
            println!("{}", serde_json::to_string(&made)?);
            eprintln!(
                "give the TOTP secret and recovery codes to {email} now: they are not shown again"
            );
            Ok(())
        }
        UserCommand::List(data) => {
            let store = data.store().await?;
            for u in voxhire_server::staff::list_users(&store).await? {
                println!("{}", serde_json::to_string(&u)?);
            }
            Ok(())
        }
    }
}

pub async fn audit(cmd: AuditCommand) -> Result<()> {
    let AuditCommand::Verify { keys, data } = cmd;
    let store = data.store().await?;
    let ring = keys.try_load()?;
    let mac_key = match &ring {
        Some(ring) => Some(audit::mac_key(&store, ring).await?),
        None => {
            eprintln!("no master key given: checking the hash chain only, not who wrote it");
            None
        }
    };
    match audit::verify(&store, mac_key.as_deref()).await? {
        Verdict::Intact {
            entries,
            macs_checked,
        } => {
            println!(
                "{}",
                serde_json::json!({"intact": true, "entries": entries, "macs_checked": macs_checked})
            );
            Ok(())
        }
        Verdict::Broken { seq, why } => {
            println!(
                "{}",
                serde_json::json!({"intact": false, "broken_at": seq, "why": why})
            );
            anyhow::bail!("the audit trail is broken at entry {seq}: {why}")
        }
    }
}

const CALL_FILES: [&str; 4] = [
    "recording.wav",
    "transcript.json",
    "events.jsonl",
    "report.json",
];

pub async fn archive(cmd: ArchiveCommand) -> Result<()> {
    let ArchiveCommand::Export {
        interview,
        out,
        keys,
        data,
    } = cmd;
    let ring = keys.load()?;
    let store = data.store().await?;
    let run_dir: String = voxhire_server::store::interview_run_dir(&store, &interview)
        .await?
        .with_context(|| format!("no interview {interview} in {}", data.data.display()))?;
    let run_dir = PathBuf::from(run_dir);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut written = Vec::new();
    for name in CALL_FILES {
        let from = run_dir.join(name);
        if !from.is_file() {
            continue;
        }
        let to = out.join(name);
        anyhow::ensure!(
            !to.exists(),
            "{} exists already; export into an empty directory",
            to.display()
        );
        // Streamed, so a long recording is never held in memory.
        let mut opened = voxhire_engine::archive::open(&from, Some(&ring))?;
        let mut out =
            std::fs::File::create(&to).with_context(|| format!("creating {}", to.display()))?;
        std::io::copy(&mut opened.reader, &mut out)
            .with_context(|| format!("writing {}", to.display()))?;
        out.sync_all()?;
        written.push(name);
    }
    Auditor::open(&store, &ring)
        .await?
        .record(
            &store,
            Event {
                actor: "operator",
                action: "archive.export",
                object: &interview,
                detail: serde_json::json!({ "files": written }),
            },
        )
        .await?;
    println!(
        "{}",
        serde_json::json!({"interview": interview, "out": out, "files": written})
    );
    Ok(())
}
