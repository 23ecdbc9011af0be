//! The two databases the catalog runs on, behind one small interface: embedded SQLite (a file,
//! the default) and PostgreSQL (a server shared by a fleet's ingests).
//!
//! The catalog writes one SQL text for both: parameters are `$1`, `$2`, ... (PostgreSQL's form;
//! rewritten to SQLite's `?1`, `?2`, ...), column types are `TEXT`, `BIGINT` and `DOUBLE
//! PRECISION` (SQLite gives them integer and real affinity), inserts that may meet an existing key
//! use `ON CONFLICT DO NOTHING` (both). The one function that differs by name, the position of
//! a substring, comes from [`Db::substring_position`].

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

/// A value bound to a `$N` parameter.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Param {
    /// A 64-bit integer (`BIGINT`).
    Int(i64),
    /// A double or NULL (`DOUBLE PRECISION`).
    Real(Option<f64>),
    /// Text.
    Text(String),
}

/// One value of a result row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    /// An integer.
    Int(i64),
    /// A double.
    Real(f64),
    /// Text.
    Text(String),
    /// NULL.
    Null,
}

impl Cell {
    /// The integer, 0 for anything else.
    pub(crate) fn int(&self) -> i64 {
        match self {
            Self::Int(value) => *value,
            _ => 0,
        }
    }

    /// The text, `None` for NULL or a number.
    pub(crate) fn text(&self) -> Option<String> {
        match self {
            Self::Text(text) => Some(text.clone()),
            _ => None,
        }
    }
}

/// Where a catalog lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogLocation {
    /// An SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL server: a connection URL, `postgres://user[:password]@host[:port]/database`
    /// (libpq's URL form).
    Postgres(String),
}

impl CatalogLocation {
    /// `text` as a location: a `postgres://` or `postgresql://` URL, else an SQLite file path.
    pub fn parse(text: &str) -> Self {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Self::Postgres(text.to_owned())
        } else {
            Self::Sqlite(PathBuf::from(text))
        }
    }

    /// How errors name it: the file, or the URL without its password (the user-info password
    /// and the query string, which can hold `password=`, are left out).
    pub fn display_name(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => {
                let url = url.split_once('?').map_or(url.as_str(), |(base, _)| base);
                Self::without_user_password(url)
            }
        }
    }

    fn without_user_password(url: &str) -> String {
        match (url.find("://"), url.rfind('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                let credentials = &url[scheme_end + 3..at];
                let user = credentials.split(':').next().unwrap_or("");
                format!("{}{user}@{}", &url[..scheme_end + 3], &url[at + 1..])
            }
            _ => url.to_owned(),
        }
    }
}

/// An open catalog database.
pub(crate) enum Db {
    /// Embedded SQLite.
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL session (the client needs `&mut`: one user at a time).
    Postgres(Box<Mutex<postgres::Client>>),
}

/// `$N` → `?N` (SQLite numbers its parameters so).
fn sqlite_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn sqlite_value(param: &Param) -> rusqlite::types::Value {
    match param {
        Param::Int(value) => rusqlite::types::Value::Integer(*value),
        Param::Real(Some(value)) => rusqlite::types::Value::Real(*value),
        Param::Real(None) => rusqlite::types::Value::Null,
        Param::Text(text) => rusqlite::types::Value::Text(text.clone()),
    }
}

fn postgres_params(params: &[Param]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|param| -> Box<dyn postgres::types::ToSql + Sync> {
            match param {
                Param::Int(value) => Box::new(*value),
                Param::Real(value) => Box::new(*value),
                Param::Text(text) => Box::new(text.clone()),
            }
        })
        .collect()
}

fn postgres_row(row: &postgres::Row) -> Result<Vec<Cell>, String> {
    use postgres::types::Type;
    (0..row.len())
        .map(|i| {
            let column_type = row.columns()[i].type_();
            let cell = if *column_type == Type::INT8 {
                row.try_get::<_, Option<i64>>(i).map(|v| v.map_or(Cell::Null, Cell::Int))
            } else if *column_type == Type::INT4 {
                row.try_get::<_, Option<i32>>(i).map(|v| v.map_or(Cell::Null, |v| Cell::Int(i64::from(v))))
            } else if *column_type == Type::FLOAT8 {
                row.try_get::<_, Option<f64>>(i).map(|v| v.map_or(Cell::Null, Cell::Real))
            } else {
                row.try_get::<_, Option<String>>(i).map(|v| v.map_or(Cell::Null, Cell::Text))
            };
            cell.map_err(|e| e.to_string())
        })
        .collect()
}

impl Db {
    /// Opens the database at `location`.
    ///
    /// Errors: the reason (SQLite cannot open the file; PostgreSQL cannot be reached, refuses
    /// the login, ...).
    pub(crate) fn open(location: &CatalogLocation) -> Result<Self, String> {
        match location {
            CatalogLocation::Sqlite(path) => {
                let connection = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
                // The ingest writes rows and indexes from two threads, each with its connection:
                // a writer waits for the other's transaction instead of failing with SQLITE_BUSY.
                connection.busy_timeout(std::time::Duration::from_secs(10)).map_err(|e| e.to_string())?;
                connection.execute_batch("PRAGMA journal_mode = WAL;").map_err(|e| e.to_string())?;
                Ok(Self::Sqlite(connection))
            }
            CatalogLocation::Postgres(url) => {
                let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| e.to_string())?;
                config.connect_timeout(std::time::Duration::from_secs(10));
                let client = config.connect(postgres::NoTls).map_err(|e| {
                    // The driver's own text is terse ("error connecting to server"): add its cause.
                    let cause = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
                    format!("{e}{cause}")
                })?;
                Ok(Self::Postgres(Box::new(Mutex::new(client))))
            }
        }
    }

    /// The SQL function giving the 1-based position of `needle` in `haystack` (0 when absent):
    /// `instr(haystack, needle)` in SQLite, `strpos(haystack, needle)` in PostgreSQL.
    pub(crate) fn substring_position(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "instr",
            Self::Postgres(_) => "strpos",
        }
    }

    /// Runs statements without parameters (schema creation), in order.
    pub(crate) fn batch(&self, sql: &str) -> Result<(), String> {
        match self {
            Self::Sqlite(connection) => connection.execute_batch(sql).map_err(|e| e.to_string()),
            Self::Postgres(client) => client
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .batch_execute(sql)
                .map_err(|e| e.to_string()),
        }
    }

    /// Runs one statement; returns the rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, String> {
        self.atomic(&[(sql.to_owned(), params.to_vec())]).map(|changed| changed[0])
    }

    /// Runs statements in one transaction (all or none); returns the rows each changed.
    pub(crate) fn atomic(&self, statements: &[(String, Vec<Param>)]) -> Result<Vec<u64>, String> {
        match self {
            Self::Sqlite(connection) => {
                let transaction = connection.unchecked_transaction().map_err(|e| e.to_string())?;
                let mut changed = Vec::with_capacity(statements.len());
                for (sql, params) in statements {
                    let values: Vec<_> = params.iter().map(sqlite_value).collect();
                    let rows = transaction
                        .execute(&sqlite_sql(sql), rusqlite::params_from_iter(values))
                        .map_err(|e| e.to_string())?;
                    changed.push(rows as u64);
                }
                transaction.commit().map_err(|e| e.to_string())?;
                Ok(changed)
            }
            Self::Postgres(client) => {
                let mut client = client.lock().unwrap_or_else(PoisonError::into_inner);
                let mut transaction = client.transaction().map_err(|e| e.to_string())?;
                let mut changed = Vec::with_capacity(statements.len());
                for (sql, params) in statements {
                    let boxed = postgres_params(params);
                    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                        boxed.iter().map(AsRef::as_ref).collect();
                    changed.push(transaction.execute(sql.as_str(), &refs).map_err(|e| e.to_string())?);
                }
                transaction.commit().map_err(|e| e.to_string())?;
                Ok(changed)
            }
        }
    }

    /// Runs one query; returns its rows.
    pub(crate) fn query(&self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Cell>>, String> {
        match self {
            Self::Sqlite(connection) => {
                let mut statement = connection.prepare(&sqlite_sql(sql)).map_err(|e| e.to_string())?;
                let columns = statement.column_count();
                let values: Vec<_> = params.iter().map(sqlite_value).collect();
                let rows = statement
                    .query_map(rusqlite::params_from_iter(values), |row| {
                        (0..columns)
                            .map(|i| {
                                Ok(match row.get_ref(i)? {
                                    rusqlite::types::ValueRef::Integer(v) => Cell::Int(v),
                                    rusqlite::types::ValueRef::Real(v) => Cell::Real(v),
                                    rusqlite::types::ValueRef::Text(t) => {
                                        Cell::Text(String::from_utf8_lossy(t).into_owned())
                                    }
                                    rusqlite::types::ValueRef::Null | rusqlite::types::ValueRef::Blob(_) => {
                                        Cell::Null
                                    }
                                })
                            })
                            .collect::<rusqlite::Result<Vec<Cell>>>()
                    })
                    .map_err(|e| e.to_string())?;
                rows.collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())
            }
            Self::Postgres(client) => {
                let boxed = postgres_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    boxed.iter().map(AsRef::as_ref).collect();
                let rows =
                    client.lock().unwrap_or_else(PoisonError::into_inner).query(sql, &refs).map_err(|e| {
                        let detail =
                            e.as_db_error().map(|db| format!(": {}", db.message())).unwrap_or_default();
                        format!("{e}{detail}")
                    })?;
                rows.iter().map(postgres_row).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_renumbered_for_sqlite_and_passwords_are_not_shown() {
        assert_eq!(sqlite_sql("a = $1 AND b = $12 AND c = '$x'"), "a = ?1 AND b = ?12 AND c = '$x'");
        let location = CatalogLocation::parse("postgres://fleet:s3cret@db.pit:5432/catalog");
        assert_eq!(location.display_name(), "postgres://fleet@db.pit:5432/catalog");
        let in_query =
            CatalogLocation::parse("postgres://fleet@db.pit/catalog?password=s3cret&sslmode=disable");
        assert_eq!(in_query.display_name(), "postgres://fleet@db.pit/catalog");
        assert_eq!(
            CatalogLocation::parse("/srv/catalog.sqlite"),
            CatalogLocation::Sqlite("/srv/catalog.sqlite".into())
        );
    }
}
