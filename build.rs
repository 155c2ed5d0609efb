// embed_migrations! does not track the folder by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    // The web app built into the binary (static_files::Built): recompile when pwa/dist changes.
    // Tests of the built-in app run only where it was built first (make test builds it before
    // compiling the server); elsewhere they are listed as ignored.
    println!("cargo:rustc-check-cfg=cfg(tungnha_pwa_built)");
    println!("cargo:rerun-if-changed=pwa/dist");
    if std::path::Path::new("pwa/dist/index.html").is_file() {
        println!("cargo:rustc-cfg=tungnha_pwa_built");
    } else {
        // Until it exists, cargo runs this script (and compiles the server) on every build.
        println!(
            "cargo:warning=pwa/dist is not built: this server has no web app inside (`make pwa` \
             builds it; until then every build compiles the server again)"
        );
    }
    // The PostgreSQL variants of the integration tests run when a server is named, and are listed
    // as ignored (not as passed) when none is.
    println!("cargo:rustc-check-cfg=cfg(tungnha_postgres)");
    println!("cargo:rerun-if-env-changed=TEST_DATABASE_URL");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.trim().is_empty()) {
        println!("cargo:rustc-cfg=tungnha_postgres");
    }
}
