//! voxhire's recruiting back office: `voxhire server`.
//!
//! One process runs the HTTP API ([`api`]), the store ([`store`]: SQLite in
//! the data directory, migrations applied at start), the call engine for the
//! jobs' campaigns ([`campaigns`], on `voxhire-engine`'s campaign runner) and
//! the webhook deliverer ([`webhooks`]). Machines authenticate with API keys,
//! staff with a password and a TOTP code ([`auth`], [`staff`]); what they do
//! to candidates' data goes into a hash-chained audit trail ([`audit`]).
#![forbid(unsafe_code)]

pub mod access;
pub mod api;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod claims;
pub mod erasure;
pub mod error;
pub mod files;
pub mod idempotency;
pub mod reference;
pub mod resume;
pub mod retention;
pub mod screening;
pub mod secrets;
pub mod settings;
pub mod staff;
pub mod store;
pub mod tls;
pub mod webhooks;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::{watch, Mutex, Notify};
use voxhire_dialog::InterviewScript;
use voxhire_engine::call_router::CallRouter;
use voxhire_engine::campaign_run::Control;
use voxhire_engine::interview::{InterviewStack, Tuning};
use voxhire_engine::interview_call::Outbound;
use voxhire_engine::orphans::end_orphans;
use voxhire_engine::redact::Redacted;
use voxhire_engine::rtp_ports::RtpPorts;
use voxhire_engine::sip_endpoint;
use voxhire_engine::trunk::Trunk;
use voxhire_lang::Lang;
use voxhire_nlu::embed::MiniLm;
use voxhire_sip::message::NameAddr;
use voxhire_speech::models::ModelDir;

use crate::store::Store;

/// Everything `voxhire server` is started with.
pub struct ServerConfig {
    /// The HTTP API's address.
    pub listen: SocketAddr,
    /// The store and the calls' files.
    pub data_dir: PathBuf,
    /// A `postgres://` URL for a store several nodes share; `None` keeps the
    /// store in the data directory (SQLite).
    pub database: Option<String>,
    /// This node's name in a shared store; `None` uses (or makes) the one in
    /// the data directory.
    pub node: Option<String>,
    /// Our SIP address.
    pub sip: SocketAddr,
    pub rtp_ports: RtpPorts,
    pub trunk: Trunk,
    /// Interviews at once, across all jobs.
    pub max_calls: usize,
    pub tuning: Tuning,
    /// The master keys: they seal staff's TOTP secrets and the audit
    /// trail's MAC key (and the archive, as it is encrypted).
    pub keys: voxhire_vault::Keyring,
    /// How often the retention sweeper runs.
    pub retention_sweep: Duration,
    /// HTTPS: the certificate chain and key (PEM). None: plain HTTP, for
    /// loopback or behind a TLS-terminating proxy.
    pub tls: Option<tls::TlsFiles>,
}

/// The call engine as the server holds it.
pub struct Engine {
    /// The SIP side every job's calls share.
    pub outbound: Arc<Outbound>,
    pub data_dir: PathBuf,
    pub max_calls: usize,
    pub tuning: Tuning,
    /// Models per job (their scripts' intents and prompts), loaded on the
    /// job's first campaign.
    stacks: Mutex<HashMap<String, Arc<InterviewStack>>>,
}

impl Engine {
    async fn stack_for(
        &self,
        job_id: &str,
        script: Arc<InterviewScript>,
        lang: Lang,
    ) -> Result<Arc<InterviewStack>> {
        let mut stacks = self.stacks.lock().await;
        if let Some(s) = stacks.get(job_id) {
            return Ok(s.clone());
        }
        tracing::info!(job = %job_id, "loading models and the job's prompts");
        let stack =
            campaigns::load_stack(script, lang, self.max_calls, self.tuning.clone()).await?;
        stacks.insert(job_id.to_owned(), stack.clone());
        Ok(stack)
    }
}

/// A campaign in progress.
pub struct Running {
    control: watch::Sender<Control>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn is_live(&self) -> bool {
        !self.task.is_finished()
    }

    /// What the campaign was last asked to do.
    pub fn asked(&self) -> Control {
        *self.control.borrow()
    }
}

/// What every request handler sees.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub engine: Arc<Engine>,
    /// Woken when outbox rows are committed.
    pub wake: Arc<Notify>,
    pub campaigns: Arc<Mutex<HashMap<String, Running>>>,
    /// Sentence embeddings for résumé screening.
    pub minilm: Arc<MiniLm>,
    pub keys: Arc<voxhire_vault::Keyring>,
    pub audit: Arc<audit::Auditor>,
    /// Failed sign-ins per address.
    pub sign_in_limiter: Arc<staff::AddressLimiter>,
    /// This node's name in the store ([`claims::node_id`]).
    pub node: Arc<str>,
}

/// Runs the server until `shutdown` completes: then campaigns hang up their
/// calls (BYE), the deliverer stops, and the HTTP server drains.
pub async fn run(
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let store = Store::open(&config.data_dir, config.database.as_deref()).await?;
    let node = claims::node_id(&config.data_dir, config.node.as_deref())?;
    let auditor = audit::Auditor::open(&store, &config.keys).await?;
    secrets::seal_plaintext(&store, &config.keys).await?;
    let minilm = tokio::task::spawn_blocking(|| -> Result<MiniLm> {
        let models = ModelDir::locate();
        let env = models.onnxruntime()?;
        MiniLm::load(env, models.root()).context("loading the sentence embeddings for screening")
    })
    .await??;
    let toward = config
        .trunk
        .proxy
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5060)));
    let opened = sip_endpoint::open_with(config.sip, toward, config.trunk.sip_options()?).await?;
    let local = opened.local;
    let from = match &config.trunk.from {
        Some(uri) => NameAddr::new(uri.clone()),
        None => NameAddr::parse(&format!("<sip:voxhire@{local}>")).context("building From")?,
    };
    let (router, _inbound) = CallRouter::spawn(opened.events);
    let engine = Arc::new(Engine {
        outbound: Arc::new(Outbound {
            sip: opened.sip,
            router,
            ports: Arc::new(config.rtp_ports),
            local_ip: local.ip(),
            proxy: config.trunk.proxy,
            route: config.trunk.route.clone(),
            codecs: config.trunk.codecs.clone(),
            srtp: config.trunk.srtp,
            from,
        }),
        data_dir: config.data_dir.clone(),
        max_calls: config.max_calls,
        tuning: config.tuning,
        stacks: Mutex::new(HashMap::new()),
    });
    let state = AppState {
        store: store.clone(),
        engine,
        wake: Arc::new(Notify::new()),
        campaigns: Arc::new(Mutex::new(HashMap::new())),
        minilm: Arc::new(minilm),
        keys: Arc::new(config.keys),
        audit: Arc::new(auditor),
        sign_in_limiter: Arc::default(),
        node: node.into(),
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    // The beat stops first: it would start again the campaigns being stopped.
    let (beat_stop_tx, beat_stop_rx) = watch::channel(false);
    let sweeper = tokio::spawn(retention::run(
        state.store.clone(),
        state.audit.clone(),
        config.retention_sweep,
        stop_rx.clone(),
    ));
    let deliverer = tokio::spawn(webhooks::deliver(
        store,
        state.keys.clone(),
        state.wake.clone(),
        stop_rx,
    ));

    // The certificate is read before anything listens: a bad file is an
    // error at start, naming it.
    let tls = config.tls.as_ref().map(tls::server_config).transpose()?;
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("binding the HTTP API to {}", config.listen))?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    println!(
        "{}",
        serde_json::json!({"event": "listening", "http": bound.to_string(), "tls": tls.is_some(), "sip": opened.bound.to_string()})
    );
    tracing::info!(http = %bound, tls = tls.is_some(), sip = %opened.bound, "serving");
    let orphans = claims::reap(&state, true)
        .await
        .context("closing the attempts the last run left in progress")?;
    // The calls the last run left up end before anyone is redialled.
    for (call_id, how) in end_orphans(&state.engine.outbound, orphans).await {
        tracing::warn!(call_id = %Redacted(&call_id), ?how, "ended a call the last run left up");
    }
    claims::follow_campaigns(&state, "resumed the campaign that was running")
        .await
        .context("resuming the campaigns that were running")?;
    let campaigns = state.campaigns.clone();
    let beat = tokio::spawn(claims::beat(state.clone(), beat_stop_rx));
    let app = api::router(state);
    let (http_stop_tx, http_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let http = match tls {
        Some(tls) => {
            let app = app.layer(axum::middleware::map_response(tls::hsts));
            let handle = axum_server::Handle::new();
            let server =
                axum_server::tls_rustls::from_tcp_rustls(listener, tls)?.handle(handle.clone());
            tokio::spawn(async move {
                tokio::spawn(async move {
                    let _ = http_stop_rx.await;
                    handle.graceful_shutdown(Some(Duration::from_secs(10)));
                });
                server
                    .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                    .await
            })
        }
        None => {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            tokio::spawn(async move {
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(async {
                    let _ = http_stop_rx.await;
                })
                .await
            })
        }
    };
    shutdown.await;
    tracing::info!("shutting down: ending the campaigns' calls");
    let _ = beat_stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), beat).await;
    stop_campaigns(&campaigns).await;
    let _ = stop_tx.send(true);
    let _ = http_stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), deliverer).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), sweeper).await;
    match tokio::time::timeout(Duration::from_secs(10), http).await {
        Ok(Ok(Ok(()))) | Err(_) => {}
        Ok(Ok(Err(e))) => tracing::error!(error = %e, "HTTP server error"),
        Ok(Err(e)) => tracing::error!(error = %e, "HTTP task panicked"),
    }
    Ok(())
}

/// Stops every campaign and waits (bounded) for its calls to end with BYE.
async fn stop_campaigns(campaigns: &Mutex<HashMap<String, Running>>) {
    let running: Vec<Running> = campaigns.lock().await.drain().map(|(_, r)| r).collect();
    for r in &running {
        let _ = r.control.send(Control::Stop);
    }
    for r in running {
        if tokio::time::timeout(Duration::from_secs(45), r.task)
            .await
            .is_err()
        {
            tracing::error!("a campaign did not stop in time");
        }
    }
}
