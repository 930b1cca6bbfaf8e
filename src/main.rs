//! voxhire: a telephony voice agent for structured job-screening interviews.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "voxhire",
    version,
    about = "Telephony voice agent for job-screening interviews (SIP/RTP)",
    long_about = "voxhire places and answers SIP calls and streams RTP audio.\n\n\
        stdout carries machine-readable JSON lines; logs go to stderr \
        (set RUST_LOG=debug for SIP details, which also un-redacts phone numbers)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Place one call, play a WAV into it, record the far end, print a JSON summary.
    Call(cli::call::CallArgs),
    /// Answer inbound calls: play a WAV (or echo), record each call, log a JSON line per call.
    Serve(cli::serve::ServeArgs),
    /// Synthesise text to a WAV file with the interview voices (en: Piper, zh: Kokoro).
    Say(cli::say::SayArgs),
    /// Transcribe a WAV file (English or Mandarin) with the call's VAD and Whisper ASR.
    Transcribe(cli::transcribe::TranscribeArgs),
    /// Run a recruiting campaign: dial a candidate list within calling windows,
    /// interview each candidate, write per-call reports and a summary.
    #[command(subcommand)]
    Campaign(cli::campaign::CampaignCommand),
    /// Synthesise interview scripts' fixed lines into the prompt cache ahead of calls.
    #[command(subcommand)]
    Prompts(cli::prompts::PromptsCommand),
    /// The recruiting back office: REST API, store, campaigns and signed
    /// webhooks to the ATS, in one process.
    Server(cli::server::ServerArgs),
    /// API keys for machines calling the server (e.g. your ATS).
    #[command(subcommand)]
    Apikey(cli::server::ApiKeyCommand),
    /// Staff accounts (password + TOTP sign-in, a role each).
    #[command(subcommand)]
    User(cli::security::UserCommand),
    /// The master keys that encrypt secrets and the archive at rest.
    #[command(subcommand)]
    Keys(cli::security::KeysCommand),
    /// The tamper-evident audit trail.
    #[command(subcommand)]
    Audit(cli::security::AuditCommand),
    /// The encrypted call archive: export an interview's files decrypted.
    #[command(subcommand)]
    Archive(cli::security::ArchiveCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "voxhire=info".into()),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Call(args) => cli::call::run(args).await,
            Command::Serve(args) => cli::serve::run(args).await,
            Command::Say(args) => cli::say::run(args),
            Command::Transcribe(args) => cli::transcribe::run(args).await,
            Command::Campaign(cmd) => cli::campaign::run(cmd).await,
            Command::Prompts(cmd) => cli::prompts::run(cmd),
            Command::Server(args) => cli::server::run(args).await,
            Command::Apikey(cmd) => cli::server::apikey(cmd).await,
            Command::User(cmd) => cli::security::user(cmd).await,
            Command::Keys(cmd) => cli::security::keys(cmd).await,
            Command::Audit(cmd) => cli::security::audit(cmd).await,
            Command::Archive(cmd) => cli::security::archive(cmd).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
