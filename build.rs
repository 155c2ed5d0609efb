// embed_migrations! does not track the folder by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    // The PostgreSQL variants of the integration tests run when a server is named, and are listed
    // as ignored (not as passed) when none is.
    println!("cargo:rustc-check-cfg=cfg(tungnha_postgres)");
    println!("cargo:rerun-if-env-changed=TEST_DATABASE_URL");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.trim().is_empty()) {
        println!("cargo:rustc-cfg=tungnha_postgres");
    }
}
