// embed_migrations! does not track the folder by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
