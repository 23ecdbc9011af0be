//! The store's catalog: one row per episode that arrived (who sent it, where it is, its SHA-256)
//! and, beside it, the episode's [`EpisodeIndex`] (time, trigger, versions, classes, V2X-only
//! objects, health events, site area), so that "every episode with a person within 15 m of the
//! truck while the lidar was lost last week" is one query ([`Catalog::query`],
//! `pitsense-ingest query`).
//!
//! Embedded SQLite (bundled through `rusqlite`) in `DIR/catalog.sqlite` by default, or a
//! PostgreSQL server that several ingests share (`--catalog postgres://...`, [`CatalogLocation`];
//! the same SQL runs on both, see `db.rs`). Tables:
//!
//! ```text
//! episodes         (truck_id, sha256) → file_name, store_path, size_bytes, priority, recorded_ns, received_ns
//! episode_index    (truck_id, sha256) → start_ns, end_ns, trigger_reason, software_version, model_sha256,
//!                  v2x_only_tracks, area_{min,max}_{x,y}_m (NULL without a measured pose), index_json
//!                  (the whole index), index_error (why an episode could not be indexed, else NULL)
//! episode_classes  (truck_id, sha256, class_label) → tracks, max_in_frame, min_range_m
//! episode_health   (truck_id, sha256) → stamp_ns, mode, reason   (one row per health event)
//! ```
//!
//! Catalogs made before the index gain its tables when opened; `pitsense-ingest reindex` fills
//! them for the episodes already stored.

mod db;

use std::path::Path;

pub use db::CatalogLocation;
use db::{Cell, Db, Param};

use serde::Serialize;

use crate::episode_index::{EpisodeIndex, SiteArea};
use crate::error::CloudLinkError;

/// One catalog row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CatalogRow {
    /// The truck that sent it.
    pub truck_id: String,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    /// The file name on the truck.
    pub file_name: String,
    /// Path in the store, relative to the store folder.
    pub store_path: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Upload priority.
    pub priority: String,
    /// When it was recorded, ns since the Unix epoch.
    pub recorded_ns: u64,
    /// When the ingest stored it, ns since the Unix epoch.
    pub received_ns: u64,
}

/// The store's catalog, in SQLite or PostgreSQL ([`CatalogLocation`]).
pub struct Catalog {
    location: CatalogLocation,
    db: Db,
}

/// The tables and indexes, in SQL both databases take (see [`db`]).
const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS episodes (
        truck_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        file_name TEXT NOT NULL,
        store_path TEXT NOT NULL,
        size_bytes BIGINT NOT NULL,
        priority TEXT NOT NULL,
        recorded_ns BIGINT NOT NULL,
        received_ns BIGINT NOT NULL,
        PRIMARY KEY (truck_id, sha256)
    );
    CREATE TABLE IF NOT EXISTS episode_index (
        truck_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        start_ns BIGINT NOT NULL,
        end_ns BIGINT NOT NULL,
        trigger_reason TEXT NOT NULL,
        software_version TEXT NOT NULL,
        model_sha256 TEXT NOT NULL,
        v2x_only_tracks BIGINT NOT NULL,
        area_min_x_m DOUBLE PRECISION,
        area_min_y_m DOUBLE PRECISION,
        area_max_x_m DOUBLE PRECISION,
        area_max_y_m DOUBLE PRECISION,
        index_json TEXT,
        index_error TEXT,
        PRIMARY KEY (truck_id, sha256)
    );
    CREATE INDEX IF NOT EXISTS episode_index_start ON episode_index (start_ns);
    CREATE TABLE IF NOT EXISTS episode_classes (
        truck_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        class_label TEXT NOT NULL,
        tracks BIGINT NOT NULL,
        max_in_frame BIGINT NOT NULL,
        min_range_m DOUBLE PRECISION,
        PRIMARY KEY (truck_id, sha256, class_label)
    );
    CREATE INDEX IF NOT EXISTS episode_classes_label ON episode_classes (class_label, tracks);
    CREATE TABLE IF NOT EXISTS episode_health (
        truck_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        stamp_ns BIGINT NOT NULL,
        mode TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS episode_health_episode ON episode_health (truck_id, sha256);
    CREATE INDEX IF NOT EXISTS episode_health_mode ON episode_health (mode);";

/// The columns of an `episodes` row, in [`catalog_row`]'s order.
const ROW_COLUMNS: &str =
    "truck_id, sha256, file_name, store_path, size_bytes, priority, recorded_ns, received_ns";

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Catalog {
    /// Opens (creating if needed) the SQLite catalog at `path`.
    ///
    /// Errors: SQLite cannot open or create it.
    pub fn open(path: &Path) -> Result<Self, CloudLinkError> {
        Self::open_at(&CatalogLocation::Sqlite(path.to_owned()))
    }

    /// Opens the catalog at `location` (an SQLite file or a PostgreSQL server) and creates its
    /// tables where missing.
    ///
    /// Errors: the database cannot be opened or reached, or refuses the tables:
    /// [`CloudLinkError::Catalog`] naming it (a PostgreSQL URL without its password) and why.
    pub fn open_at(location: &CatalogLocation) -> Result<Self, CloudLinkError> {
        let err = |reason| CloudLinkError::Catalog { location: location.display_name(), reason };
        let db = Db::open(location).map_err(err)?;
        db.batch(SCHEMA).map_err(err)?;
        Ok(Self { location: location.clone(), db })
    }

    /// Where the catalog lives.
    pub fn location(&self) -> &CatalogLocation {
        &self.location
    }

    fn err(&self, reason: String) -> CloudLinkError {
        CloudLinkError::Catalog { location: self.location.display_name(), reason }
    }

    /// The row of an episode, if catalogued.
    ///
    /// Errors: the query fails.
    pub fn find(&self, truck_id: &str, sha256: &str) -> Result<Option<CatalogRow>, CloudLinkError> {
        let params = [Param::Text(truck_id.to_owned()), Param::Text(sha256.to_owned())];
        Ok(self.rows("WHERE truck_id = $1 AND sha256 = $2", &params)?.into_iter().next())
    }

    /// Every row, ordered by truck, then reception time, then SHA-256.
    ///
    /// Errors: the query fails.
    pub fn list(&self) -> Result<Vec<CatalogRow>, CloudLinkError> {
        self.rows("", &[])
    }

    fn rows(&self, filter: &str, params: &[Param]) -> Result<Vec<CatalogRow>, CloudLinkError> {
        let sql =
            format!("SELECT {ROW_COLUMNS} FROM episodes {filter} ORDER BY truck_id, received_ns, sha256");
        let rows = self.db.query(&sql, params).map_err(|e| self.err(e))?;
        Ok(rows.iter().map(|row| catalog_row(row)).collect())
    }

    /// Adds a row unless the (truck id, SHA-256) is already there; returns whether it was added.
    ///
    /// Errors: the insert fails.
    pub fn insert(&self, row: &CatalogRow) -> Result<bool, CloudLinkError> {
        let sql = format!(
            "INSERT INTO episodes ({ROW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"
        );
        let params = [
            Param::Text(row.truck_id.clone()),
            Param::Text(row.sha256.clone()),
            Param::Text(row.file_name.clone()),
            Param::Text(row.store_path.clone()),
            Param::Int(to_i64(row.size_bytes)),
            Param::Text(row.priority.clone()),
            Param::Int(to_i64(row.recorded_ns)),
            Param::Int(to_i64(row.received_ns)),
        ];
        Ok(self.db.execute(&sql, &params).map_err(|e| self.err(e))? > 0)
    }

    /// Stores the index of a catalogued episode (replacing any earlier one), or why it could not
    /// be built (`Err(reason)`: a damaged or foreign file is kept in the store and listed, but
    /// matches no query on index fields). One transaction.
    ///
    /// Errors: the writes fail.
    pub fn insert_index(
        &mut self,
        truck_id: &str,
        sha256: &str,
        index: Result<&EpisodeIndex, &str>,
    ) -> Result<(), CloudLinkError> {
        let key = || vec![Param::Text(truck_id.to_owned()), Param::Text(sha256.to_owned())];
        let with_key = |more: Vec<Param>| key().into_iter().chain(more).collect::<Vec<_>>();
        let mut statements: Vec<(String, Vec<Param>)> =
            ["episode_index", "episode_classes", "episode_health"]
                .iter()
                .map(|table| (format!("DELETE FROM {table} WHERE truck_id = $1 AND sha256 = $2"), key()))
                .collect();
        match index {
            Ok(index) => {
                let area = index.site_area;
                statements.push((
                    "INSERT INTO episode_index (truck_id, sha256, start_ns, end_ns, trigger_reason,
                     software_version, model_sha256, v2x_only_tracks, area_min_x_m, area_min_y_m,
                     area_max_x_m, area_max_y_m, index_json, index_error)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL)"
                        .to_owned(),
                    with_key(vec![
                        Param::Int(to_i64(index.start_ns)),
                        Param::Int(to_i64(index.end_ns)),
                        Param::Text(index.trigger_reason.clone()),
                        Param::Text(index.software_version.clone()),
                        Param::Text(index.model_sha256.clone()),
                        Param::Int(to_i64(index.v2x_only_tracks)),
                        Param::Real(area.map(|a| a.min_x_m)),
                        Param::Real(area.map(|a| a.min_y_m)),
                        Param::Real(area.map(|a| a.max_x_m)),
                        Param::Real(area.map(|a| a.max_y_m)),
                        Param::Text(serde_json::to_string(index).unwrap_or_default()),
                    ]),
                ));
                for (label, class) in &index.classes {
                    statements.push((
                        "INSERT INTO episode_classes (truck_id, sha256, class_label, tracks, max_in_frame, min_range_m)
                         VALUES ($1, $2, $3, $4, $5, $6)"
                            .to_owned(),
                        with_key(vec![
                            Param::Text(label.clone()),
                            Param::Int(to_i64(class.tracks)),
                            Param::Int(to_i64(class.max_in_frame)),
                            Param::Real(class.min_range_m),
                        ]),
                    ));
                }
                for event in &index.health_events {
                    statements.push((
                        "INSERT INTO episode_health (truck_id, sha256, stamp_ns, mode, reason)
                         VALUES ($1, $2, $3, $4, $5)"
                            .to_owned(),
                        with_key(vec![
                            Param::Int(to_i64(event.stamp_ns)),
                            Param::Text(event.mode.clone()),
                            Param::Text(event.reason.clone()),
                        ]),
                    ));
                }
            }
            Err(reason) => statements.push((
                "INSERT INTO episode_index (truck_id, sha256, start_ns, end_ns, trigger_reason,
                 software_version, model_sha256, v2x_only_tracks, index_error)
                 VALUES ($1, $2, 0, 0, '', '', '', 0, $3)"
                    .to_owned(),
                with_key(vec![Param::Text(reason.to_owned())]),
            )),
        }
        self.db.atomic(&statements).map(|_| ()).map_err(|e| self.err(e))
    }

    /// The catalogued episodes that have no index yet (stored before the index existed), in
    /// [`Catalog::list`]'s order.
    ///
    /// Errors: the query fails.
    pub fn unindexed(&self) -> Result<Vec<CatalogRow>, CloudLinkError> {
        self.rows(
            "WHERE NOT EXISTS (SELECT 1 FROM episode_index i
                 WHERE i.truck_id = episodes.truck_id AND i.sha256 = episodes.sha256)",
            &[],
        )
    }

    /// The episodes that match every filter of `query`, ordered by start time, then truck, then
    /// SHA-256 (an episode without an index sorts by its recording time from the upload
    /// manifest). Filters on index fields match only indexed episodes.
    ///
    /// Errors: the query fails.
    pub fn query(&self, query: &CatalogQuery) -> Result<Vec<QueryHit>, CloudLinkError> {
        let (filter, params) = query.sql_filter(self.db.substring_position());
        let limit = query.limit.map_or_else(String::new, |n| format!("LIMIT {n}"));
        let sql = format!(
            "SELECT e.truck_id, e.sha256, e.file_name, e.store_path, e.size_bytes, e.priority,
                    e.recorded_ns, e.received_ns, i.index_json, i.index_error
             FROM episodes e LEFT JOIN episode_index i ON i.truck_id = e.truck_id AND i.sha256 = e.sha256
             {filter}
             ORDER BY CASE WHEN i.index_json IS NULL THEN e.recorded_ns ELSE i.start_ns END, e.truck_id, e.sha256
             {limit}"
        );
        let rows = self.db.query(&sql, &params).map_err(|e| self.err(e))?;
        Ok(rows
            .iter()
            .map(|row| QueryHit {
                row: catalog_row(row),
                index: row[8].text().and_then(|json| serde_json::from_str(&json).ok()),
                index_error: row[9].text(),
            })
            .collect())
    }
}

/// A [`CatalogRow`] from the first eight cells of a result row ([`ROW_COLUMNS`]).
fn catalog_row(row: &[Cell]) -> CatalogRow {
    let text = |i: usize| row.get(i).and_then(Cell::text).unwrap_or_default();
    let count = |i: usize| row.get(i).map_or(0, Cell::int).max(0) as u64;
    CatalogRow {
        truck_id: text(0),
        sha256: text(1),
        file_name: text(2),
        store_path: text(3),
        size_bytes: count(4),
        priority: text(5),
        recorded_ns: count(6),
        received_ns: count(7),
    }
}

/// One episode a [`Catalog::query`] found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueryHit {
    /// Its catalog row.
    #[serde(flatten)]
    pub row: CatalogRow,
    /// Its index (`None` when not indexed, or when indexing failed).
    pub index: Option<EpisodeIndex>,
    /// Why indexing failed, if it did.
    pub index_error: Option<String>,
}

/// Filters of a catalog query; every filter given must hold (`Default`: every episode).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CatalogQuery {
    /// Only these trucks (any of them; empty: all).
    pub trucks: Vec<String>,
    /// Episodes that end at or after this time, ns since the Unix epoch.
    pub since_ns: Option<u64>,
    /// Episodes that start before this time, ns since the Unix epoch.
    pub until_ns: Option<u64>,
    /// The trigger reason contains this text (`health`, `low_confidence`, `manual`, ...).
    pub trigger_contains: Option<String>,
    /// Recorded by exactly this software version.
    pub software_version: Option<String>,
    /// The detector model's SHA-256 starts with this (lower-case hex).
    pub model_sha256_prefix: Option<String>,
    /// Each of these classes was tracked (at least `min_tracks` tracks, and within `within_m`
    /// of the truck when that is given).
    pub classes: Vec<String>,
    /// Tracks each class in `classes` needs (0 counts as 1).
    pub min_tracks: u64,
    /// The classes in `classes` came this close to the truck, m (horizontal range).
    pub within_m: Option<f64>,
    /// At least one object only V2X saw.
    pub v2x_only: bool,
    /// The runtime entered each of these modes (`lidar_lost`, `camera_lost`, ...).
    pub health_modes: Vec<String>,
    /// The truck drove inside this site-frame rectangle (the covered areas intersect).
    pub area: Option<SiteArea>,
    /// At most this many hits.
    pub limit: Option<u64>,
}

impl CatalogQuery {
    /// Whether any filter reads the index.
    pub fn filters_index(&self) -> bool {
        self.since_ns.is_some()
            || self.until_ns.is_some()
            || self.trigger_contains.is_some()
            || self.software_version.is_some()
            || self.model_sha256_prefix.is_some()
            || !self.classes.is_empty()
            || self.within_m.is_some()
            || self.v2x_only
            || !self.health_modes.is_empty()
            || self.area.is_some()
    }

    /// The `WHERE` clause over `episodes e LEFT JOIN episode_index i` and its parameters
    /// (positional: every value is bound, none is spliced into the text).
    fn sql_filter(&self, substring_position: &str) -> (String, Vec<Param>) {
        let int = |v: u64| Param::Int(to_i64(v));
        let mut clauses: Vec<String> = Vec::new();
        let mut params: Vec<Param> = Vec::new();
        let bind = |params: &mut Vec<Param>, value: Param| {
            params.push(value);
            format!("${}", params.len())
        };
        if self.filters_index() {
            clauses.push("i.index_json IS NOT NULL".to_owned());
        }
        if !self.trucks.is_empty() {
            let marks: Vec<String> =
                self.trucks.iter().map(|truck| bind(&mut params, Param::Text(truck.clone()))).collect();
            clauses.push(format!("e.truck_id IN ({})", marks.join(", ")));
        }
        if let Some(since_ns) = self.since_ns {
            clauses.push(format!("i.end_ns >= {}", bind(&mut params, int(since_ns))));
        }
        if let Some(until_ns) = self.until_ns {
            clauses.push(format!("i.start_ns < {}", bind(&mut params, int(until_ns))));
        }
        if let Some(text) = &self.trigger_contains {
            clauses.push(format!(
                "{substring_position}(i.trigger_reason, {}) > 0",
                bind(&mut params, Param::Text(text.clone()))
            ));
        }
        if let Some(version) = &self.software_version {
            clauses.push(format!("i.software_version = {}", bind(&mut params, Param::Text(version.clone()))));
        }
        if let Some(prefix) = &self.model_sha256_prefix {
            let mark = bind(&mut params, Param::Text(prefix.to_lowercase()));
            clauses.push(format!(
                "substr(i.model_sha256, 1, length(CAST({mark} AS TEXT))) = CAST({mark} AS TEXT)"
            ));
        }
        for class in &self.classes {
            let label = bind(&mut params, Param::Text(class.clone()));
            let tracks = bind(&mut params, int(self.min_tracks.max(1)));
            let range = match self.within_m {
                Some(within_m) => {
                    format!(" AND c.min_range_m <= {}", bind(&mut params, Param::Real(Some(within_m))))
                }
                None => String::new(),
            };
            clauses.push(format!(
                "EXISTS (SELECT 1 FROM episode_classes c WHERE c.truck_id = e.truck_id AND c.sha256 = e.sha256
                 AND c.class_label = {label} AND c.tracks >= {tracks}{range})"
            ));
        }
        if self.classes.is_empty()
            && let Some(within_m) = self.within_m
        {
            clauses.push(format!(
                "EXISTS (SELECT 1 FROM episode_classes c WHERE c.truck_id = e.truck_id AND c.sha256 = e.sha256
                 AND c.min_range_m <= {})",
                bind(&mut params, Param::Real(Some(within_m)))
            ));
        }
        if self.v2x_only {
            clauses.push("i.v2x_only_tracks > 0".to_owned());
        }
        for mode in &self.health_modes {
            clauses.push(format!(
                "EXISTS (SELECT 1 FROM episode_health h WHERE h.truck_id = e.truck_id AND h.sha256 = e.sha256
                 AND h.mode = {})",
                bind(&mut params, Param::Text(mode.clone()))
            ));
        }
        if let Some(area) = &self.area {
            let max_x = bind(&mut params, Param::Real(Some(area.max_x_m)));
            let min_x = bind(&mut params, Param::Real(Some(area.min_x_m)));
            let max_y = bind(&mut params, Param::Real(Some(area.max_y_m)));
            let min_y = bind(&mut params, Param::Real(Some(area.min_y_m)));
            clauses.push(format!(
                "i.area_min_x_m <= {max_x} AND i.area_max_x_m >= {min_x} AND i.area_min_y_m <= {max_y} \
                 AND i.area_max_y_m >= {min_y}"
            ));
        }
        let filter =
            if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        (filter, params)
    }
}

/// `YYYY-MM-DD` (UTC) of a time in ns since the Unix epoch (Hinnant's civil-from-days).
pub fn utc_date(stamp_ns: u64) -> String {
    let days = (stamp_ns / 86_400_000_000_000) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days-from-civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC) of a time in ns since the Unix epoch.
pub fn utc_datetime(stamp_ns: u64) -> String {
    let seconds = stamp_ns / 1_000_000_000;
    let of_day = seconds % 86_400;
    format!("{}T{:02}:{:02}:{:02}Z", utc_date(stamp_ns), of_day / 3600, of_day % 3600 / 60, of_day % 60)
}

/// A time given on the command line, in ns since the Unix epoch: an integer (ns), a date
/// `YYYY-MM-DD` (its midnight, UTC) or `YYYY-MM-DDTHH:MM[:SS][Z]` (UTC; no other offset).
///
/// # Errors
/// The text is none of these, or names a date or time that does not exist (month 13, 25:00),
/// or one before 1970.
pub fn parse_utc_ns(text: &str) -> Result<u64, String> {
    if let Ok(ns) = text.parse::<u64>() {
        return Ok(ns);
    }
    let bad =
        || format!("`{text}`: not a time (give ns since 1970, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z], UTC)");
    let trimmed = text.strip_suffix('Z').unwrap_or(text);
    let (date, time) = trimmed.split_once('T').unwrap_or((trimmed, "00:00"));
    let number = |part: &str, digits: usize| {
        (part.len() == digits && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<i64>().ok())
            .flatten()
    };
    let date_parts: Vec<&str> = date.split('-').collect();
    let [year, month, day] = date_parts[..] else { return Err(bad()) };
    let (year, month, day) = (
        number(year, 4).ok_or_else(bad)?,
        number(month, 2).ok_or_else(bad)?,
        number(day, 2).ok_or_else(bad)?,
    );
    let time_parts: Vec<&str> = time.split(':').collect();
    let (hour, minute, second) = match time_parts[..] {
        [hour, minute] => (number(hour, 2), number(minute, 2), Some(0)),
        [hour, minute, second] => (number(hour, 2), number(minute, 2), number(second, 2)),
        _ => return Err(bad()),
    };
    let (hour, minute, second) = (hour.ok_or_else(bad)?, minute.ok_or_else(bad)?, second.ok_or_else(bad)?);
    let days = days_from_civil(year, month, day);
    let in_range = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60
        && days >= 0;
    if !in_range {
        return Err(bad());
    }
    // Times are u64 ns: the last representable second is in 2554.
    let stamp_ns = u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second)
        .ok()
        .and_then(|seconds| seconds.checked_mul(1_000_000_000))
        .ok_or_else(|| format!("`{text}`: after 2554-07-21, the last time u64 ns since 1970 can hold"))?;
    // A day past its month's end (2026-02-30) comes back as another date.
    if utc_date(stamp_ns) != format!("{year:04}-{month:02}-{day:02}") {
        return Err(bad());
    }
    Ok(stamp_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_match_known_days() {
        assert_eq!(utc_date(0), "1970-01-01");
        // 2000-02-29T12:00:00Z = 951825600 s.
        assert_eq!(utc_date(951_825_600 * 1_000_000_000), "2000-02-29");
        // 2026-11-29T00:00:00Z = 1795910400 s.
        assert_eq!(utc_date(1_795_910_400 * 1_000_000_000), "2026-11-29");
    }

    #[test]
    fn utc_times_parse_to_the_published_epoch_seconds() {
        // 2026-11-29T00:00:00Z = 1795910400 s; 2000-02-29T12:00:00Z = 951825600 s (date(1) -u +%s).
        assert_eq!(parse_utc_ns("2026-11-29"), Ok(1_795_910_400 * 1_000_000_000));
        assert_eq!(parse_utc_ns("2000-02-29T12:00Z"), Ok(951_825_600 * 1_000_000_000));
        assert_eq!(parse_utc_ns("2000-02-29T12:00:07"), Ok(951_825_607 * 1_000_000_000));
        assert_eq!(parse_utc_ns("42"), Ok(42));
        assert_eq!(utc_datetime(951_825_607 * 1_000_000_000), "2000-02-29T12:00:07Z");
        for bad in
            ["2026-02-30", "2026-13-01", "2026-1-01", "2026-11-29T24:00", "yesterday", "1969-12-31", ""]
        {
            assert!(parse_utc_ns(bad).is_err(), "{bad}");
        }
    }
}
