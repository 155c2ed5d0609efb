use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::helpers::{Backend, TestDatabase};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn users_table_exists(conn: &mut tungnha::db::DbConnection, backend: Backend) -> bool {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'users'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'users'"
        }
    };
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .expect("query")
        .n
        == 1
}

fn up_down_up(backend: Backend) {
    let db = TestDatabase::new(backend);
    let mut conn = db.connect();
    let applied = tungnha::db::run_migrations(&mut conn).expect("up");
    assert!(!applied.is_empty());
    assert!(users_table_exists(&mut conn, backend));
    assert!(tungnha::db::migrations_are_current(&mut conn).expect("state"));

    let reverted = tungnha::db::revert_all_migrations(&mut conn).expect("down");
    assert_eq!(reverted.len(), applied.len());
    assert!(!users_table_exists(&mut conn, backend));
    assert!(!tungnha::db::migrations_are_current(&mut conn).expect("state"));

    let again = tungnha::db::run_migrations(&mut conn).expect("up again");
    assert_eq!(again, applied);
    assert!(users_table_exists(&mut conn, backend));
    assert!(tungnha::db::run_migrations(&mut conn)
        .expect("idempotent")
        .is_empty());
}

#[test]
fn migrations_go_up_down_and_up_again_on_sqlite() {
    up_down_up(Backend::Sqlite);
}

#[test]
#[cfg_attr(
    not(tungnha_postgres),
    ignore = "no PostgreSQL: set TEST_DATABASE_URL (make test does when a server answers on 127.0.0.1:5432)"
)]
fn migrations_go_up_down_and_up_again_on_postgres() {
    up_down_up(Backend::Postgres);
}

#[test]
fn both_backends_have_the_same_migration_folders() {
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("migrations/sqlite"), names("migrations/postgres"));
}

#[test]
fn sqlite_connections_are_durable_with_foreign_keys_and_wal() {
    #[derive(QueryableByName)]
    struct Pragma {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let db = TestDatabase::new(Backend::Sqlite);
    let mut conn = db.connect();
    tungnha::db::run_migrations(&mut conn).expect("up");
    let mut pragma = |sql: &str| {
        diesel::sql_query(sql)
            .get_result::<Pragma>(&mut conn)
            .expect("pragma")
            .v
    };
    assert_eq!(
        pragma("SELECT CAST(foreign_keys AS TEXT) AS v FROM pragma_foreign_keys"),
        "1"
    );
    // 2 = FULL: a commit is on disk before the server answers.
    assert_eq!(
        pragma("SELECT CAST(synchronous AS TEXT) AS v FROM pragma_synchronous"),
        "2"
    );
    assert_eq!(
        pragma("SELECT journal_mode AS v FROM pragma_journal_mode"),
        "wal"
    );
    let busy = pragma("SELECT CAST(timeout AS TEXT) AS v FROM pragma_busy_timeout");
    assert_eq!(busy, "10000");
}
