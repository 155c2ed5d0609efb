use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tungnha::config::Settings;

/// See Cargo.toml: glibc's allocator holds on to freed memory after bursts.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Từng Nhà — work platform for Vietnam's Community Digital Technology Teams.
#[derive(Parser)]
#[command(name = "tungnha", version, about)]
struct Cli {
    /// Folder holding default.toml and local.toml.
    #[arg(
        long,
        env = "TUNGNHA_CONFIG_DIR",
        default_value = "config",
        global = true
    )]
    config_dir: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the web app (the default).
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Create an administrator; the password is read from standard input.
    CreateAdmin {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "Quản trị hệ thống")]
        display_name: String,
    },
    /// Add the demo commune Mao Điền with fictional households and one account per role.
    SeedDemo {
        /// How many households to generate.
        #[arg(long, default_value_t = 2000)]
        households: usize,
        /// Only when the database holds no commune yet (what `make run` uses).
        #[arg(long)]
        if_empty: bool,
    },
    /// Print the OpenAPI specification as JSON.
    Openapi,
    /// Remove free-text notes older than `retention_years` (the server does it daily too).
    PurgeExpired,
    /// Copy everything the server owns (database with attachments, signing secret) into a new
    /// folder DIR, while it runs; PostgreSQL through pg_dump.
    Backup { dir: PathBuf },
    /// Bring a backup folder back into the configured database and data folder (both fresh).
    Restore { dir: PathBuf },
    /// Recompute the dashboards' tallies from the rows (after editing the database by hand).
    RebuildTallies,
}

fn main() -> ExitCode {
    // With transparent huge pages a 2 MiB page stays resident while any of its bytes is in use, so
    // memory freed after a burst (or after each worker built its routes) was never given back.
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_thp_disable(true) {
        eprintln!("tungnha: transparent huge pages stay on ({e})");
    }
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", tungnha::openapi::spec_json());
        return ExitCode::SUCCESS;
    }
    // The settings first, since they say how to log; nothing logs while they are read, and a bad
    // value is printed plainly.
    let settings = match Settings::load(&cli.config_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tungnha: {e}");
            return ExitCode::from(2);
        }
    };
    tungnha::telemetry::init(settings.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => tungnha::cli::migrate(&settings),
        Command::CreateAdmin {
            username,
            display_name,
        } => tungnha::cli::create_admin(&settings, &username, &display_name),
        Command::SeedDemo {
            households,
            if_empty,
        } => tungnha::cli::seed_demo(&settings, households, if_empty),
        Command::Backup { dir } => tungnha::backup::backup(&settings, &dir),
        Command::Restore { dir } => tungnha::backup::restore(&settings, &dir),
        Command::PurgeExpired => tungnha::cli::purge_expired(&settings),
        Command::RebuildTallies => tungnha::cli::rebuild_tallies(&settings),
        Command::Openapi => unreachable!("handled above"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tungnha: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = tungnha::startup::Application::build(settings).await?;
        app.run_until_stopped().await?;
        Ok(())
    })
}
