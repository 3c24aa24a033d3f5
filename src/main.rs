//! Command line: parses arguments and calls into the library. Nothing else lives here.

use clap::{Parser, Subcommand};
use culturecnous::{
    config::Config,
    context::AppContext,
    db::{database::Database, pool},
    service,
};
use std::{io::Read, path::PathBuf, process::ExitCode};

#[derive(Parser)]
#[command(
    name = "culturecnous",
    version,
    about = "cultureCnous: the collaborative platform of a territory's cultural actors",
    long_about = "cultureCnous: the collaborative platform of a territory's cultural actors.\n\n\
        Every command reads the same configuration: the file given with --config (optional), \
        then the environment variables CULTURECNOUS__SECTION__KEY. With no database URL \
        configured, a private PostgreSQL database is kept under the data folder (./data)."
)]
struct Cli {
    /// Configuration file (TOML); see config.toml.example for every key.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web site, the API, the federation endpoints and the delivery workers.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API access tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Block other servers, lift blocks, list them.
    Domain {
        #[command(subcommand)]
        command: DomainCommand,
    },
    /// The instance itself.
    Instance {
        #[command(subcommand)]
        command: InstanceCommand,
    },
    /// The directory of the territory's cultural actors.
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
}

#[derive(Subcommand)]
enum DirectoryCommand {
    /// Bulk-import the actors the département already knows as unclaimed directory entries.
    #[command(long_about = IMPORT_HELP)]
    Import {
        /// The CSV file (UTF-8 or Windows-1252/Latin-1; separator `;` or `,`).
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
        /// Check every row and tell what would be created, updated or skipped; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

const IMPORT_HELP: &str = "Bulk-import the actors the département already knows as unclaimed \
directory entries, which an administrator can then invite to claim (/admin/annuaire).

The first line names the columns (in any order; case and accents ignored; unknown columns \
are ignored and listed):
  name         required; the structure's or artist's name
  kind         compagnie, association, bibliotheque, ecole_de_musique, etablissement_scolaire,
               ehpad_medico_social, collectivite, artiste, lieu, autre (\"École de musique\",
               \"EHPAD\"… are understood); empty: autre (lieu when is_venue)
  disciplines  separated by , ; or |  (e.g. \"théâtre|danse\")
  email        the address claim invitations are sent to
  phone, address
  postal_code  5 digits
  commune      the commune's name (\"St-Dié-des-Vosges\" is understood) or INSEE code;
               commune or postal_code is required
  website      http(s) address
  latitude, longitude   decimal degrees, both or neither
  is_venue     oui/non, true/false, 1/0, x

Re-running a file updates the entries it already created (same e-mail, else same name in \
the same commune) instead of duplicating them; entries already claimed are left alone. \
Bad rows are skipped and listed with their line and reason; the exit status is 0 unless the \
file cannot be read or lacks the required columns.";

#[derive(Subcommand)]
enum DomainCommand {
    /// Block a domain (its subdomains too; `host:port` blocks that port only), or change its
    /// block; written to the moderators' log (with no account). `reject` cuts
    /// it off both ways: its activities are dropped, queued deliveries to it are dropped,
    /// follows in both directions are removed, nothing is fetched from it. `silence` keeps
    /// follows and lets its accounts reach their followers here, but out of public lists.
    Block {
        /// The domain, e.g. spam.example.
        domain: String,
        #[arg(long, value_parser = ["silence", "reject"])]
        severity: String,
        /// What may be shown publicly about the block.
        #[arg(long, default_value = "")]
        public_comment: String,
        /// A note for moderators.
        #[arg(long, default_value = "")]
        private_comment: String,
        /// Refuse reports (`Flag`s) from the domain.
        #[arg(long)]
        reject_reports: bool,
    },
    /// Lift the block on a domain (removed follows are not restored).
    Unblock { domain: String },
    /// List the blocked domains.
    List,
}

#[derive(Subcommand)]
enum InstanceCommand {
    /// Move every local id to a new public URL (instance.url). Only while the instance has
    /// never federated; stop `serve` first, and set instance.url to NEW_URL before starting it.
    MoveUrl {
        /// The new site root, e.g. https://culture.example
        #[arg(value_name = "NEW_URL")]
        new_url: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from standard input (--password-stdin).
    Create {
        /// Username: 3 to 30 lowercase letters, digits or _.
        #[arg(long)]
        username: String,
        /// E-mail address.
        #[arg(long)]
        email: String,
        /// What the account may do.
        #[arg(long, default_value = "member", value_parser = ["member", "staff", "moderator", "admin"])]
        role: String,
        /// A person, or a structure (company, library, school, care home, council…).
        #[arg(long, default_value = "individual", value_parser = ["individual", "structure"])]
        kind: String,
        /// Name shown on the profile (defaults to the username).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (first line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new API token for an account, alone on the last line of standard output.
    Create {
        /// Username (or e-mail) of the account.
        #[arg(long)]
        user: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "")]
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| culturecnous::DEFAULT_LOG_FILTER.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command, config));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // A changed instance.url is a configuration error, like an invalid key.
            let mismatch = e.chain().any(|c| {
                matches!(
                    c.downcast_ref::<service::instance_url::CheckError>(),
                    Some(service::instance_url::CheckError::Mismatch(_))
                )
            });
            if mismatch {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            with_database_as_is(config, |ctx| async move {
                let _ = ctx;
                Ok(())
            })
            .await
        }
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    email,
                    role,
                    kind,
                    display_name,
                    password_stdin: _,
                },
        } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.lines().next().unwrap_or("").to_string();
            with_database(config, |ctx| async move {
                let account = service::accounts::create_account(
                    &ctx,
                    service::accounts::NewAccountInput {
                        display_name: display_name.unwrap_or_else(|| username.clone()),
                        username,
                        email,
                        password,
                        kind,
                        role,
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!(describe(&e)))?;
                println!(
                    "created {} account {} ({})",
                    account.role,
                    account.username,
                    ctx.urls.user(&account.username)
                );
                Ok(())
            })
            .await
        }
        Command::Token {
            command: TokenCommand::Create { user, name },
        } => {
            with_database(config, |ctx| async move {
                let token = service::tokens::create_token(&ctx, &user, &name)
                    .await
                    .map_err(|e| anyhow::anyhow!(describe(&e)))?;
                println!("API token for {user} (shown once, keep it secret):");
                println!("{token}");
                Ok(())
            })
            .await
        }
        Command::Domain { command } => domain_command(command, config).await,
        Command::Directory {
            command: DirectoryCommand::Import { file, dry_run },
        } => directory_import(config, file, dry_run).await,
        Command::Instance {
            command: InstanceCommand::MoveUrl { new_url },
        } => {
            with_database_as_is(config, |ctx| async move {
                let moved = service::instance_url::move_url(&ctx, &new_url).await?;
                println!(
                    "moved the instance from {} to {} ({} stored values rewritten).",
                    moved.from, moved.to, moved.values
                );
                println!(
                    "Now set instance.url = \"{}\" (or CULTURECNOUS__INSTANCE__URL) and start \
                     `culturecnous serve` again; a server still running with the old URL must be \
                     restarted.",
                    moved.to
                );
                Ok(())
            })
            .await
        }
    }
}

async fn domain_command(command: DomainCommand, config: Config) -> anyhow::Result<()> {
    use service::domain_blocks::{self, BlockOptions, Severity};
    with_database(config, |ctx| async move {
        match command {
            DomainCommand::Block {
                domain,
                severity,
                public_comment,
                private_comment,
                reject_reports,
            } => {
                let severity = Severity::parse(&severity)
                    .ok_or_else(|| anyhow::anyhow!("--severity: silence or reject"))?;
                let options = BlockOptions {
                    public_comment,
                    private_comment,
                    reject_reports,
                };
                let blocked = domain_blocks::block(&ctx, &domain, severity, &options)
                    .await
                    .map_err(|e| anyhow::anyhow!(describe(&e)))?;
                println!(
                    "blocked {} ({}): {} queued deliveries dropped, {} follows removed",
                    blocked.block.domain,
                    blocked.block.severity,
                    blocked.deliveries_dropped,
                    blocked.follows_removed
                );
                println!(
                    "running servers apply it within {} seconds",
                    domain_blocks::CACHE_TTL.as_secs()
                );
            }
            DomainCommand::Unblock { domain } => {
                let removed = domain_blocks::unblock(&ctx, &domain)
                    .await
                    .map_err(|e| anyhow::anyhow!(describe(&e)))?;
                if !removed {
                    anyhow::bail!("{domain} is not blocked");
                }
                println!("unblocked {}", domain.trim().to_ascii_lowercase());
            }
            DomainCommand::List => {
                for b in domain_blocks::list(&ctx)
                    .await
                    .map_err(|e| anyhow::anyhow!(describe(&e)))?
                {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        b.domain,
                        b.severity,
                        if b.reject_reports {
                            "reject-reports"
                        } else {
                            "-"
                        },
                        b.public_comment,
                        b.reason
                    );
                }
            }
        }
        Ok(())
    })
    .await
}

/// `directory import`: the report on standard output, progress on standard error.
async fn directory_import(config: Config, file: PathBuf, dry_run: bool) -> anyhow::Result<()> {
    use service::directory::import::{self, ImportOptions};
    let input = std::fs::File::open(&file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    with_database(config, |ctx| async move {
        let mut progress = |rows: u64| eprintln!("{rows} lignes lues…");
        let report = import::import(&ctx, input, ImportOptions { dry_run }, &mut progress)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        for s in &report.skipped_lines {
            println!("ligne {} ignorée : {}", s.line, s.reason);
        }
        if report.encoding != "utf-8" {
            println!(
                "le fichier n'était pas en UTF-8 : lu comme {} (Latin-1)",
                report.encoding
            );
        }
        if !report.ignored_columns.is_empty() {
            println!(
                "colonnes inconnues ignorées : {}",
                report.ignored_columns.join(", ")
            );
        }
        println!(
            "{}{} lignes lues : {} fiches créées, {} mises à jour, {} lignes ignorées",
            if report.dry_run {
                "(essai, rien n'est écrit) "
            } else {
                ""
            },
            report.rows,
            report.created,
            report.updated,
            report.skipped
        );
        Ok(())
    })
    .await
}

/// A readable one-line explanation of a domain error for the terminal.
fn describe(e: &culturecnous::error::AppError) -> String {
    if e.fields.is_empty() {
        return e.detail.clone();
    }
    e.fields
        .iter()
        .map(|f| {
            format!(
                "--{}: {}",
                f.field.replace('_', "-"),
                culturecnous::i18n::Lang::En.t(f.message_key)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Opens the database (starting the managed cluster if nobody runs it), applies migrations,
/// checks that `instance.url` is the one the ids were built from (recording it the first
/// time), runs `f`, and stops the cluster again if this command started it.
async fn with_database<F, Fut>(config: Config, f: F) -> anyhow::Result<()>
where
    F: FnOnce(AppContext) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    with_database_as_is(config, |ctx| async move {
        service::instance_url::check_or_record(&ctx).await?;
        f(ctx).await
    })
    .await
}

/// [`with_database`] without the `instance.url` check: for `migrate`, and for the command
/// that changes the URL.
async fn with_database_as_is<F, Fut>(config: Config, f: F) -> anyhow::Result<()>
where
    F: FnOnce(AppContext) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let database = Database::open(&config).await?;
    let result = async {
        let pool = pool::build_pool(&database.url, 2)?;
        let applied = pool::run_migrations(&pool).await?;
        if applied > 0 {
            eprintln!("applied {applied} database migration(s)");
        }
        let ctx = AppContext::new(config, pool.clone());
        let r = f(ctx).await;
        pool.close();
        r
    }
    .await;
    database.close().await;
    result
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let url = config.instance.url.clone();
    let instance = culturecnous::start(config).await?;
    eprintln!(
        "cultureCnous is running at {url} (listening on {}). Ctrl-C to stop.",
        instance.local_addr
    );
    wait_for_stop_signal().await;
    eprintln!("stopping…");
    instance.shutdown().await;
    Ok(())
}

async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
