//! The DKG's compute: every member of an `n`-member committee runs its part of a
//! session in this one process (no network), so the figure is the CPU the whole
//! committee spends per round key, and a member's share of it.
//!
//!     cargo run --release -p solex-keyper --example dkg_bench --ignore-rust-version
use std::time::Instant;

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solex_keyper::dkg::{Session, SessionId};

fn main() {
    const ROUNDS: u16 = 64;
    println!("| committee | round keys | committee CPU per key (ms) | per member per key (ms) | per member per day of 8-slot batches (CPU s) |");
    println!("|---|---:|---:|---:|---:|");
    for (n, t) in [(3u16, 2u16), (5, 3)] {
        let ids: Vec<Keypair> = (0..n).map(|_| Keypair::new()).collect();
        let members: Vec<Pubkey> = ids.iter().map(|k| k.pubkey()).collect();
        let id = SessionId { keyper_set: Pubkey::new_unique(), first_round: 0, rounds: ROUNDS };
        let start = Instant::now();
        let mut sessions: Vec<Session> =
            (0..n).map(|i| Session::start(id, i, members.clone(), t, &ids[i as usize]).unwrap()).collect();
        let round1: Vec<_> = sessions.iter().map(|s| s.round1().clone()).collect();
        for s in sessions.iter_mut() {
            for m in &round1 {
                s.accept_round1(m.clone()).unwrap();
            }
        }
        let mut round2 = Vec::new();
        for (i, s) in sessions.iter_mut().enumerate() {
            for to in (0..n).filter(|to| *to as usize != i) {
                round2.push(s.round2_for(to, &ids[i]).unwrap().unwrap());
            }
        }
        for m in round2 {
            sessions[m.to as usize].accept_round2(m).unwrap();
        }
        for s in sessions.iter_mut() {
            assert!(s.finish().unwrap().is_some());
        }
        let per_key = start.elapsed().as_secs_f64() * 1e3 / ROUNDS as f64;
        let per_member = per_key / n as f64;
        // 400 ms slots: a day has 216,000 slots, 27,000 rounds of 8.
        println!(
            "| {n} members, threshold {t} | {ROUNDS} | {per_key:.2} | {per_member:.2} | {:.0} |",
            per_member / 1e3 * 27_000.0
        );
    }
}
