//! protoc and its well-known-type includes from the system (Debian
//! `protobuf-compiler`), with the API of crates.io's `protobuf-src`.
use std::path::PathBuf;

pub fn protoc() -> PathBuf {
    std::env::var_os("PROTOC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/protoc"))
}

pub fn include() -> PathBuf {
    PathBuf::from("/usr/include")
}
