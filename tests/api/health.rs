use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    healthz_answers_ok,
    readyz_reports_a_migrated_database,
    responses_carry_a_request_id
);

async fn healthz_answers_ok(app: TestApp) {
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.expect("json"),
        serde_json::json!({"status": "ok"})
    );
}

async fn readyz_reports_a_migrated_database(app: TestApp) {
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.expect("json")["status"],
        "ready"
    );

    // Roll the schema back under the running server: it must stop saying it is ready.
    tungnha::db::revert_all_migrations(&mut app.conn()).expect("revert");
    let res = app.get("/readyz").await;
    crate::helpers::assert_problem(res, 503, "migrations_pending").await;
    tungnha::db::run_migrations(&mut app.conn()).expect("re-apply");
    assert_eq!(app.get("/readyz").await.status(), 200);
}

async fn responses_carry_a_request_id(app: TestApp) {
    let a = app.get("/healthz").await;
    let b = app.get("/healthz").await;
    let id = |r: &reqwest::Response| {
        r.headers()
            .get("x-request-id")
            .expect("x-request-id")
            .to_str()
            .expect("ascii")
            .to_owned()
    };
    assert_ne!(id(&a), id(&b));
    uuid::Uuid::parse_str(&id(&a)).expect("a UUID");
}

/// The database gate: two calls per connection run, up to `QUEUE_LIMIT` wait their turn, and one
/// more is refused at once with 503 `server_busy`; when the running calls end, every waiting one
/// is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_overloaded_database_queue_refuses_with_503_and_serves_the_waiting() {
    use std::sync::{Arc, Condvar, Mutex};
    use tungnha::db::{self, QUEUE_LIMIT};
    let database = crate::helpers::TestDatabase::new(crate::helpers::Backend::Sqlite);
    let pool = db::connect_pool(&database.url, 1).expect("pool");
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let hold = |gate: Arc<(Mutex<bool>, Condvar)>| {
        move |_: &mut db::DbConnection| -> Result<(), tungnha::error::ApiError> {
            let (open, cv) = &*gate;
            let mut open = open.lock().expect("lock");
            while !*open {
                open = cv.wait(open).expect("wait");
            }
            Ok(())
        }
    };
    let mut running = vec![];
    // Two running (one with the connection, one waiting for it on its thread), the rest queued.
    for _ in 0..2 + QUEUE_LIMIT {
        let (pool, gate) = (pool.clone(), gate.clone());
        running.push(tokio::spawn(
            async move { db::run(&pool, hold(gate)).await },
        ));
    }
    // Once all of them have arrived, the next one is refused at once: `server_busy`, not the
    // `server_slow` of a wait that ran out.
    for _ in 0..2000 {
        if pool.waiting() == QUEUE_LIMIT {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(pool.waiting(), QUEUE_LIMIT);
    match db::run(&pool, |_| Ok(())).await {
        Err(e @ tungnha::error::ApiError::Unavailable { .. }) => {
            let res = actix_web::ResponseError::error_response(&e);
            assert_eq!(res.status(), 503);
            assert_eq!(
                res.headers().get("retry-after").map(|v| v.as_bytes()),
                Some(&b"5"[..])
            );
            assert!(matches!(
                e,
                tungnha::error::ApiError::Unavailable {
                    code: "server_busy",
                    ..
                }
            ));
        }
        other => panic!("not refused: {other:?}"),
    }
    assert_eq!(
        pool.waiting(),
        QUEUE_LIMIT,
        "the refused call did not queue"
    );
    let (open, cv) = &*gate;
    *open.lock().expect("lock") = true;
    cv.notify_all();
    for r in running {
        r.await.expect("task").expect("served once the gate opened");
    }
}

/// `sqlite_cache_kib` and `sqlite_writer_cache_kib` reach SQLite: the pooled connections and the
/// push connection each get the page cache they were given.
#[tokio::test]
async fn sqlite_page_caches_are_the_configured_sizes() {
    use diesel::prelude::*;
    use tungnha::db::{self, PoolOptions};
    #[derive(QueryableByName)]
    struct Cache {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        cache_size: i64,
    }
    fn cache(conn: &mut db::DbConnection) -> Result<i64, tungnha::error::ApiError> {
        Ok(diesel::sql_query("PRAGMA cache_size")
            .get_result::<Cache>(conn)
            .expect("pragma")
            .cache_size)
    }
    let database = crate::helpers::TestDatabase::new(crate::helpers::Backend::Sqlite);
    let pool = db::connect_pool_with(
        &database.url,
        PoolOptions {
            size: 2,
            cache_kib: 300,
            writer_cache_kib: 700,
        },
    )
    .expect("pool");
    // A negative cache_size is a size in KiB.
    assert_eq!(db::run(&pool, cache).await.expect("reader"), -300);
    assert_eq!(db::run_write(&pool, cache).await.expect("writer"), -700);
}
