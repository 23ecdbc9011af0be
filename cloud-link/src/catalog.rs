//! The store's catalog: one row per episode that arrived (who sent it, where it is, its SHA-256)
//! and, beside it, the episode's [`EpisodeIndex`] (time, trigger, versions, classes, V2X-only
//! objects, health events, site area), so that "every episode with a person within 15 m of the
//! truck while the lidar was lost last week" is one query ([`Catalog::query`],
//! `pitsense-ingest query`).
//!
//! Embedded SQLite (bundled through `rusqlite`), in `DIR/catalog.sqlite`. Tables:
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

use std::path::{Path, PathBuf};

use rusqlite::types::Value as SqlValue;
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

/// The SQLite catalog of the store.
pub struct Catalog {
    path: PathBuf,
    connection: rusqlite::Connection,
}

impl Catalog {
    /// Opens (creating if needed) the catalog at `path`.
    ///
    /// Errors: SQLite cannot open or create it.
    pub fn open(path: &Path) -> Result<Self, CloudLinkError> {
        let err = |source| CloudLinkError::Catalog { path: path.to_owned(), source };
        let connection = rusqlite::Connection::open(path).map_err(err)?;
        // The ingest writes rows and indexes from two threads, each with its connection: a
        // writer waits for the other's transaction instead of failing with SQLITE_BUSY.
        connection.busy_timeout(std::time::Duration::from_secs(10)).map_err(err)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE IF NOT EXISTS episodes (
                     truck_id TEXT NOT NULL,
                     sha256 TEXT NOT NULL,
                     file_name TEXT NOT NULL,
                     store_path TEXT NOT NULL,
                     size_bytes INTEGER NOT NULL,
                     priority TEXT NOT NULL,
                     recorded_ns INTEGER NOT NULL,
                     received_ns INTEGER NOT NULL,
                     PRIMARY KEY (truck_id, sha256)
                 );
                 CREATE TABLE IF NOT EXISTS episode_index (
                     truck_id TEXT NOT NULL,
                     sha256 TEXT NOT NULL,
                     start_ns INTEGER NOT NULL,
                     end_ns INTEGER NOT NULL,
                     trigger_reason TEXT NOT NULL,
                     software_version TEXT NOT NULL,
                     model_sha256 TEXT NOT NULL,
                     v2x_only_tracks INTEGER NOT NULL,
                     area_min_x_m REAL,
                     area_min_y_m REAL,
                     area_max_x_m REAL,
                     area_max_y_m REAL,
                     index_json TEXT,
                     index_error TEXT,
                     PRIMARY KEY (truck_id, sha256)
                 );
                 CREATE INDEX IF NOT EXISTS episode_index_start ON episode_index (start_ns);
                 CREATE TABLE IF NOT EXISTS episode_classes (
                     truck_id TEXT NOT NULL,
                     sha256 TEXT NOT NULL,
                     class_label TEXT NOT NULL,
                     tracks INTEGER NOT NULL,
                     max_in_frame INTEGER NOT NULL,
                     min_range_m REAL,
                     PRIMARY KEY (truck_id, sha256, class_label)
                 );
                 CREATE INDEX IF NOT EXISTS episode_classes_label ON episode_classes (class_label, tracks);
                 CREATE TABLE IF NOT EXISTS episode_health (
                     truck_id TEXT NOT NULL,
                     sha256 TEXT NOT NULL,
                     stamp_ns INTEGER NOT NULL,
                     mode TEXT NOT NULL,
                     reason TEXT NOT NULL
                 );
                 CREATE INDEX IF NOT EXISTS episode_health_episode ON episode_health (truck_id, sha256);
                 CREATE INDEX IF NOT EXISTS episode_health_mode ON episode_health (mode);",
            )
            .map_err(err)?;
        Ok(Self { path: path.to_owned(), connection })
    }

    fn err(&self, source: rusqlite::Error) -> CloudLinkError {
        CloudLinkError::Catalog { path: self.path.clone(), source }
    }

    /// The row of an episode, if catalogued.
    ///
    /// Errors: the query fails.
    pub fn find(&self, truck_id: &str, sha256: &str) -> Result<Option<CatalogRow>, CloudLinkError> {
        Ok(self.rows("WHERE truck_id = ?1 AND sha256 = ?2", &[truck_id, sha256])?.into_iter().next())
    }

    /// Every row, ordered by truck, then reception time, then SHA-256.
    ///
    /// Errors: the query fails.
    pub fn list(&self) -> Result<Vec<CatalogRow>, CloudLinkError> {
        self.rows("", &[])
    }

    fn rows(&self, filter: &str, params: &[&str]) -> Result<Vec<CatalogRow>, CloudLinkError> {
        let sql = format!(
            "SELECT truck_id, sha256, file_name, store_path, size_bytes, priority, recorded_ns, received_ns
             FROM episodes {filter} ORDER BY truck_id, received_ns, sha256"
        );
        let mut statement = self.connection.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(params.iter()), catalog_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Adds a row unless the (truck id, SHA-256) is already there; returns whether it was added.
    ///
    /// Errors: the insert fails.
    pub fn insert(&self, row: &CatalogRow) -> Result<bool, CloudLinkError> {
        let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let added = self
            .connection
            .execute(
                "INSERT OR IGNORE INTO episodes
                 (truck_id, sha256, file_name, store_path, size_bytes, priority, recorded_ns, received_ns)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params![
                    row.truck_id,
                    row.sha256,
                    row.file_name,
                    row.store_path,
                    to_i64(row.size_bytes),
                    row.priority,
                    to_i64(row.recorded_ns),
                    to_i64(row.received_ns)
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(added > 0)
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
        let path = self.path.clone();
        let err = |source| CloudLinkError::Catalog { path: path.clone(), source };
        let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let transaction = self.connection.transaction().map_err(err)?;
        for table in ["episode_index", "episode_classes", "episode_health"] {
            transaction
                .execute(
                    &format!("DELETE FROM {table} WHERE truck_id = ?1 AND sha256 = ?2"),
                    [truck_id, sha256],
                )
                .map_err(err)?;
        }
        match index {
            Ok(index) => {
                let area = index.site_area;
                let json = serde_json::to_string(index).unwrap_or_default();
                transaction
                    .execute(
                        "INSERT INTO episode_index (truck_id, sha256, start_ns, end_ns, trigger_reason,
                         software_version, model_sha256, v2x_only_tracks, area_min_x_m, area_min_y_m,
                         area_max_x_m, area_max_y_m, index_json, index_error)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, NULL)",
                        rusqlite::params![
                            truck_id,
                            sha256,
                            to_i64(index.start_ns),
                            to_i64(index.end_ns),
                            index.trigger_reason,
                            index.software_version,
                            index.model_sha256,
                            to_i64(index.v2x_only_tracks),
                            area.map(|a| a.min_x_m),
                            area.map(|a| a.min_y_m),
                            area.map(|a| a.max_x_m),
                            area.map(|a| a.max_y_m),
                            json,
                        ],
                    )
                    .map_err(err)?;
                for (label, class) in &index.classes {
                    transaction
                        .execute(
                            "INSERT INTO episode_classes (truck_id, sha256, class_label, tracks, max_in_frame, min_range_m)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                            rusqlite::params![
                                truck_id,
                                sha256,
                                label,
                                to_i64(class.tracks),
                                to_i64(class.max_in_frame),
                                class.min_range_m
                            ],
                        )
                        .map_err(err)?;
                }
                for event in &index.health_events {
                    transaction
                        .execute(
                            "INSERT INTO episode_health (truck_id, sha256, stamp_ns, mode, reason)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                            rusqlite::params![
                                truck_id,
                                sha256,
                                to_i64(event.stamp_ns),
                                event.mode,
                                event.reason
                            ],
                        )
                        .map_err(err)?;
                }
            }
            Err(reason) => {
                transaction
                    .execute(
                        "INSERT INTO episode_index (truck_id, sha256, start_ns, end_ns, trigger_reason,
                         software_version, model_sha256, v2x_only_tracks, index_error)
                         VALUES (?1, ?2, 0, 0, '', '', '', 0, ?3)",
                        rusqlite::params![truck_id, sha256, reason],
                    )
                    .map_err(err)?;
            }
        }
        transaction.commit().map_err(err)
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
    /// SHA-256 (an episode without an index sorts by its recording time from the upload manifest). Filters on index fields
    /// match only indexed episodes.
    ///
    /// Errors: the query fails.
    pub fn query(&self, query: &CatalogQuery) -> Result<Vec<QueryHit>, CloudLinkError> {
        let (filter, params) = query.sql_filter();
        let limit = query.limit.map_or_else(String::new, |n| format!("LIMIT {n}"));
        let sql = format!(
            "SELECT e.truck_id, e.sha256, e.file_name, e.store_path, e.size_bytes, e.priority,
                    e.recorded_ns, e.received_ns, i.index_json, i.index_error
             FROM episodes e LEFT JOIN episode_index i ON i.truck_id = e.truck_id AND i.sha256 = e.sha256
             {filter}
             ORDER BY CASE WHEN i.index_json IS NULL THEN e.recorded_ns ELSE i.start_ns END, e.truck_id, e.sha256
             {limit}"
        );
        let mut statement = self.connection.prepare(&sql).map_err(|e| self.err(e))?;
        let hits = statement
            .query_map(rusqlite::params_from_iter(params), |row| {
                let index_json: Option<String> = row.get(8)?;
                Ok(QueryHit {
                    row: catalog_row(row)?,
                    index: index_json.and_then(|json| serde_json::from_str(&json).ok()),
                    index_error: row.get(9)?,
                })
            })
            .map_err(|e| self.err(e))?;
        hits.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}

/// A [`CatalogRow`] from the first eight columns of a result row, in the `episodes` table's
/// order (truck_id, sha256, file_name, store_path, size_bytes, priority, recorded_ns,
/// received_ns).
fn catalog_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<CatalogRow> {
    Ok(CatalogRow {
        truck_id: row.get(0)?,
        sha256: row.get(1)?,
        file_name: row.get(2)?,
        store_path: row.get(3)?,
        size_bytes: row.get::<_, i64>(4)?.max(0) as u64,
        priority: row.get(5)?,
        recorded_ns: row.get::<_, i64>(6)?.max(0) as u64,
        received_ns: row.get::<_, i64>(7)?.max(0) as u64,
    })
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
    fn sql_filter(&self) -> (String, Vec<SqlValue>) {
        let to_i64 = |v: u64| SqlValue::Integer(i64::try_from(v).unwrap_or(i64::MAX));
        let mut clauses: Vec<String> = Vec::new();
        let mut params: Vec<SqlValue> = Vec::new();
        let bind = |params: &mut Vec<SqlValue>, value: SqlValue| {
            params.push(value);
            format!("?{}", params.len())
        };
        if self.filters_index() {
            clauses.push("i.index_json IS NOT NULL".to_owned());
        }
        if !self.trucks.is_empty() {
            let marks: Vec<String> =
                self.trucks.iter().map(|truck| bind(&mut params, SqlValue::Text(truck.clone()))).collect();
            clauses.push(format!("e.truck_id IN ({})", marks.join(", ")));
        }
        if let Some(since_ns) = self.since_ns {
            clauses.push(format!("i.end_ns >= {}", bind(&mut params, to_i64(since_ns))));
        }
        if let Some(until_ns) = self.until_ns {
            clauses.push(format!("i.start_ns < {}", bind(&mut params, to_i64(until_ns))));
        }
        if let Some(text) = &self.trigger_contains {
            clauses.push(format!(
                "instr(i.trigger_reason, {}) > 0",
                bind(&mut params, SqlValue::Text(text.clone()))
            ));
        }
        if let Some(version) = &self.software_version {
            clauses
                .push(format!("i.software_version = {}", bind(&mut params, SqlValue::Text(version.clone()))));
        }
        if let Some(prefix) = &self.model_sha256_prefix {
            let mark = bind(&mut params, SqlValue::Text(prefix.to_lowercase()));
            clauses.push(format!("substr(i.model_sha256, 1, length({mark})) = {mark}"));
        }
        for class in &self.classes {
            let label = bind(&mut params, SqlValue::Text(class.clone()));
            let tracks = bind(&mut params, to_i64(self.min_tracks.max(1)));
            let range = match self.within_m {
                Some(within_m) => {
                    format!(" AND c.min_range_m <= {}", bind(&mut params, SqlValue::Real(within_m)))
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
                bind(&mut params, SqlValue::Real(within_m))
            ));
        }
        if self.v2x_only {
            clauses.push("i.v2x_only_tracks > 0".to_owned());
        }
        for mode in &self.health_modes {
            clauses.push(format!(
                "EXISTS (SELECT 1 FROM episode_health h WHERE h.truck_id = e.truck_id AND h.sha256 = e.sha256
                 AND h.mode = {})",
                bind(&mut params, SqlValue::Text(mode.clone()))
            ));
        }
        if let Some(area) = &self.area {
            let max_x = bind(&mut params, SqlValue::Real(area.max_x_m));
            let min_x = bind(&mut params, SqlValue::Real(area.min_x_m));
            let max_y = bind(&mut params, SqlValue::Real(area.max_y_m));
            let min_y = bind(&mut params, SqlValue::Real(area.min_y_m));
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
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60
        && days >= 0
        && utc_date(days as u64 * 86_400_000_000_000) == format!("{year:04}-{month:02}-{day:02}");
    if !valid {
        return Err(bad());
    }
    Ok(((days * 86_400 + hour * 3600 + minute * 60 + second) as u64) * 1_000_000_000)
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
