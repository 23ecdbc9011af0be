//! `pitsense-ingest`: the cloud side of the episode upload.
//!
//! ```sh
//! pitsense-ingest --listen tcp/127.0.0.1:7447 --store DIR      # embedded: trucks connect to it
//! pitsense-ingest --connect tcp/router:7447 --store DIR        # fleet: through a zenohd router
//! pitsense-ingest catalog --store DIR                          # what arrived, sizes and SHA-256
//! pitsense-ingest --listen tcp/0.0.0.0:7447 --store DIR --catalog postgres://ingest@db/fleet  # shared catalog
//! pitsense-ingest query --store DIR --class person --within-m 15 --health-mode lidar_lost
//! pitsense-ingest reindex --store DIR [--all]                  # index episodes stored before
//! pitsense-ingest export --store DIR --class person --format kitti --out DIR  # a training set
//! ```
//!
//! It runs until interrupted (SIGINT/SIGTERM end it; partial transfers stay on disk and resume).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use pitsense_cloud_link::catalog::{CatalogQuery, QueryHit, parse_utc_ns, utc_datetime};
use pitsense_cloud_link::episode_index::SiteArea;
use pitsense_cloud_link::export::ExportFormat;
use pitsense_cloud_link::ingest::{Catalog, CatalogLocation, Ingest, Store, default_catalog};
use pitsense_cloud_link::transport::{LinkConfig, TlsFiles, truck_acl_json};

#[derive(Parser)]
#[command(
    name = "pitsense-ingest",
    version,
    about = "Receive, verify and catalogue episodes from the trucks"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// List the episodes in the store: truck, date, size, SHA-256, path.
    Catalog {
        /// The episode store.
        #[arg(long)]
        store: PathBuf,
        /// The catalog: a `postgres://user@host:port/database` URL (a PostgreSQL server that
        /// several ingests share) or an SQLite file; default STORE/catalog.sqlite.
        #[arg(long)]
        catalog: Option<String>,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Find episodes by what is in them: every filter given must hold.
    Query(Box<QueryArgs>),
    /// Write the frames of the episodes the filters select as a training set (KITTI or YOLO),
    /// the tracker's objects as labels, with a manifest of the source episodes.
    Export(Box<ExportArgs>),
    /// Index the stored episodes that have no index yet (catalogs from before the index).
    Reindex {
        /// The episode store.
        #[arg(long)]
        store: PathBuf,
        /// The catalog: a `postgres://user@host:port/database` URL (a PostgreSQL server that
        /// several ingests share) or an SQLite file; default STORE/catalog.sqlite.
        #[arg(long)]
        catalog: Option<String>,
        /// Index every episode again, not only those without an index.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Args)]
struct QueryArgs {
    #[command(flatten)]
    filters: FilterArgs,
    /// One JSON object per line (catalog row, index) instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ExportArgs {
    #[command(flatten)]
    filters: FilterArgs,
    /// The layout: kitti (training/image_2, velodyne, calib, label_2) or yolo (images, labels,
    /// classes.txt).
    #[arg(long, value_enum)]
    format: FormatArg,
    /// The folder to write the training set and its manifest.json into.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Kitti,
    Yolo,
}

/// The episodes to select: every filter given must hold.
#[derive(Args)]
struct FilterArgs {
    /// The episode store.
    #[arg(long)]
    store: PathBuf,
    /// The catalog: a `postgres://user@host:port/database` URL (a PostgreSQL server that
    /// several ingests share) or an SQLite file; default STORE/catalog.sqlite.
    #[arg(long)]
    catalog: Option<String>,
    /// Only this truck (repeat for several).
    #[arg(long)]
    truck: Vec<String>,
    /// Episodes still running at or after this time: ns since 1970, YYYY-MM-DD or
    /// YYYY-MM-DDTHH:MM[:SS][Z] (UTC).
    #[arg(long, value_parser = parse_utc_ns)]
    since: Option<u64>,
    /// Episodes that started before this time (same forms as --since).
    #[arg(long, value_parser = parse_utc_ns)]
    until: Option<u64>,
    /// The trigger reason contains this text (`health`, `low_confidence`, `manual`, ...).
    #[arg(long)]
    trigger: Option<String>,
    /// Recorded by this pitsense version.
    #[arg(long)]
    software_version: Option<String>,
    /// The detector model's SHA-256 starts with this hex.
    #[arg(long, value_parser = parse_hex_prefix)]
    model: Option<String>,
    /// This class was tracked (repeat: all of them were), e.g. `person`, `truck`.
    #[arg(long)]
    class: Vec<String>,
    /// Each --class had at least this many tracks.
    #[arg(long, default_value_t = 1, requires = "class")]
    min_tracks: u64,
    /// The --class objects (any class without --class) came this close to the truck, m.
    #[arg(long)]
    within_m: Option<f64>,
    /// At least one object only V2X (a road-side unit) saw.
    #[arg(long)]
    v2x_only: bool,
    /// The runtime entered this mode (repeat: all of them): lidar_lost, camera_lost, v2x_lost,
    /// ego_pose_lost, perception_unavailable, nominal.
    #[arg(long, value_parser = ["nominal", "lidar_lost", "camera_lost", "v2x_lost", "ego_pose_lost", "perception_unavailable"])]
    health_mode: Vec<String>,
    /// The truck drove inside this site-frame rectangle: MIN_X,MIN_Y,MAX_X,MAX_Y in metres.
    #[arg(long, value_parser = parse_area)]
    area: Option<SiteArea>,
    /// At most this many episodes.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
    limit: Option<u64>,
}

/// A SHA-256 prefix: hex digits only.
fn parse_hex_prefix(text: &str) -> Result<String, String> {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(text.to_lowercase())
    } else {
        Err(format!("`{text}`: give the start of a SHA-256 in hex digits"))
    }
}

impl FilterArgs {
    /// The catalog query of these filters.
    fn query(&self) -> anyhow::Result<CatalogQuery> {
        if let Some(within_m) = self.within_m {
            anyhow::ensure!(
                within_m.is_finite() && within_m >= 0.0,
                "--within-m {within_m}: give a range >= 0 m"
            );
        }
        if let (Some(since_ns), Some(until_ns)) = (self.since, self.until) {
            anyhow::ensure!(since_ns < until_ns, "--since is not before --until: no episode could match");
        }
        Ok(CatalogQuery {
            trucks: self.truck.clone(),
            since_ns: self.since,
            until_ns: self.until,
            trigger_contains: self.trigger.clone(),
            software_version: self.software_version.clone(),
            model_sha256_prefix: self.model.clone(),
            classes: self.class.clone(),
            min_tracks: self.min_tracks,
            within_m: self.within_m,
            v2x_only: self.v2x_only,
            health_modes: self.health_mode.clone(),
            area: self.area,
            limit: self.limit,
        })
    }
}

/// `MIN_X,MIN_Y,MAX_X,MAX_Y` (m, site frame).
fn parse_area(text: &str) -> Result<SiteArea, String> {
    let values: Vec<f64> = text
        .split(',')
        .map(|v| v.trim().parse::<f64>().map_err(|e| format!("`{v}`: {e}")))
        .collect::<Result<_, _>>()?;
    match values[..] {
        [min_x_m, min_y_m, max_x_m, max_y_m]
            if values.iter().all(|v| v.is_finite()) && min_x_m <= max_x_m && min_y_m <= max_y_m =>
        {
            Ok(SiteArea { min_x_m, min_y_m, max_x_m, max_y_m })
        }
        _ => Err(format!(
            "`{text}`: give MIN_X,MIN_Y,MAX_X,MAX_Y, four finite numbers in metres with MIN <= MAX"
        )),
    }
}

#[derive(Args)]
struct ServeArgs {
    /// zenoh endpoint to listen on (peer to peer with the trucks), e.g. tcp/127.0.0.1:7447.
    #[arg(long)]
    listen: Vec<String>,
    /// zenoh endpoint (router) to connect to, e.g. tcp/zenohd.pit:7447.
    #[arg(long)]
    connect: Vec<String>,
    /// The episode store (created if missing).
    #[arg(long)]
    store: Option<PathBuf>,
    /// The catalog: a `postgres://user@host:port/database` URL (a PostgreSQL server that
    /// several ingests share) or an SQLite file; default STORE/catalog.sqlite.
    #[arg(long)]
    catalog: Option<String>,
    /// TLS: the CA certificate (PEM) that signs the trucks' and this ingest's certificates.
    #[arg(long, requires_all = ["tls_cert", "tls_key"])]
    tls_root_ca: Option<PathBuf>,
    /// TLS: this ingest's certificate (PEM).
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// TLS: this ingest's private key (PEM).
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// Mutual TLS: only trucks with a certificate signed by the CA may connect.
    #[arg(long, requires = "tls_root_ca")]
    mtls: bool,
    /// Access control: these truck ids (their certificates' common names) may each send only
    /// under their own key `pitsense/ingest/<truck_id>/**`; everything else is denied.
    #[arg(long, value_delimiter = ',', requires = "mtls")]
    allow_truck: Vec<String>,
}

/// Writes a line to stdout, returning the error (a closed pipe, `| head`, ends the output
/// quietly in `main`) instead of panicking as `println!` does.
macro_rules! out {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)?
    };
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,zenoh=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = run(cli);
    match result {
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Catalog { store, catalog: location, json }) => {
            catalog(&store, location.as_deref(), json)
        }
        Some(Command::Query(args)) => query(*args),
        Some(Command::Export(args)) => export(*args),
        Some(Command::Reindex { store, catalog, all }) => reindex(&store, catalog.as_deref(), all),
        None => serve(cli.serve),
    }
}

fn catalog(store: &std::path::Path, location: Option<&str>, json: bool) -> anyhow::Result<()> {
    let rows = open_catalog(store, location)?.list()?;
    let total_bytes: u64 = rows.iter().map(|r| r.size_bytes).sum();
    if json {
        for row in &rows {
            let line = serde_json::json!({
                "truck_id": row.truck_id, "file_name": row.file_name, "store_path": row.store_path,
                "size_bytes": row.size_bytes, "sha256": row.sha256, "priority": row.priority,
                "recorded_ns": row.recorded_ns, "received_ns": row.received_ns,
            });
            out!("{line}");
        }
    } else {
        out!("{:<16} {:>12}  {:<64}  {:<8} path", "truck", "size_bytes", "sha256", "priority");
        for row in &rows {
            out!(
                "{:<16} {:>12}  {:<64}  {:<8} {}",
                row.truck_id,
                row.size_bytes,
                row.sha256,
                row.priority,
                row.store_path
            );
        }
        out!("{} episodes, {} bytes", rows.len(), total_bytes);
    }
    Ok(())
}

/// The catalog at `--catalog`, else the store's SQLite file (which must exist: a query on a
/// folder that is no store is an error, not a new empty catalog).
fn catalog_location(store: &std::path::Path, location: Option<&str>) -> anyhow::Result<CatalogLocation> {
    match location.map(CatalogLocation::parse) {
        // Only the ingest (`serve`) creates a catalog: a mistyped path is an error, not a new
        // empty catalog that answers "0 episodes".
        Some(CatalogLocation::Sqlite(path)) => {
            anyhow::ensure!(
                path.metadata().is_ok_and(|m| m.is_file() && m.len() > 0),
                "--catalog `{}`: no such catalog (not a file, or empty); give an SQLite catalog made by \
                 pitsense-ingest or a postgres:// URL",
                path.display()
            );
            Ok(CatalogLocation::Sqlite(path))
        }
        Some(postgres) => Ok(postgres),
        None => {
            let path = store.join("catalog.sqlite");
            anyhow::ensure!(path.is_file(), "{}: no catalog (is --store an episode store?)", path.display());
            Ok(CatalogLocation::Sqlite(path))
        }
    }
}

fn open_catalog(store: &std::path::Path, location: Option<&str>) -> anyhow::Result<Catalog> {
    Ok(Catalog::open_at(&catalog_location(store, location)?)?)
}

fn query(args: QueryArgs) -> anyhow::Result<()> {
    let hits =
        open_catalog(&args.filters.store, args.filters.catalog.as_deref())?.query(&args.filters.query()?)?;
    if args.json {
        for hit in &hits {
            out!("{}", serde_json::to_string(hit)?);
        }
        return Ok(());
    }
    out!(
        "{:<12} {:<20} {:>7}  {:<28} {:<32} {:>4}  {:<24} path",
        "truck",
        "start (UTC)",
        "dur_s",
        "trigger",
        "classes (tracks)",
        "v2x",
        "health"
    );
    for hit in &hits {
        out!("{}", table_line(hit));
    }
    out!("{} episodes", hits.len());
    Ok(())
}

fn table_line(hit: &QueryHit) -> String {
    let row = &hit.row;
    let Some(index) = &hit.index else {
        let why = hit.index_error.as_deref().unwrap_or("not indexed: run `pitsense-ingest reindex`");
        return format!(
            "{:<12} {:<20} {why}  {}",
            row.truck_id,
            utc_datetime(row.recorded_ns),
            row.store_path
        );
    };
    let classes: Vec<String> =
        index.classes.iter().map(|(label, c)| format!("{label}:{}", c.tracks)).collect();
    let modes: Vec<&str> = index.health_modes().into_iter().collect();
    format!(
        "{:<12} {:<20} {:>7.1}  {:<28} {:<32} {:>4}  {:<24} {}",
        row.truck_id,
        utc_datetime(index.start_ns),
        index.end_ns.saturating_sub(index.start_ns) as f64 / 1e9,
        index.trigger_reason,
        classes.join(" "),
        index.v2x_only_tracks,
        modes.join(","),
        row.store_path
    )
}

fn export(args: ExportArgs) -> anyhow::Result<()> {
    let hits =
        open_catalog(&args.filters.store, args.filters.catalog.as_deref())?.query(&args.filters.query()?)?;
    let format = match args.format {
        FormatArg::Kitti => ExportFormat::Kitti,
        FormatArg::Yolo => ExportFormat::Yolo,
    };
    let report = pitsense_cloud_link::export::export(&args.filters.store, &hits, format, &args.out)?;
    for episode in &report.episodes {
        if let Some(reason) = &episode.skipped_because {
            eprintln!("{}: {reason}", episode.store_path);
        }
    }
    out!(
        "{} frames from {} episodes written to {} ({} frames skipped: no cloud, no image near them or no calibration); manifest: {}",
        report.frames_written,
        report.episodes.iter().filter(|e| !e.frames.is_empty()).count(),
        args.out.display(),
        report.frames_skipped,
        args.out.join("manifest.json").display()
    );
    Ok(())
}

fn reindex(store: &std::path::Path, location: Option<&str>, all: bool) -> anyhow::Result<()> {
    let location = catalog_location(store, location)?;
    let mut store_handle = Store::open_with_catalog(store, &location)?;
    let (indexed, failed) = store_handle.reindex(all)?;
    for (path, reason) in &failed {
        eprintln!("not indexed: {path}: {reason}");
    }
    out!("{indexed} episodes indexed, {} could not be", failed.len());
    Ok(())
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let store = args.store.context("--store DIR is required")?;
    anyhow::ensure!(
        !args.listen.is_empty() || !args.connect.is_empty(),
        "give --listen ENDPOINT (peer to peer) or --connect ENDPOINT (a zenoh router)"
    );
    let tls = match (args.tls_root_ca, args.tls_cert, args.tls_key) {
        (Some(root_ca_pem), Some(cert_pem), Some(key_pem)) => {
            Some(TlsFiles { root_ca_pem, cert_pem, key_pem, mutual: args.mtls })
        }
        _ => None,
    };
    let trucks: Vec<&str> = args.allow_truck.iter().map(String::as_str).collect();
    let link = LinkConfig {
        listen: args.listen.clone(),
        connect: args.connect.clone(),
        client_mode: false,
        tls,
        access_control: (!trucks.is_empty()).then(|| truck_acl_json(&trucks)),
    };
    let catalog = args.catalog.as_deref().map_or_else(|| default_catalog(&store), CatalogLocation::parse);
    let ingest = Ingest::start_with_catalog(&store, &catalog, &link)
        .with_context(|| format!("starting the ingest on {}", store.display()))?;
    tracing::info!(store = %store.display(), listen = ?args.listen, connect = ?args.connect, "pitsense-ingest ready");
    // Runs until the process is interrupted; the store is consistent at every acknowledged chunk.
    loop {
        std::thread::sleep(std::time::Duration::from_secs(60));
        let counters = ingest.counters();
        tracing::info!(
            episodes_stored = counters.episodes_stored.load(std::sync::atomic::Ordering::Relaxed),
            chunks_stored = counters.chunks_stored.load(std::sync::atomic::Ordering::Relaxed),
            chunks_corrupt = counters.chunks_corrupt.load(std::sync::atomic::Ordering::Relaxed),
            "ingest"
        );
    }
}
