//! Writes the program's Anchor IDL to target/idl/solex.json, the way `anchor idl
//! build` does (compiles the program with `idl-build` and collects what it prints).
//!
//!     cargo run -p solex-tests --bin idl
use solex_tests::artifacts::{idl_path, workspace_root};

fn main() {
    let root = workspace_root();
    // rustup sets RUSTUP_TOOLCHAIN for cargo's children; anchor-lang-idl 0.1.4 then
    // passes a literal "+{toolchain}" to cargo. The default toolchain is the right one.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let idl = anchor_lang_idl::build::IdlBuilder::new()
        .program_path(root.join("programs/solex"))
        .build()
        .unwrap_or_else(|e| {
            eprintln!("error: building the IDL failed: {e:#}");
            std::process::exit(1);
        });
    let path = idl_path();
    std::fs::create_dir_all(path.parent().expect("idl dir")).expect("create the idl directory");
    std::fs::write(&path, serde_json::to_string_pretty(&idl).expect("IDL serialises") + "\n").expect("write IDL");
    println!(
        "{}: {} instructions, {} accounts, {} events, {} errors",
        path.display(),
        idl.instructions.len(),
        idl.accounts.len(),
        idl.events.len(),
        idl.errors.len()
    );
}
