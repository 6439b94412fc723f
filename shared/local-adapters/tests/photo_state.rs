//! The photo state on the SQLite users table: the shared photo contract (`domain::photo_contract`), and what only
//! this store has to prove: a users table made before the photo columns existed gets them, and its profiles keep
//! reading back.

use domain::photo::PhotoRecord;
use domain::ports::{PhotoGet, ProfileGet};
use domain::{Caller, Profile, UserId};
use local_adapters::{LocalStore, SqliteProfiles};
use tempfile::TempDir;

async fn profiles() -> (SqliteProfiles, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalStore::open(&dir.path().join("local.db")).expect("open");
    (store.profiles("UsersTable").expect("table"), dir)
}

domain::photo_contract_tests!(profiles());

#[tokio::test]
async fn a_users_table_from_before_photos_gets_the_columns_and_its_profiles_read_back_without_a_photo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.db");
    let caller = Caller { id: UserId::parse("ada").unwrap(), email: None, name: Some("Ada".into()) };
    let profile = Profile::from_claims(&caller, domain::now());
    {
        // The table exactly as the previous release created it, with one profile in it.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE \"UsersTable\" (
                user_id TEXT NOT NULL PRIMARY KEY,
                display_name TEXT NOT NULL,
                email TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                version INTEGER NOT NULL
            ) WITHOUT ROWID;",
        )
        .unwrap();
        let at = profile.created_at.format(&time::format_description::well_known::Rfc3339).unwrap();
        conn.execute("INSERT INTO \"UsersTable\" VALUES ('ada', 'Ada', NULL, ?1, ?1, 1)", rusqlite::params![at])
            .unwrap();
    }
    let profiles = LocalStore::open(&path).unwrap().profiles("UsersTable").unwrap();
    assert_eq!(profiles.get_profile(&caller.id).await.unwrap(), Some(profile));
    assert_eq!(profiles.get_photo(&caller.id).await.unwrap(), Some(PhotoRecord::default()));
    // Opening again finds the columns there and adds nothing.
    let again = LocalStore::open(&path).unwrap().profiles("UsersTable").unwrap();
    assert_eq!(again.get_photo(&caller.id).await.unwrap(), Some(PhotoRecord::default()));
}
