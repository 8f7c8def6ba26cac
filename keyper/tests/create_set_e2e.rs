//! `solex-keyper create-set` on solana-test-validator: the set it prints holds the
//! members, threshold and round given; bad arguments are refused with a message and
//! a non-zero exit, creating nothing.
use std::process::Command;

use solana_keypair::write_keypair_file;
use solex_localnet::ledger::Ledger;
use solex_localnet::validator::TestValidator;
use solex_localnet::{Keypair, Signer};
use solex_sdk::auction::KeyperSetState;

fn keyper(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_solex-keyper")).args(args).output().expect("run solex-keyper")
}

#[test]
fn create_set_makes_the_set_it_is_asked_for_and_refuses_bad_arguments() {
    let validator = TestValidator::start();
    let mut chain = validator.rpc();
    let dir = tempfile::tempdir().unwrap();
    let payer = Keypair::new();
    chain.airdrop(&payer.pubkey(), 10_000_000_000);
    let key = dir.path().join("payer.json");
    write_keypair_file(&payer, &key).unwrap();
    let members: Vec<String> = (0..3).map(|_| Keypair::new().pubkey().to_string()).collect();
    let url = validator.rpc_url();
    let base = ["create-set", "--rpc-url", &url, "--keypair", key.to_str().unwrap()];
    let out = keyper(&[&base[..], &["--members", &members.join(","), "--threshold", "2", "--ring", "128"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let address = String::from_utf8(out.stdout).unwrap().trim().parse().expect("it prints the set's address");
    let set = KeyperSetState::decode(&chain.account_data(&address).expect("the set exists")).unwrap();
    let on_chain: Vec<String> = set.set.members().iter().map(|m| m.to_string()).collect();
    assert_eq!(on_chain, members);
    assert_eq!((set.set.threshold, set.set.round_slots, set.set.retain_rounds, set.ring.len()), (2, 8, 64, 128));

    // A threshold above the members, a duplicate member, a ring no longer than its
    // retention, a member that is no key: refused by the program or by the command.
    for bad in [
        vec!["--members", &members[0], "--threshold", "2"],
        vec!["--members", &members[0], "--members", &members[0], "--threshold", "1"],
        vec!["--members", &members[0], "--threshold", "1", "--ring", "64"],
    ] {
        let out = keyper(&[&base[..], &bad[..]].concat());
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("InvalidKeyperSet"),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = keyper(&[&base[..], &["--members", "not-a-key", "--threshold", "1"]].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not-a-key is not a public key"));
    let out = keyper(&["create-set", "--threshold", "x"]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}
