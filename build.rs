//! The pages in `web/` are compiled into the binary (rust-embed, also in debug builds, so
//! the tests run what ships). Rebuild when any file there changes, is added or removed.
fn main() {
    println!("cargo:rerun-if-changed=web");
}
