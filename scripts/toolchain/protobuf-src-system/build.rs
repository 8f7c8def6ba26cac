// `links` needs a build script; the real crate exports its include dir this way.
fn main() {
    println!("cargo:CXXBRIDGE_DIR0=/usr/include");
}
