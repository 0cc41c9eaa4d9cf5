//! The `sigillum` binary: `serve` runs the appliance, `call` is a signed-request client.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use sigillum::clock::SystemClock;
use sigillum::config::Config;
use sigillum::service::Appliance;

#[derive(Parser)]
#[command(name = "sigillum", version, about = "Signing and evidence appliance")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the appliance (initialises the data directory on first start).
    Serve {
        /// TOML configuration file; flags below win over it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory (default ./data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Listen address (default 127.0.0.1:8470).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Public base URL written into certificates (default http://<listen>); required when
        /// listening on 0.0.0.0 or ::.
        #[arg(long, env = "SIGILLUM_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Send a signed request to the API, e.g. `sigillum call POST /v1/entities --data @body.json`.
    Call {
        /// HTTP method.
        method: String,
        /// Path with optional query, e.g. /v1/entities?limit=10.
        path: String,
        /// Request body: JSON text, or @file to read it from a file.
        #[arg(long)]
        data: Option<String>,
        /// Base URL of the appliance.
        #[arg(long, default_value = "http://127.0.0.1:8470", env = "SIGILLUM_URL")]
        url: String,
        /// API key file with {"key_id", "secret"} (default <data-dir>/admin-api-key.json).
        #[arg(long, env = "SIGILLUM_KEY_FILE")]
        key_file: Option<PathBuf>,
        /// Data directory used to find the admin key file.
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
    },
    /// Sign a PDF through a running appliance (`POST /v1/sign`), e.g.
    /// `sigillum sign in.pdf -o out.pdf --entity ID --seal seal.png --page 1 --rect 400,80,119,119`.
    Sign(Box<SignArgs>),
    /// Verify the signatures of a PDF offline, with the same engine as `POST /v1/verify`.
    /// Exit codes: 0 every signature intact and trusted, 1 some signature invalid or modified,
    /// 2 indeterminate, untrusted or no signature at all, 3 unusable input.
    Verify(VerifyArgs),
    /// Internal: the isolated worker `POST /v1/verify` runs (PDF on stdin, JSON on stdout).
    #[command(hide = true)]
    VerifyWorker(VerifyWorkerArgs),
    /// Print the configuration file with every default.
    ConfigDefaults,
    /// Transparency-log tools.
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
}

#[derive(Subcommand)]
enum LogCommand {
    /// Audit a running log from the outside: verify the checkpoint signature, recompute every
    /// tile and the root from the entries, and check consistency with a trusted checkpoint.
    /// Exits 1 on any discrepancy, 2 if the audit could not run.
    Audit {
        /// Base URL of the appliance.
        #[arg(long, default_value = "http://127.0.0.1:8470", env = "SIGILLUM_URL")]
        server: String,
        /// A checkpoint (signed note) trusted from an earlier audit; the log must extend it.
        #[arg(long)]
        trusted_checkpoint: Option<PathBuf>,
        /// The log's verifier key (`<name>+<id>+<key>`), obtained out of band. Default: the key
        /// the server publishes at /v1/log/public-key (then pin it with --trusted-checkpoint).
        #[arg(long)]
        verifier_key: Option<String>,
        /// Write the audited checkpoint here, to pass as --trusted-checkpoint next time.
        #[arg(long)]
        save_checkpoint: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            config,
            data_dir,
            listen,
            public_url,
        } => serve(config, data_dir, listen, public_url),
        Command::Call {
            method,
            path,
            data,
            url,
            key_file,
            data_dir,
        } => call(&method, &path, data, &url, key_file, &data_dir),
        Command::Log {
            command:
                LogCommand::Audit {
                    server,
                    trusted_checkpoint,
                    verifier_key,
                    save_checkpoint,
                },
        } => audit(&server, trusted_checkpoint, verifier_key, save_checkpoint),
        Command::Sign(args) => sign(*args),
        Command::Verify(args) => verify_cli(args),
        Command::VerifyWorker(args) => {
            sigillum::service::verification::worker_main(args.memory_mb, args.cpu_seconds)
        }
        Command::ConfigDefaults => match toml::to_string_pretty(&Config::default()) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

fn serve(
    config_file: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    public_url: Option<String>,
) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SIGILLUM_LOG")
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .init();
    let mut config = match config_file {
        Some(path) => match Config::from_file(&path) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("{e}");
                return ExitCode::FAILURE;
            }
        },
        None => Config::default(),
    };
    if let Some(dir) = data_dir {
        config.data_dir = dir;
    }
    if let Some(addr) = listen {
        config.listen = addr;
    }
    if let Some(url) = public_url {
        config.public_url = Some(url);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listen = config.listen;
        let app = match tokio::task::spawn_blocking(move || {
            Appliance::open(config, Arc::new(SystemClock))
        })
        .await
        {
            Ok(Ok(app)) => app,
            Ok(Err(e)) => {
                tracing::error!("start-up failed: {e}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                tracing::error!("start-up panicked: {e}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(admin_key_file = %app.admin_key_path.display(), "admin API key file");
        let upkeep = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(300));
            tick.tick().await; // the first tick is immediate; `open` just did the upkeep
            loop {
                tick.tick().await;
                let app = upkeep.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || app.maintain()).await {
                    tracing::warn!(error = %e, "periodic upkeep failed");
                }
            }
        });
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("cannot listen on {listen}: {e}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(%listen, "sigillum is serving");
        let router = sigillum::api::router(app.clone());
        let router = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown_signal())
            .await
        {
            tracing::error!("server error: {e}");
            return ExitCode::FAILURE;
        }
        tracing::info!("shut down");
        ExitCode::SUCCESS
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn call(
    method: &str,
    path: &str,
    data: Option<String>,
    url: &str,
    key_file: Option<PathBuf>,
    data_dir: &std::path::Path,
) -> ExitCode {
    let key_path = key_file.unwrap_or_else(|| data_dir.join("admin-api-key.json"));
    let key = match sigillum::client::KeyFile::load(&key_path) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let body = match data {
        None => Vec::new(),
        Some(d) => match d.strip_prefix('@') {
            Some(file) => match std::fs::read(file) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("error: cannot read {file}: {e}");
                    return ExitCode::from(2);
                }
            },
            None => d.into_bytes(),
        },
    };
    match sigillum::client::call(url, &key, method, path, body) {
        Ok(reply) => {
            eprintln!("HTTP {}", reply.status);
            let _ = std::io::stdout().write_all(&reply.body);
            if reply
                .content_type
                .as_deref()
                .is_some_and(|c| c.contains("json"))
            {
                println!();
            }
            if reply.status < 400 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// The PDF to verify.
    input: PathBuf,
    /// PEM bundle of trust anchors (CA certificates); repeatable. Without it nothing is
    /// trusted (an appliance's root is at `GET /v1/ca/root.pem`).
    #[arg(long)]
    trust: Vec<PathBuf>,
    /// Print the JSON report instead of the readable summary.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct VerifyWorkerArgs {
    #[arg(long)]
    memory_mb: u64,
    #[arg(long)]
    cpu_seconds: u64,
}

fn verify_cli(args: VerifyArgs) -> ExitCode {
    use sigillum::pades::verify::{self, TrustSettings};
    let mut trust = TrustSettings::default();
    for path in &args.trust {
        match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|pem| trust.add_pem_bundle(&pem))
        {
            Ok(0) => {
                eprintln!("error: {} holds no CA certificate", path.display());
                return ExitCode::from(3);
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return ExitCode::from(3);
            }
        }
    }
    let pdf = match std::fs::read(&args.input) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}: {e}", args.input.display());
            return ExitCode::from(3);
        }
    };
    let report = match verify::verify(
        &pdf,
        &trust,
        time::OffsetDateTime::now_utc(),
        sigillum::pdf::Limits::default(),
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e} ({})", e.code());
            return ExitCode::from(3);
        }
    };
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(t) => println!("{t}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(3);
            }
        }
    } else {
        print!("{}", sigillum::service::verification::render_text(&report));
    }
    ExitCode::from(sigillum::service::verification::exit_code(&report))
}

#[derive(clap::Args)]
struct SignArgs {
    /// The PDF to sign.
    input: PathBuf,
    /// Where to write the signed PDF.
    #[arg(short, long)]
    output: PathBuf,
    /// The signing entity's id.
    #[arg(long)]
    entity: String,
    /// B-B, B-T, B-LT or B-LTA (default: the server's default, B-T).
    #[arg(long)]
    level: Option<String>,
    /// A seal image (PNG or JPEG) for a visible seal.
    #[arg(long)]
    seal: Option<PathBuf>,
    /// Text of a visible `signature` field instead of a seal (default the entity's name when
    /// --rect or --keyword is given without --seal).
    #[arg(long)]
    text: Option<String>,
    /// Page for --rect (1-based, negative from the end); with --keyword, limits the search.
    #[arg(long)]
    page: Option<i64>,
    /// x,y,width,height in points from the lower-left of the page as displayed.
    #[arg(long, conflicts_with = "keyword")]
    rect: Option<String>,
    /// Place the field on this text (first occurrence).
    #[arg(long)]
    keyword: Option<String>,
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    location: Option<String>,
    /// Certify the document: P1, P2 or P3.
    #[arg(long)]
    certify: Option<String>,
    /// Idempotency key, to retry safely.
    #[arg(long)]
    idempotency_key: Option<String>,
    /// Write the receipt JSON here.
    #[arg(long)]
    receipt: Option<PathBuf>,
    /// Base URL of the appliance.
    #[arg(long, default_value = "http://127.0.0.1:8470", env = "SIGILLUM_URL")]
    url: String,
    /// API key file with {"key_id", "secret"} (default <data-dir>/admin-api-key.json).
    #[arg(long, env = "SIGILLUM_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// Data directory used to find the admin key file.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
}

fn sign(a: SignArgs) -> ExitCode {
    use base64::Engine;
    let fail = |m: String| {
        eprintln!("error: {m}");
        ExitCode::from(2)
    };
    let key_path = a
        .key_file
        .unwrap_or_else(|| a.data_dir.join("admin-api-key.json"));
    let key = match sigillum::client::KeyFile::load(&key_path) {
        Ok(k) => k,
        Err(e) => return fail(e),
    };
    let pdf = match std::fs::read(&a.input) {
        Ok(b) => b,
        Err(e) => return fail(format!("cannot read {}: {e}", a.input.display())),
    };
    let placement = match (&a.rect, &a.keyword) {
        (Some(rect), _) => {
            let v: Vec<f64> = rect
                .split(',')
                .filter_map(|p| p.trim().parse().ok())
                .collect();
            let [x, y, w, h] = v[..] else {
                return fail("--rect must be x,y,width,height".into());
            };
            Some(
                serde_json::json!({"coordinates": {"page": a.page.unwrap_or(1), "x": x, "y": y, "width": w, "height": h}}),
            )
        }
        (None, Some(k)) => {
            let mut kw = serde_json::json!({"text": k});
            if let Some(p) = a.page {
                kw["page"] = p.into();
            }
            Some(serde_json::json!({ "keyword": kw }))
        }
        (None, None) => None,
    };
    let mut fields = Vec::new();
    if let Some(placement) = placement {
        let mut field = serde_json::json!({"kind": "signature", "placement": placement});
        if let Some(seal) = &a.seal {
            match std::fs::read(seal) {
                Ok(img) => {
                    field["kind"] = "seal".into();
                    field["image"] = base64::engine::general_purpose::STANDARD.encode(img).into();
                }
                Err(e) => return fail(format!("cannot read {}: {e}", seal.display())),
            }
        }
        if let Some(t) = &a.text {
            field["text"] = t.clone().into();
        }
        fields.push(field);
    } else if a.seal.is_some() || a.text.is_some() {
        return fail("--seal and --text need --rect or --keyword".into());
    }
    let mut options = serde_json::json!({"entity_id": a.entity, "fields": fields});
    for (k, v) in [
        ("level", &a.level),
        ("reason", &a.reason),
        ("location", &a.location),
        ("certify", &a.certify),
    ] {
        if let Some(v) = v {
            options[k] = v.clone().into();
        }
    }
    let (body, content_type) =
        sigillum::client::sign_request_body(options.to_string().as_bytes(), &pdf);
    let mut headers = Vec::new();
    if let Some(k) = &a.idempotency_key {
        headers.push(("Idempotency-Key", k.as_str()));
    }
    let reply = match sigillum::client::send(
        &a.url,
        &key,
        "POST",
        "/v1/sign",
        body,
        Some(&content_type),
        &headers,
    ) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if reply.status >= 400 {
        eprintln!("HTTP {}", reply.status);
        let _ = std::io::stderr().write_all(&reply.body);
        eprintln!();
        return ExitCode::FAILURE;
    }
    if let Err(e) = std::fs::write(&a.output, &reply.body) {
        return fail(format!("cannot write {}: {e}", a.output.display()));
    }
    if let (Some(path), Some(r)) = (&a.receipt, &reply.receipt) {
        match base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(r) {
            Ok(json) => {
                if let Err(e) = std::fs::write(path, json) {
                    return fail(format!("cannot write {}: {e}", path.display()));
                }
            }
            Err(e) => return fail(format!("malformed receipt header: {e}")),
        }
    }
    eprintln!(
        "signed: {} ({} bytes)",
        a.output.display(),
        reply.body.len()
    );
    ExitCode::SUCCESS
}

fn audit(
    server: &str,
    trusted: Option<PathBuf>,
    verifier_key: Option<String>,
    save: Option<PathBuf>,
) -> ExitCode {
    use sigillum::tlog::audit::{self, HttpSource};
    use sigillum::tlog::note::VerifierKey;
    let trusted_text = match trusted.as_deref().map(std::fs::read_to_string).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read the trusted checkpoint: {e}");
            return ExitCode::from(2);
        }
    };
    let source = match HttpSource::new(server) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let key = match verifier_key {
        Some(k) => VerifierKey::parse(&k).map_err(|e| audit::AuditError(e.to_string())),
        None => audit::fetch_verifier_key(&source),
    };
    let key = match key {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match audit::audit(&source, &key, trusted_text.as_deref()) {
        Ok(report) => {
            let cp = &report.checkpoint.checkpoint;
            println!(
                "OK: {} entries, {} tiles recomputed; root {} matches the checkpoint signed by {}",
                report.entries,
                report.tiles_checked,
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, cp.root),
                key.encode()
            );
            if let Some(m) = report.extends {
                println!("OK: the log extends the trusted checkpoint of size {m}");
            }
            if let Some(path) = save
                && let Err(e) = std::fs::write(&path, &report.checkpoint.note)
            {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("AUDIT FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
