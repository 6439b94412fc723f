//! The users table and the profile ports on it: one row per user, keyed by `user_id` (`WITHOUT ROWID`, so the
//! key is the B-tree order and a get is one descent).
//!
//! The photo ports use two more columns of the same row, which the profile's own statements never name: `photo`
//! (the photo state as JSON, NULL for none) and `photo_revision` (its compare-and-set guard, 0 before the first
//! photo write). A table made before they existed gets them added when it is opened.

use crate::codec::{Columns, timestamp_text, version_int};
use crate::store::{failed, is_primary_key_violation};
use crate::table::TableName;
use crate::{LocalStore, OpenError};
use domain::photo::{PhotoRecord, PhotoState};
use domain::ports::{PhotoGet, PhotoUpdate, ProfileGet, ProfilePut, ProfileUpdate};
use domain::{DisplayName, Email, Profile, ProfilePatch, StoreError, Timestamp, UserId};
use rusqlite::{Connection, Row, TransactionBehavior, params};
use std::sync::Arc;

/// The profile ports on one table of a [`LocalStore`]. Cheap to clone.
#[derive(Clone)]
pub struct SqliteProfiles {
    store: LocalStore,
    sql: Arc<ProfileSql>,
}

impl std::fmt::Debug for SqliteProfiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteProfiles").field("table", &self.sql.table.as_str()).finish_non_exhaustive()
    }
}

/// Statement texts for one table, built once (see `tasks.rs` for why).
struct ProfileSql {
    table: TableName,
    get: String,
    insert: String,
    update: String,
    get_photo: String,
    update_photo: String,
}

/// The columns every read selects, in the order [`profile_from_row`] decodes them.
const COLUMNS: &str = "display_name, email, created_at, updated_at, version";

impl ProfileSql {
    fn new(table: TableName) -> Self {
        let t = table.quoted();
        Self {
            get: format!("SELECT {COLUMNS} FROM {t} WHERE user_id = ?1"),
            insert: format!(
                "INSERT INTO {t} (user_id, display_name, email, created_at, updated_at, version) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ),
            update: format!(
                "UPDATE {t} SET display_name = ?2, email = ?3, updated_at = ?4, version = ?5 WHERE user_id = ?1"
            ),
            get_photo: format!("SELECT photo, photo_revision FROM {t} WHERE user_id = ?1"),
            update_photo: format!("UPDATE {t} SET photo = ?2, photo_revision = ?3 WHERE user_id = ?1"),
            table,
        }
    }

    fn schema(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (
                user_id TEXT NOT NULL PRIMARY KEY,
                display_name TEXT NOT NULL,
                email TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                version INTEGER NOT NULL,
                photo TEXT,
                photo_revision INTEGER NOT NULL DEFAULT 0
            ) WITHOUT ROWID;",
            self.table.quoted()
        )
    }

    /// Adds the photo columns to a table created before they existed (`ADD COLUMN` with a constant default
    /// rewrites nothing: old rows read the default).
    fn add_photo_columns(&self, conn: &Connection) -> rusqlite::Result<()> {
        let t = self.table.quoted();
        let mut columns = Vec::new();
        let mut stmt =
            conn.prepare(&format!("SELECT name FROM pragma_table_info({})", sql_string(self.table.as_str())))?;
        for name in stmt.query_map([], |row| row.get::<_, String>(0))? {
            columns.push(name?);
        }
        if !columns.iter().any(|c| c == "photo") {
            conn.execute_batch(&format!("ALTER TABLE {t} ADD COLUMN photo TEXT;"))?;
        }
        if !columns.iter().any(|c| c == "photo_revision") {
            conn.execute_batch(&format!("ALTER TABLE {t} ADD COLUMN photo_revision INTEGER NOT NULL DEFAULT 0;"))?;
        }
        Ok(())
    }
}

impl LocalStore {
    /// The profile ports on table `table`, created if missing. Refuses names DynamoDB would refuse, and fails here
    /// if an existing table of that name lacks the profile columns.
    pub fn profiles(&self, table: &str) -> Result<SqliteProfiles, OpenError> {
        let sql = ProfileSql::new(TableName::parse(table)?);
        self.setup(|conn| conn.execute_batch(&sql.schema()), || format!("creating profiles table {table}"))?;
        self.setup(|conn| sql.add_photo_columns(conn), || format!("adding the photo columns to table {table}"))?;
        self.setup(
            |conn| {
                [&sql.get, &sql.insert, &sql.update, &sql.get_photo, &sql.update_photo]
                    .into_iter()
                    .try_for_each(|text| conn.prepare(text).map(drop))
            },
            || format!("checking profiles table {table} against the statements"),
        )?;
        Ok(SqliteProfiles { store: self.clone(), sql: Arc::new(sql) })
    }
}

impl SqliteProfiles {
    /// The table's name as given.
    pub fn table(&self) -> &str {
        self.sql.table.as_str()
    }
}

fn profile_from_row(user: &UserId, row: &Row<'_>, table: &str) -> Result<Profile, StoreError> {
    let c = Columns { row, table };
    Ok(Profile {
        user_id: user.clone(),
        display_name: c.parse(0, "display_name", DisplayName::parse)?,
        email: c.parse_or_null(1, "email", Email::parse)?,
        created_at: c.timestamp(2, "created_at")?,
        updated_at: c.timestamp(3, "updated_at")?,
        version: c.version(4)?,
    })
}

fn get(conn: &Connection, sql: &ProfileSql, user: &UserId) -> Result<Option<Profile>, StoreError> {
    let table = sql.table.as_str();
    let mut stmt = conn.prepare_cached(&sql.get).map_err(failed("get_profile", table))?;
    let mut rows = stmt.query(params![user.as_str()]).map_err(failed("get_profile", table))?;
    match rows.next().map_err(failed("get_profile", table))? {
        Some(row) => profile_from_row(user, row, table).map(Some),
        None => Ok(None),
    }
}

impl ProfileGet for SqliteProfiles {
    async fn get_profile(&self, user: &UserId) -> Result<Option<Profile>, StoreError> {
        self.store.read(|reader| get(&reader.conn, &self.sql, user))
    }
}

impl ProfilePut for SqliteProfiles {
    async fn put_profile(&self, profile: &Profile) -> Result<(), StoreError> {
        let values = (
            profile.user_id.as_str().to_owned(),
            profile.display_name.as_str().to_owned(),
            profile.email.as_ref().map(|e| e.as_str().to_owned()),
            timestamp_text(profile.created_at)?,
            timestamp_text(profile.updated_at)?,
            version_int(profile.version)?,
        );
        let sql = self.sql.clone();
        self.store
            .write(move |conn| {
                let table = sql.table.as_str();
                let mut stmt = conn.prepare_cached(&sql.insert).map_err(failed("put_profile", table))?;
                let (user, name, email, created_at, updated_at, version) = values;
                match stmt.execute(params![user, name, email, created_at, updated_at, version]) {
                    Ok(_) => Ok(()),
                    // The first of two concurrent first requests won; the caller reads theirs.
                    Err(e) if is_primary_key_violation(&e) => Err(StoreError::AlreadyExists),
                    Err(e) => Err(failed("put_profile", table)(e)),
                }
            })
            .await
    }
}

impl ProfileUpdate for SqliteProfiles {
    async fn update_profile(&self, user: &UserId, patch: &ProfilePatch, now: Timestamp) -> Result<Profile, StoreError> {
        let (sql, user, patch, now_text) = (self.sql.clone(), user.clone(), patch.clone(), timestamp_text(now)?);
        self.store
            .write(move |conn| {
                let table = sql.table.as_str();
                // IMMEDIATE: read and write under one write lock (see `SqliteTasks::update_task`).
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(failed("update_profile", table))?;
                let current = get(&tx, &sql, &user)?.ok_or(StoreError::NotFound)?;
                let updated = patch.apply(&current, now);
                let version = version_int(updated.version)?;
                tx.prepare_cached(&sql.update)
                    .and_then(|mut stmt| {
                        stmt.execute(params![
                            user.as_str(),
                            updated.display_name.as_str(),
                            updated.email.as_ref().map(Email::as_str),
                            now_text,
                            version,
                        ])
                    })
                    .map_err(failed("update_profile", table))?;
                tx.commit().map_err(failed("update_profile", table))?;
                Ok(updated)
            })
            .await
    }
}

/// A table name as a SQL string literal (for `pragma_table_info`, which takes the name as a value).
fn sql_string(raw: &str) -> String {
    format!("'{}'", raw.replace('\'', "''"))
}

/// The photo columns of `user`'s row: `None` when there is no row.
fn get_photo(conn: &Connection, sql: &ProfileSql, user: &UserId) -> Result<Option<PhotoRecord>, StoreError> {
    let table = sql.table.as_str();
    let mut stmt = conn.prepare_cached(&sql.get_photo).map_err(failed("get_photo", table))?;
    let mut rows = stmt.query(params![user.as_str()]).map_err(failed("get_photo", table))?;
    let Some(row) = rows.next().map_err(failed("get_photo", table))? else { return Ok(None) };
    let c = Columns { row, table };
    let state = c.parse_or_null(0, "photo", |s| serde_json::from_str::<PhotoState>(s))?.unwrap_or_default();
    let revision = c.count(1, "photo_revision")?;
    Ok(Some(PhotoRecord { state, revision }))
}

impl PhotoGet for SqliteProfiles {
    async fn get_photo(&self, user: &UserId) -> Result<Option<PhotoRecord>, StoreError> {
        self.store.read(|reader| get_photo(&reader.conn, &self.sql, user))
    }
}

impl PhotoUpdate for SqliteProfiles {
    async fn update_photo(&self, user: &UserId, photo: &PhotoState, expected: u64) -> Result<u64, StoreError> {
        // An empty state is stored as NULL, as a profile that never had a photo.
        let json =
            if photo.is_empty() { None } else { Some(serde_json::to_string(photo).map_err(StoreError::unavailable)?) };
        let next = expected.checked_add(1).ok_or_else(|| StoreError::unavailable(RevisionOverflow))?;
        let (sql, user, next_int) = (self.sql.clone(), user.clone(), version_int(next)?);
        self.store
            .write(move |conn| {
                let table = sql.table.as_str();
                // IMMEDIATE: the revision is read and written under one write lock, so two writers expecting the
                // same revision cannot both pass.
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(failed("update_photo", table))?;
                let current = get_photo(&tx, &sql, &user)?.ok_or(StoreError::NotFound)?.revision;
                if current != expected {
                    return Err(StoreError::VersionMismatch { current });
                }
                tx.prepare_cached(&sql.update_photo)
                    .and_then(|mut stmt| stmt.execute(params![user.as_str(), json, next_int]))
                    .map_err(failed("update_photo", table))?;
                tx.commit().map_err(failed("update_photo", table))?;
                Ok(next)
            })
            .await
    }
}

/// A photo revision at `u64::MAX`: one more write cannot be counted.
#[derive(Debug, thiserror::Error)]
#[error("the photo revision cannot be counted any higher")]
struct RevisionOverflow;
