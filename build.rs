//! The pages in `web/` are compiled into the binary (rust-embed, also in debug builds, so
//! the tests run what ships). Rebuild when any file there changes, is added or removed;
//! the same for the migrations.
fn main() {
    println!("cargo:rerun-if-changed=web");
    // the migrations are embedded too (diesel's embed_migrations!): a new one rebuilds
    println!("cargo:rerun-if-changed=migrations");
}
