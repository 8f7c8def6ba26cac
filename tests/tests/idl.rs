//! The IDL that scripts/build-sbf.sh writes agrees with the SDK's decoding.
use solex_sdk::errors::solex_error;
use solex_tests::artifacts::idl_path;

#[test]
fn sdk_error_names_match_the_idl() {
    let path = idl_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/build-sbf.sh writes it)", path.display()));
    let idl: serde_json::Value = serde_json::from_str(&text).expect("IDL is JSON");
    assert_eq!(idl["address"], solex::ID.to_string());
    let errors = idl["errors"].as_array().expect("errors");
    assert!(!errors.is_empty());
    for e in errors {
        let code = e["code"].as_u64().unwrap() as u32;
        let name = e["name"].as_str().unwrap();
        let sdk = solex_error(code).unwrap_or_else(|| panic!("SDK does not know error {code} ({name})"));
        // The IDL names errors in camelCase or as declared; compare case-insensitively.
        assert_eq!(format!("{sdk:?}").to_lowercase(), name.replace('_', "").to_lowercase(), "code {code}");
    }
    let names: Vec<_> = idl["instructions"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    for ix in [
        "create_market",
        "create_trader",
        "deposit",
        "withdraw",
        "place_order",
        "cancel_order",
        "cancel_by_client_id",
        "cancel_all",
        "replace_order",
        "consume_events",
        "settle_funds",
        "sweep_fees",
        "close_trader",
        "close_market",
        "set_paused",
        "set_delegate",
        "prune_expired",
        "create_keyper_set",
        "register_keys",
        "post_share",
        "publish_secret",
        "create_auction",
        "submit_sealed",
        "cancel_sealed",
        "decrypt_batch",
        "clear_batch",
        "execute_batch",
        "void_batch",
        "close_auction",
    ] {
        assert!(names.contains(&ix), "{ix} missing from the IDL");
    }
    assert_eq!(names.len(), 29, "an instruction was added: list it here and in docs/program.md");
}

/// docs/program.md documents every error code with the program's own message.
#[test]
fn every_error_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/program.md")).unwrap();
    let mut code = solex_sdk::errors::ERROR_CODE_OFFSET;
    while let Some(e) = solex_error(code) {
        let row = format!("| {code} | `{e:?}` | {e} |");
        assert!(doc.contains(&row), "docs/program.md lacks the row: {row}");
        code += 1;
    }
    assert!(code > solex_sdk::errors::ERROR_CODE_OFFSET + 40);
}
