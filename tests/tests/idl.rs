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
    for ix in ["create_market", "create_trader", "deposit", "withdraw", "place_order", "cancel_order"] {
        assert!(names.contains(&ix), "{ix} missing from the IDL");
    }
}
