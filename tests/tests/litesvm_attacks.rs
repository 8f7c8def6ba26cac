//! A catalogue of attacks on the built program (LiteSVM), one test each. Every
//! attack is refused with the named error and leaves every account of both
//! markets, both traders and their wallets byte-for-byte unchanged.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::{pda, CreateMarketArgs, PlaceOrderArgs, Side};
use solex_tests::ledger::{Ledger, TxResult};
use solex_tests::litesvm_ledger::SvmLedger;
use solex_tests::scenario::*;
use solex_tests::{Keypair, Signer};

const ARGS: CreateMarketArgs = CreateMarketArgs {
    market_id: 1,
    base_lot_size: 1_000,
    quote_tick_size: 10,
    min_order_lots: 0,
    maker_fee_bps: 0,
    taker_fee_bps: 5,
};

/// Two markets over different mints; Alice (the victim) and Mallory (the attacker)
/// trade on the first, Mallory also on the second. Alice has a resting bid and an
/// ask, and a fill waits in the queue.
struct World {
    l: SvmLedger,
    m: TestMarket,
    other: TestMarket,
    alice: Wallet,
    mallory: Wallet,
    mallory_other: Wallet,
    cranker: Keypair,
}

impl World {
    fn new() -> Self {
        let mut l = SvmLedger::new();
        let (m, _) = TestMarket::create(&mut l, ARGS);
        let (other, _) = TestMarket::create(&mut l, CreateMarketArgs { market_id: 2, ..ARGS });
        let alice = m.wallet(&mut l, 1 << 40, 1 << 40);
        let mallory = m.wallet(&mut l, 1 << 40, 1 << 40);
        let mallory_other = other.wallet(&mut l, 1 << 40, 1 << 40);
        for (mk, w) in [(&m, &alice), (&m, &mallory), (&other, &mallory_other)] {
            let deposits =
                [mk.deposit_ix(w, mk.keys.base_mint, 1 << 30), mk.deposit_ix(w, mk.keys.quote_mint, 1 << 30)];
            l.send(&deposits, &[&w.keypair]).unwrap();
        }
        for (side, price) in [(Side::Bid, 100), (Side::Ask, 110), (Side::Ask, 111)] {
            l.send(
                &[ix::place_order(alice.pubkey(), &m.keys, PlaceOrderArgs::limit(side, price, 5, price))],
                &[&alice.keypair],
            )
            .unwrap();
        }
        // Mallory takes one lot: a fill for Alice waits in the queue.
        l.send(
            &[ix::place_order(mallory.pubkey(), &m.keys, PlaceOrderArgs::limit(Side::Bid, 110, 1, 1))],
            &[&mallory.keypair],
        )
        .unwrap();
        let cranker = Keypair::new();
        l.airdrop(&cranker.pubkey(), 10_000_000_000);
        Self { l, m, other, alice, mallory, mallory_other, cranker }
    }

    fn state(&self) -> Vec<Pubkey> {
        let mut keys = vec![];
        for k in [&self.m.keys, &self.other.keys] {
            keys.extend([k.market, k.bids, k.asks, k.fill_queue, k.base_vault, k.quote_vault]);
        }
        for (market, w) in [(&self.m, &self.alice), (&self.m, &self.mallory), (&self.other, &self.mallory_other)] {
            keys.extend([pda::trader(&market.keys.market, &w.pubkey()), w.base, w.quote]);
        }
        keys
    }

    fn alice_order(&self, side: Side) -> u128 {
        let b = book(&self.l, if side == Side::Bid { &self.m.keys.bids } else { &self.m.keys.asks });
        b.orders().last().expect("alice's order").id()
    }

    /// Sends as `signers`; asserts the refusal is one of `expected` and nothing changed.
    fn refused(&mut self, ixs: &[Instruction], signers: &[&Keypair], expected: &[&str]) {
        let before = Snapshot::take(&self.l, &self.state());
        let name = error_name(self.l.send(ixs, signers));
        assert!(expected.contains(&name.as_str()), "refused with {name}, expected one of {expected:?}");
        before.assert_unchanged(&self.l);
    }
}

fn error_name(result: TxResult) -> String {
    match result {
        Ok(landed) => panic!("the attack landed: {:?}", landed.logs),
        Err(r) => refusal(&r).trim_start_matches("anchor ").to_string(),
    }
}

/// Replaces every occurrence of account `from` in `ix` with `to`.
fn substitute(mut ix: Instruction, from: Pubkey, to: Pubkey) -> Instruction {
    let mut hit = false;
    for meta in ix.accounts.iter_mut().filter(|a| a.pubkey == from) {
        meta.pubkey = to;
        hit = true;
    }
    assert!(hit, "{from} is not an account of this instruction");
    ix
}

#[test]
fn withdrawing_from_another_traders_account() {
    let mut w = World::new();
    let (k, alice_trader) = (w.m.keys, pda::trader(&w.m.keys.market, &w.alice.pubkey()));
    let steal = ix::withdraw(w.mallory.pubkey(), &k, w.mallory.quote, k.quote_mint, TOKEN_PROGRAM, 1000);
    let steal = substitute(steal, pda::trader(&k.market, &w.mallory.pubkey()), alice_trader);
    w.refused(&[steal], &[&w.mallory.keypair.insecure_clone()], &["NotOwner", "ConstraintSeeds"]);
}

#[test]
fn placing_and_cancelling_on_another_traders_account() {
    let mut w = World::new();
    let k = w.m.keys;
    let mallory = w.mallory.keypair.insecure_clone();
    let place = ix::place_order_as(mallory.pubkey(), w.alice.pubkey(), &k, PlaceOrderArgs::limit(Side::Bid, 1, 1, 1));
    w.refused(&[place], &[&mallory], &["NotOwnerOrDelegate"]);
    let bid = w.alice_order(Side::Bid);
    let cancel = ix::cancel_order_as(mallory.pubkey(), w.alice.pubkey(), &k, Side::Bid, bid);
    w.refused(&[cancel], &[&mallory], &["NotOwnerOrDelegate"]);
    // Through her own account, naming Alice's order.
    w.refused(&[ix::cancel_order(mallory.pubkey(), &k, Side::Bid, bid)], &[&mallory], &["NotOrderOwner"]);
    let replace = ix::replace_order(
        mallory.pubkey(),
        mallory.pubkey(),
        &k,
        Side::Bid,
        bid,
        PlaceOrderArgs::limit(Side::Bid, 99, 1, 2),
    );
    w.refused(&[replace], &[&mallory], &["NotOrderOwner"]);
    let all = ix::cancel_all(mallory.pubkey(), w.alice.pubkey(), &k, None, 8);
    w.refused(&[all], &[&mallory], &["NotOwnerOrDelegate"]);
}

#[test]
fn a_delegate_cannot_withdraw_or_close() {
    let mut w = World::new();
    let k = w.m.keys;
    let alice = w.alice.keypair.insecure_clone();
    w.l.send(&[ix::set_delegate(alice.pubkey(), k.market, Some((w.mallory.pubkey(), 100, 100)))], &[&alice]).unwrap();
    let mallory = w.mallory.keypair.insecure_clone();
    let alice_trader = pda::trader(&k.market, &alice.pubkey());
    for to in [w.mallory.quote, w.alice.quote] {
        let steal = ix::withdraw(mallory.pubkey(), &k, to, k.quote_mint, TOKEN_PROGRAM, 1);
        let steal = substitute(steal, pda::trader(&k.market, &mallory.pubkey()), alice_trader);
        w.refused(&[steal], &[&mallory], &["NotOwner", "ConstraintSeeds"]);
    }
    let close = substitute(
        ix::close_trader(mallory.pubkey(), mallory.pubkey(), k.market),
        pda::trader(&k.market, &mallory.pubkey()),
        alice_trader,
    );
    w.refused(&[close], &[&mallory], &["NotOwner", "ConstraintSeeds"]);
}

#[test]
fn substituting_another_markets_vault_book_queue_or_trader() {
    let mut w = World::new();
    let (k, o) = (w.m.keys, w.other.keys);
    let mallory = w.mallory.keypair.insecure_clone();
    let to = w.mallory.quote;
    // A second quote token account Mallory owns, to pose as the vault.
    let authority = w.m.mint_authority.insecure_clone();
    let decoy = create_token_account(&mut w.l, &authority, &k.quote_mint, &mallory.pubkey(), &authority, 0);
    let withdraw = || ix::withdraw(mallory.pubkey(), &k, to, k.quote_mint, TOKEN_PROGRAM, 1000);
    // The other market's quote vault: same program, different mint and owner.
    w.refused(
        &[substitute(withdraw(), k.quote_vault, o.quote_vault)],
        &[&mallory],
        &["WrongVault", "ConstraintTokenMint", "ConstraintSeeds"],
    );
    // Its own base vault for a quote withdrawal.
    w.refused(
        &[substitute(withdraw(), k.quote_vault, k.base_vault)],
        &[&mallory],
        &["WrongVault", "ConstraintTokenMint"],
    );
    // A token account Mallory owns, posing as the vault.
    w.refused(
        &[substitute(withdraw(), k.quote_vault, decoy)],
        &[&mallory],
        &["WrongVault", "ConstraintTokenOwner", "ConstraintSeeds"],
    );
    let place = || ix::place_order(mallory.pubkey(), &k, PlaceOrderArgs::limit(Side::Bid, 105, 1, 3));
    w.refused(&[substitute(place(), k.bids, o.bids)], &[&mallory], &["WrongBook"]);
    w.refused(&[substitute(place(), k.asks, k.bids)], &[&mallory], &["WrongBook"]);
    w.refused(&[substitute(place(), k.fill_queue, o.fill_queue)], &[&mallory], &["WrongFillQueue"]);
    // Her trader account on the other market, where she holds funds, used on this one.
    let theirs = pda::trader(&o.market, &w.mallory_other.pubkey());
    let foreign = substitute(place(), pda::trader(&k.market, &mallory.pubkey()), theirs);
    let other_owner = w.mallory_other.keypair.insecure_clone();
    let foreign = substitute(foreign, mallory.pubkey(), other_owner.pubkey());
    w.refused(&[foreign], &[&other_owner], &["WrongMarket", "ConstraintSeeds", "InvalidTraderAccount"]);
}

#[test]
fn substituting_mints_and_token_accounts() {
    let mut w = World::new();
    let (k, o) = (w.m.keys, w.other.keys);
    let mallory = w.mallory.keypair.insecure_clone();
    // Depositing the other market's (worthless to this one) base mint as if it were this base.
    let fake = w.other.wallet(&mut w.l, 1 << 30, 1 << 30);
    let deposit = ix::deposit(mallory.pubkey(), &k, fake.base, o.base_mint, TOKEN_PROGRAM, 1000);
    w.refused(&[deposit], &[&mallory], &["WrongMint", "WrongTokenOwner"]);
    let deposit = substitute(
        ix::deposit(mallory.pubkey(), &k, w.mallory.base, k.base_mint, TOKEN_PROGRAM, 1000),
        w.mallory.base,
        fake.base,
    );
    w.refused(&[deposit], &[&mallory], &["ConstraintTokenMint", "WrongMint", "WrongTokenOwner", "token error 3"]);
    // Settling Alice's balances into Mallory's token accounts.
    let settle = ix::settle_funds(&k, w.alice.pubkey(), w.mallory.base, w.mallory.quote, TOKEN_PROGRAM, TOKEN_PROGRAM);
    w.refused(&[settle], &[&mallory], &["WrongTokenOwner"]);
}

#[test]
fn a_fake_trader_account_is_refused() {
    let mut w = World::new();
    let k = w.m.keys;
    let mallory = w.mallory.keypair.insecure_clone();
    // A copy of Alice's trader account, with Mallory as owner, at an address Mallory controls.
    let mut data = w.l.account_data(&pda::trader(&k.market, &w.alice.pubkey())).unwrap();
    let owner_at = 8 + 32;
    data[owner_at..owner_at + 32].copy_from_slice(mallory.pubkey().as_ref());
    let fake = Pubkey::new_unique();
    // Owned by the system or the token program. (An account the Solex program owns
    // cannot hold forged data: only the program writes its accounts, and it writes
    // trader data only at the trader PDA, in create_trader.)
    for program in [anchor_lang::system_program::ID, TOKEN_PROGRAM] {
        let lamports = w.l.rent_exempt(data.len());
        let account =
            solana_account::Account { lamports, data: data.clone(), owner: program, executable: false, rent_epoch: 0 };
        w.l.svm.set_account(fake, account).unwrap();
        let steal = ix::withdraw(mallory.pubkey(), &k, w.mallory.quote, k.quote_mint, TOKEN_PROGRAM, 1000);
        let steal = substitute(steal, pda::trader(&k.market, &mallory.pubkey()), fake);
        w.refused(&[steal], &[&mallory], &["AccountOwnedByWrongProgram"]);
    }
    // A genuine Solex account of another type (the market, a book) in the trader's place.
    for other in [k.market, k.bids] {
        let steal = ix::withdraw(mallory.pubkey(), &k, w.mallory.quote, k.quote_mint, TOKEN_PROGRAM, 1000);
        let steal = substitute(steal, pda::trader(&k.market, &mallory.pubkey()), other);
        w.refused(&[steal], &[&mallory], &["AccountDiscriminatorMismatch", "ConstraintDuplicateMutableAccount"]);
    }
}

#[test]
fn replaying_or_reordering_crank_instructions() {
    let mut w = World::new();
    let k = w.m.keys;
    let cranker = w.cranker.insecure_clone();
    // A second fill, from Mallory again, so two events wait.
    let mallory = w.mallory.keypair.insecure_clone();
    w.l.send(&[ix::place_order(mallory.pubkey(), &k, PlaceOrderArgs::limit(Side::Bid, 110, 1, 2))], &[&mallory])
        .unwrap();
    let queue = fill_queue(&w.l, &k.fill_queue);
    let head = queue.head_seq;
    let alice_trader = pda::trader(&k.market, &w.alice.pubkey());
    // The wrong head (as if replaying a later or earlier call).
    w.refused(&[ix::consume_events(&k, &[alice_trader], head + 1, 1)], &[&cranker], &["QueueHeadMismatch"]);
    // Without the maker's account, or with someone else's in its place.
    let bystander = pda::trader(&k.market, &mallory.pubkey());
    w.refused(&[ix::consume_events(&k, &[bystander], head, 1)], &[&cranker], &["NothingToConsume"]);
    // The right call lands once; the same call again is a replay.
    let consume = ix::consume_events(&k, &[alice_trader], head, 1);
    w.l.send(std::slice::from_ref(&consume), &[&cranker]).unwrap();
    w.refused(&[consume], &[&cranker], &["QueueHeadMismatch"]);
}

/// A withdrawal lands only in a token account of the trader's owner. Into another
/// market's vault over the same mints it used to land, stranding the tokens there,
/// owned by no balance (the fuzz found it as a broken conservation check); into
/// someone else's wallet it would be a gift nobody meant. Into the market's own vault
/// (and a fee sweep into it) Anchor refuses the vault passed twice as mutable.
#[test]
fn withdrawing_into_an_account_the_owner_does_not_own() {
    let mut w = World::new();
    let k = w.m.keys;
    let authority = w.m.mint_authority.insecure_clone();
    let (same_mints, _) = create_market(&mut w.l, &authority, k.base_mint, k.quote_mint, market_args(7));
    let mallory = w.mallory.keypair.insecure_clone();
    let into = |to: Pubkey| ix::withdraw(mallory.pubkey(), &k, to, k.quote_mint, TOKEN_PROGRAM, 1000);
    let stranded_before = token_balance(&w.l, &same_mints.quote_vault);
    w.refused(&[into(same_mints.quote_vault)], &[&mallory], &["WrongTokenOwner"]);
    assert_eq!(token_balance(&w.l, &same_mints.quote_vault), stranded_before);
    w.refused(&[into(w.alice.quote)], &[&mallory], &["WrongTokenOwner"]);
    w.refused(&[into(k.quote_vault)], &[&mallory], &["ConstraintDuplicateMutableAccount", "WrongTokenOwner"]);
    let sweep = ix::sweep_fees(authority.pubkey(), &k, k.quote_vault, TOKEN_PROGRAM);
    w.refused(&[sweep], &[&authority], &["ConstraintDuplicateMutableAccount"]);
    // Into Mallory's own wallet it lands.
    w.l.send(&[into(w.mallory.quote)], &[&mallory]).unwrap();
}

#[test]
fn closing_a_market_or_trader_with_funds_inside() {
    let mut w = World::new();
    let k = w.m.keys;
    let authority = w.m.mint_authority.insecure_clone();
    let leftovers = (w.mallory.base, w.mallory.quote);
    let close = ix::close_market(authority.pubkey(), authority.pubkey(), &k, leftovers, TOKEN_PROGRAM, TOKEN_PROGRAM);
    w.refused(&[close], &[&authority], &["MarketNotEmpty"]);
    let mallory = w.mallory.keypair.insecure_clone();
    let close = ix::close_market(mallory.pubkey(), mallory.pubkey(), &k, leftovers, TOKEN_PROGRAM, TOKEN_PROGRAM);
    w.refused(&[close], &[&mallory], &["NotMarketAuthority", "ConstraintHasOne"]);
    w.refused(&[ix::close_trader(mallory.pubkey(), mallory.pubkey(), k.market)], &[&mallory], &["TraderNotEmpty"]);
    // Only the authority sweeps fees or pauses.
    let sweep = ix::sweep_fees(mallory.pubkey(), &k, w.mallory.quote, TOKEN_PROGRAM);
    w.refused(&[sweep], &[&mallory], &["NotMarketAuthority", "ConstraintHasOne"]);
    w.refused(
        &[ix::set_paused(mallory.pubkey(), k.market, true)],
        &[&mallory],
        &["NotMarketAuthority", "ConstraintHasOne"],
    );
}

#[test]
fn integer_edge_values() {
    let mut w = World::new();
    let k = w.m.keys;
    let mallory = w.mallory.keypair.insecure_clone();
    let place = |side, price, qty| ix::place_order(mallory.pubkey(), &k, PlaceOrderArgs::limit(side, price, qty, 77));
    // A bid whose remainder would rest at u64::MAX: locking its quote overflows.
    w.refused(
        &[place(Side::Bid, u64::MAX, 1_000)],
        &[&mallory],
        &["NotionalTooLarge", "Overflow", "InsufficientFunds"],
    );
    w.refused(&[place(Side::Bid, 1, u64::MAX)], &[&mallory], &["NotionalTooLarge", "Overflow", "InsufficientFunds"]);
    w.refused(
        &[place(Side::Ask, u64::MAX, u64::MAX)],
        &[&mallory],
        &["NotionalTooLarge", "Overflow", "InsufficientFunds"],
    );
    w.refused(&[place(Side::Bid, 0, 1)], &[&mallory], &["ZeroPrice"]);
    w.refused(&[place(Side::Bid, 1, 0)], &[&mallory], &["ZeroQuantity"]);
    let mut no_fills = PlaceOrderArgs::limit(Side::Bid, 110, 1, 78);
    no_fills.max_fills = 0;
    w.refused(&[ix::place_order(mallory.pubkey(), &k, no_fills)], &[&mallory], &["InvalidFillLimit"]);
    let withdraw = ix::withdraw(mallory.pubkey(), &k, w.mallory.quote, k.quote_mint, TOKEN_PROGRAM, u64::MAX);
    w.refused(&[withdraw], &[&mallory], &["InsufficientFunds"]);
    let deposit = ix::deposit(mallory.pubkey(), &k, w.mallory.quote, k.quote_mint, TOKEN_PROGRAM, u64::MAX);
    w.refused(&[deposit], &[&mallory], &["token error 1", "Overflow"]);
    w.refused(
        &[ix::deposit(mallory.pubkey(), &k, w.mallory.quote, k.quote_mint, TOKEN_PROGRAM, 0)],
        &[&mallory],
        &["ZeroAmount"],
    );
    // A marketable bid at u64::MAX for one lot is legitimate: it trades at the best ask, not at its limit.
    let landed = w.l.send(&[place(Side::Bid, u64::MAX, 1)], &[&mallory]).unwrap();
    let Some(SolexEvent::OrderPlaced(o)) = landed.events.first() else { panic!("no OrderPlaced") };
    assert_eq!((o.fills.len(), o.fills[0].price, o.fills[0].qty_lots), (1, 110, 1));
    w.m.assert_conserved(&w.l, &[&w.alice, &w.mallory]);
}

#[test]
fn acting_for_another_trader_through_a_cpi_router() {
    // programs/cpi-router forwards any instruction to Solex by CPI, keeping each
    // account's signer flag: it cannot add a signature (the runtime refuses a CPI
    // that escalates a privilege), so through it Mallory can do nothing to Alice's
    // account that a direct call without Alice's signature could.
    use solex_tests::litesvm_ledger::routed;
    let mut w = World::new();
    w.l.add_cpi_router();
    let k = w.m.keys;
    let mallory = w.mallory.keypair.insecure_clone();
    let alice = w.alice.pubkey();
    let without_alice = |mut ix: Instruction| {
        ix.accounts.iter_mut().filter(|a| a.pubkey == alice).for_each(|a| a.is_signer = false);
        routed(&ix)
    };
    let bid = w.alice_order(Side::Bid);
    let attacks = [
        ix::withdraw(alice, &k, w.mallory.quote, k.quote_mint, TOKEN_PROGRAM, 1000),
        ix::place_order(alice, &k, PlaceOrderArgs::limit(Side::Bid, 1_000, 5, 9)),
        ix::cancel_order(alice, &k, Side::Bid, bid),
        ix::cancel_all(alice, alice, &k, None, 8),
        ix::close_trader(alice, alice, k.market),
    ];
    for attack in attacks {
        w.refused(&[without_alice(attack)], &[&mallory], &["AccountNotSigner"]);
    }
    // Her own instructions through the router, as herself, do what a direct call does.
    let own = ix::place_order(mallory.pubkey(), &k, PlaceOrderArgs::limit(Side::Bid, 100, 1, 10));
    let landed = w.l.send(&[routed(&own)], &[&mallory]).unwrap();
    assert!(matches!(landed.events.as_slice(), [SolexEvent::OrderPlaced(_)]));
}
