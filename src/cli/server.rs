//! `voxhire server`: the recruiting back office — the REST API, the store,
//! the jobs' campaigns on the call engine and signed webhooks to the ATS, in
//! one process. `voxhire apikey create` makes the key a machine calls it with.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use voxhire_engine::rtp_ports::RtpPorts;
use voxhire_engine::trunk::Trunk;
use voxhire_server::auth::Scope;
use voxhire_server::store::Store;
use voxhire_server::ServerConfig;

#[derive(clap::Args)]
pub struct ServerArgs {
    /// The HTTP API's address.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The data directory: the store (voxhire.sqlite, unless --database) and
    /// every call's files.
    #[arg(long, value_name = "DIR", default_value = "voxhire-data")]
    data: PathBuf,
    /// A PostgreSQL store that several nodes share (postgres://user:pass@host/db):
    /// every node runs every running campaign, each candidate is claimed by
    /// one node per attempt, and a node that dies has its calls ended and its
    /// candidates redialled by the others. Default: the SQLite file in --data.
    #[arg(long, value_name = "URL", env = "VOXHIRE_DATABASE")]
    database: Option<String>,
    /// This node's name in a shared store. Default: the one kept in
    /// DIR/node-id (made on first start).
    #[arg(long, value_name = "NAME")]
    node: Option<String>,
    /// Our SIP address (port 0 = any free port).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:5060")]
    sip: SocketAddr,
    /// Trunk file (TOML): proxy, credentials, codecs.
    #[arg(long)]
    trunk: Option<PathBuf>,
    /// RTP port range for the calls.
    #[arg(long, default_value = "16384-32767", value_name = "LO-HI")]
    rtp_ports: String,
    /// Interviews at once across all jobs. Default: cores × the per-core
    /// figure measured by benches/interview_capacity.rs.
    #[arg(long)]
    max_calls: Option<usize>,
    #[command(flatten)]
    keys: super::security::KeyArgs,
    /// How often recordings and reports past their job's retention are
    /// deleted, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    retention_sweep_secs: u64,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    /// Answers then carry HSTS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

pub async fn run(args: ServerArgs) -> Result<()> {
    let trunk = match &args.trunk {
        Some(p) => Trunk::load_located(p).await?,
        None => Trunk::default(),
    };
    let max_calls = args
        .max_calls
        .unwrap_or_else(voxhire_engine::interview::interview_capacity);
    if max_calls == 0 {
        anyhow::bail!("--max-calls must be at least 1");
    }
    let config = ServerConfig {
        listen: args.listen,
        data_dir: args.data,
        database: args.database,
        node: args.node,
        sip: args.sip,
        rtp_ports: RtpPorts::parse(&args.rtp_ports).context("--rtp-ports")?,
        trunk,
        max_calls,
        tuning: super::tuning_from_env()?,
        keys: args.keys.load()?,
        retention_sweep: std::time::Duration::from_secs(args.retention_sweep_secs),
        tls: args
            .tls_cert
            .zip(args.tls_key)
            .map(|(cert, key)| voxhire_server::tls::TlsFiles { cert, key }),
    };
    voxhire_server::run(config, super::shutdown_signal()).await
}

#[derive(clap::Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key and print it (it is shown only this once).
    Create(CreateArgs),
    /// List the keys (id, name, scope, when created and revoked; never the key).
    List(DataArgs),
    /// Revoke a key by its id: requests with it get 401 from then on.
    Revoke(RevokeArgs),
}

/// Where the server's store is: the data directory, and the database when
/// it is not the SQLite file in it.
#[derive(clap::Args)]
pub struct DataArgs {
    /// The server's data directory.
    #[arg(long, value_name = "DIR", default_value = "voxhire-data")]
    pub data: PathBuf,
    /// A PostgreSQL store that several nodes share (postgres://user:pass@host/db).
    /// Default: the SQLite file in the data directory.
    #[arg(long, value_name = "URL", env = "VOXHIRE_DATABASE")]
    pub database: Option<String>,
}

impl DataArgs {
    pub async fn store(&self) -> Result<Store> {
        Store::open(&self.data, self.database.as_deref()).await
    }
}

#[derive(clap::Args)]
pub struct RevokeArgs {
    /// The key's id (`key_…`, from `create` or `list`).
    id: String,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    keys: super::security::KeyArgs,
}

#[derive(clap::Args)]
pub struct CreateArgs {
    /// Who uses the key, e.g. "ats".
    #[arg(long)]
    name: String,
    /// What the key may do: read, or write (which includes read).
    #[arg(long, default_value = "read", value_parser = ["read", "write"])]
    scope: String,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    keys: super::security::KeyArgs,
}

/// Records a key's creation or revocation in the audit trail.
async fn audit_key(
    store: &Store,
    ring: &voxhire_vault::Keyring,
    action: &str,
    id: &str,
) -> Result<()> {
    voxhire_server::audit::Auditor::open(store, ring)
        .await?
        .record(
            store,
            voxhire_server::audit::Event {
                actor: "operator",
                action,
                object: id,
                detail: serde_json::json!({}),
            },
        )
        .await
}

pub async fn apikey(cmd: ApiKeyCommand) -> Result<()> {
    let args = match cmd {
        ApiKeyCommand::Create(args) => args,
        ApiKeyCommand::List(args) => {
            let store = args.store().await?;
            for key in voxhire_server::auth::list_keys(&store).await? {
                println!("{}", serde_json::to_string(&key)?);
            }
            return Ok(());
        }
        ApiKeyCommand::Revoke(args) => {
            let store = args.data.store().await?;
            // Loaded first: no change without its audit entry.
            let ring = args.keys.load()?;
            if !voxhire_server::auth::revoke_key(&store, &args.id).await? {
                anyhow::bail!(
                    "no key {} in use in {} (see `voxhire apikey list`)",
                    args.id,
                    args.data.data.display()
                );
            }
            audit_key(&store, &ring, "apikey.revoke", &args.id).await?;
            eprintln!("revoked {}", args.id);
            return Ok(());
        }
    };
    let scope = Scope::parse(&args.scope).context("--scope must be read or write")?;
    let store = args.data.store().await?;
    let ring = args.keys.load()?;
    let (id, key) = voxhire_server::auth::create_key(&store, &args.name, scope).await?;
    audit_key(&store, &ring, "apikey.create", &id).await?;
    println!(
        "{}",
        serde_json::json!({"id": id, "name": args.name, "scope": scope.name(), "key": key})
    );
    eprintln!("keep the key now: it is stored only as a hash and cannot be shown again");
    Ok(())
}
