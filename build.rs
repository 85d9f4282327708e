//! Build script: embeds the commit the binary is built from, for `airguard --version`.
//!
//! Sets `AIRGUARD_COMMIT` to the abbreviated commit id, or to `unknown` when neither the
//! environment, git nor Cargo's packaging record names one (see `build/commit.rs`).

#[path = "build/commit.rs"]
mod commit;

fn main() {
    let dir = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-env-changed={}", commit::ENV);
    println!("cargo:rerun-if-changed=build/commit.rs");
    let env = std::env::var(commit::ENV).ok();
    match commit::find(&dir, env.as_deref()) {
        Some(found) => {
            for w in &found.watch {
                println!("cargo:rerun-if-changed={}", w.display());
            }
            println!("cargo:rustc-env=AIRGUARD_COMMIT={}", found.commit);
        }
        None => println!("cargo:rustc-env=AIRGUARD_COMMIT=unknown"),
    }
}
