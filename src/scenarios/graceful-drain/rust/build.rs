//! Puts the compiler and the resolved crate versions into the binaries, for the
//! `runtime` field of `ready` (e.g. `rust 1.95.0, hyper 0.14.19, tokio 1.24.2`).
//! Versions come from the Cargo.lock the offline build resolved; nothing is fetched.
use std::{env, fs, path::Path, process::Command};

fn locked_version(lock: &str, name: &str) -> String {
    let needle = format!("name = \"{name}\"\nversion = \"");
    lock.find(&needle)
        .map(|at| {
            let rest = &lock[at + needle.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .unwrap_or_else(|| "unknown".to_string())
}

fn main() {
    let dir = env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let lock = fs::read_to_string(Path::new(&dir).join("Cargo.lock")).unwrap_or_default();
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.split_whitespace().nth(1).map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=REPRO_RUSTC_VERSION={rustc_version}");
    println!("cargo:rustc-env=REPRO_HYPER_VERSION={}", locked_version(&lock, "hyper"));
    println!("cargo:rustc-env=REPRO_TOKIO_VERSION={}", locked_version(&lock, "tokio"));
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=build.rs");
}
