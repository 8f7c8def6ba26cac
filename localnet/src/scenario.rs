//! Building blocks for scenarios: mints, token accounts, markets and funded
//! traders, over any [`Ledger`].
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_signer::Signer;
use solex_sdk::accounts::{decode, decode_boxed};
use solex_sdk::event_types::Balances;
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions::{self as ix, MarketKeys};
use solex_sdk::{pda, BookSide, CreateMarketArgs, FillQueue, Market, QueueEventKind, Side, Trader};
use spl_token_interface::state::{Account as TokenAccount, Mint};

use crate::ledger::{Landed, Ledger};

pub const TOKEN_PROGRAM: Pubkey = spl_token_interface::ID;
pub const TOKEN_2022_PROGRAM: Pubkey = spl_token_2022_interface::ID;

// Token-2022's instruction builders accept either token program, so one code path
// creates mints and accounts for both. (Without extensions, both use the same
// 82-byte mint and 165-byte account layouts.)
use spl_token_2022_interface::instruction as token_ix;

/// A system `create_account` of `len` bytes, rent-exempt, owned by `owner`.
pub fn create_account_ix(ledger: &dyn Ledger, payer: &Pubkey, new: &Pubkey, len: usize, owner: &Pubkey) -> Instruction {
    solana_system_interface::instruction::create_account(payer, new, ledger.rent_exempt(len), len as u64, owner)
}

/// A new SPL Token mint whose mint authority is `payer`.
pub fn create_mint(ledger: &mut dyn Ledger, payer: &Keypair, decimals: u8) -> Pubkey {
    create_mint_at(ledger, payer, &Keypair::new(), decimals, TOKEN_PROGRAM)
}

/// A new mint of `program` (Token or Token-2022) at the address of `mint`.
pub fn create_mint_at(
    ledger: &mut dyn Ledger,
    payer: &Keypair,
    mint: &Keypair,
    decimals: u8,
    program: Pubkey,
) -> Pubkey {
    let ixs = [
        create_account_ix(ledger, &payer.pubkey(), &mint.pubkey(), Mint::LEN, &program),
        token_ix::initialize_mint2(&program, &mint.pubkey(), &payer.pubkey(), None, decimals)
            .expect("initialize_mint2"),
    ];
    ledger.send(&ixs, &[payer, mint]).expect("create mint");
    mint.pubkey()
}

/// A new token account of `mint` owned by `owner`, funded with `amount` minted by `mint_authority`.
pub fn create_token_account(
    ledger: &mut dyn Ledger,
    payer: &Keypair,
    mint: &Pubkey,
    owner: &Pubkey,
    mint_authority: &Keypair,
    amount: u64,
) -> Pubkey {
    let account = Keypair::new();
    let program = ledger.owner(mint).expect("mint exists");
    let mut ixs = vec![
        create_account_ix(ledger, &payer.pubkey(), &account.pubkey(), TokenAccount::LEN, &program),
        token_ix::initialize_account3(&program, &account.pubkey(), mint, owner).expect("initialize_account3"),
    ];
    if amount > 0 {
        ixs.push(
            token_ix::mint_to(&program, mint, &account.pubkey(), &mint_authority.pubkey(), &[], amount)
                .expect("mint_to"),
        );
    }
    let mut signers = vec![payer, &account];
    if mint_authority.pubkey() != payer.pubkey() {
        signers.push(mint_authority);
    }
    ledger.send(&ixs, &signers).expect("create token account");
    account.pubkey()
}

pub fn token_balance(ledger: &dyn Ledger, account: &Pubkey) -> u64 {
    let data = ledger.account_data(account).expect("token account exists");
    TokenAccount::unpack(&data[..TokenAccount::LEN]).expect("token account").amount
}

/// The instructions that create a market's book and fill queue accounts and the market.
pub fn create_market_ixs(
    ledger: &dyn Ledger,
    payer: &Keypair,
    authority: &Pubkey,
    base_mint: Pubkey,
    quote_mint: Pubkey,
    args: CreateMarketArgs,
) -> (MarketKeys, [Keypair; 3], Vec<Instruction>) {
    let (bids, asks, queue) = (Keypair::new(), Keypair::new(), Keypair::new());
    let keys = MarketKeys::new(base_mint, quote_mint, args.market_id, bids.pubkey(), asks.pubkey(), queue.pubkey());
    // Each mint's token program is whichever program owns it (Token or Token-2022).
    let program_of = |mint: &Pubkey| ledger.owner(mint).unwrap_or(TOKEN_PROGRAM);
    let ixs = vec![
        ix::create_program_account(&payer.pubkey(), &bids.pubkey(), ledger.rent_exempt(BookSide::LEN), BookSide::LEN),
        ix::create_program_account(&payer.pubkey(), &asks.pubkey(), ledger.rent_exempt(BookSide::LEN), BookSide::LEN),
        ix::create_program_account(
            &payer.pubkey(),
            &queue.pubkey(),
            ledger.rent_exempt(FillQueue::LEN),
            FillQueue::LEN,
        ),
        ix::create_market(payer.pubkey(), *authority, &keys, program_of(&base_mint), program_of(&quote_mint), args),
    ];
    (keys, [bids, asks, queue], ixs)
}

pub fn create_market(
    ledger: &mut dyn Ledger,
    payer: &Keypair,
    base_mint: Pubkey,
    quote_mint: Pubkey,
    args: CreateMarketArgs,
) -> (MarketKeys, Landed) {
    let (keys, [bids, asks, queue], ixs) =
        create_market_ixs(ledger, payer, &payer.pubkey(), base_mint, quote_mint, args);
    let landed = ledger.send(&ixs, &[payer, &bids, &asks, &queue]).expect("create market");
    (keys, landed)
}

pub fn market(ledger: &dyn Ledger, key: &Pubkey) -> Market {
    decode(&ledger.account_data(key).expect("market exists")).expect("market decodes")
}

pub fn trader_account(ledger: &dyn Ledger, market: &Pubkey, owner: &Pubkey) -> Trader {
    decode(&ledger.account_data(&pda::trader(market, owner)).expect("trader exists")).expect("trader decodes")
}

/// The balances a transaction's events carry equal the trader accounts' state after
/// it: for each trader, its last entry (every event that moves funds carries them).
/// An account the transaction closed is skipped.
pub fn assert_carried_balances(ledger: &dyn Ledger, events: &[SolexEvent]) {
    let mut last = std::collections::BTreeMap::new();
    for (trader, balances) in events.iter().flat_map(SolexEvent::balances) {
        last.insert(trader, balances);
    }
    for (trader, carried) in last {
        let Some(data) = ledger.account_data(&trader) else { continue };
        let account: Trader = decode(&data).expect("trader decodes");
        assert_eq!(carried, Balances::of(&account), "the balances the events carry for {trader}: {events:?}");
    }
}

pub fn book(ledger: &dyn Ledger, key: &Pubkey) -> Box<BookSide> {
    decode_boxed(&ledger.account_data(key).expect("book exists")).expect("book decodes")
}

pub fn fill_queue(ledger: &dyn Ledger, key: &Pubkey) -> Box<FillQueue> {
    decode_boxed(&ledger.account_data(key).expect("fill queue exists")).expect("fill queue decodes")
}

/// Plain market arguments: lot 1_000 base atoms, tick 10 quote atoms, no fees, no minimum.
pub fn market_args(market_id: u64) -> CreateMarketArgs {
    CreateMarketArgs {
        market_id,
        base_lot_size: 1_000,
        quote_tick_size: 10,
        min_order_lots: 0,
        maker_fee_bps: 0,
        taker_fee_bps: 0,
    }
}

/// Open orders each test wallet's trader account has room for.
pub const TEST_MAX_ORDERS: u16 = 32;

/// A wallet with lamports, base and quote token accounts, and a trader account on a market.
pub struct Wallet {
    pub keypair: Keypair,
    pub base: Pubkey,
    pub quote: Pubkey,
}

// Test keypairs are cloned freely (a bot thread gets its own copy).
impl Clone for Wallet {
    fn clone(&self) -> Self {
        Self { keypair: self.keypair.insecure_clone(), base: self.base, quote: self.quote }
    }
}

impl Clone for TestMarket {
    fn clone(&self) -> Self {
        Self {
            keys: self.keys,
            mint_authority: self.mint_authority.insecure_clone(),
            base_program: self.base_program,
            quote_program: self.quote_program,
        }
    }
}

impl Wallet {
    pub fn pubkey(&self) -> Pubkey {
        self.keypair.pubkey()
    }
}

/// A market with its mints, the mint authority, and helpers for the common steps.
pub struct TestMarket {
    pub keys: MarketKeys,
    pub mint_authority: Keypair,
    pub base_program: Pubkey,
    pub quote_program: Pubkey,
}

impl TestMarket {
    /// Two fresh SPL Token mints (base 9 decimals, quote 6) and a market over them.
    pub fn create(ledger: &mut dyn Ledger, args: CreateMarketArgs) -> (Self, Landed) {
        Self::create_with(ledger, args, TOKEN_PROGRAM, TOKEN_PROGRAM)
    }

    /// Like `create`, with each mint under the given token program (Token or Token-2022).
    pub fn create_with(
        ledger: &mut dyn Ledger,
        args: CreateMarketArgs,
        base_program: Pubkey,
        quote_program: Pubkey,
    ) -> (Self, Landed) {
        let mint_authority = Keypair::new();
        ledger.airdrop(&mint_authority.pubkey(), 100_000_000_000);
        let base = create_mint_at(ledger, &mint_authority, &Keypair::new(), 9, base_program);
        let quote = create_mint_at(ledger, &mint_authority, &Keypair::new(), 6, quote_program);
        let (keys, landed) = create_market(ledger, &mint_authority, base, quote, args);
        (Self { keys, mint_authority, base_program, quote_program }, landed)
    }

    /// The token program of `mint` (the market's base or quote mint).
    pub fn program_of(&self, mint: &Pubkey) -> Pubkey {
        if *mint == self.keys.base_mint {
            self.base_program
        } else {
            self.quote_program
        }
    }

    /// `keypair` funded with SOL and `base`/`quote` tokens in new token accounts, with a
    /// trader account; also returns the `create_trader` transaction (its event).
    pub fn wallet_from(&self, ledger: &mut dyn Ledger, keypair: Keypair, base: u64, quote: u64) -> (Wallet, Landed) {
        ledger.airdrop(&keypair.pubkey(), 10_000_000_000);
        let owner = keypair.pubkey();
        let base = create_token_account(
            ledger,
            &self.mint_authority,
            &self.keys.base_mint,
            &owner,
            &self.mint_authority,
            base,
        );
        let quote = create_token_account(
            ledger,
            &self.mint_authority,
            &self.keys.quote_mint,
            &owner,
            &self.mint_authority,
            quote,
        );
        let created = ledger
            .send(&[ix::create_trader(owner, owner, self.keys.market, TEST_MAX_ORDERS)], &[&keypair])
            .expect("create trader");
        (Wallet { keypair, base, quote }, created)
    }

    pub fn wallet(&self, ledger: &mut dyn Ledger, base: u64, quote: u64) -> Wallet {
        self.wallet_from(ledger, Keypair::new(), base, quote).0
    }

    pub fn deposit_ix(&self, w: &Wallet, mint: Pubkey, amount: u64) -> Instruction {
        let wallet = if mint == self.keys.base_mint { w.base } else { w.quote };
        ix::deposit(w.pubkey(), &self.keys, wallet, mint, self.program_of(&mint), amount)
    }

    pub fn withdraw_ix(&self, w: &Wallet, mint: Pubkey, amount: u64) -> Instruction {
        let wallet = if mint == self.keys.base_mint { w.base } else { w.quote };
        ix::withdraw(w.pubkey(), &self.keys, wallet, mint, self.program_of(&mint), amount)
    }

    /// Conservation, checked independently of the program's arithmetic: each vault
    /// holds exactly the traders' available + locked balances, plus (quote) the
    /// unswept fees, corrected for fills still in the queue (whose taker side is
    /// settled and maker side is not). With an empty queue this is the plain
    /// invariant: vault = sum(available + locked) + fees.
    pub fn assert_conserved(&self, ledger: &dyn Ledger, wallets: &[&Wallet]) {
        let (mut base, mut quote) = (0i128, 0i128);
        for w in wallets {
            // A closed trader account held nothing when it closed.
            if ledger.account_data(&pda::trader(&self.keys.market, &w.pubkey())).is_none() {
                continue;
            }
            let t = trader_account(ledger, &self.keys.market, &w.pubkey());
            base += (t.base_available + t.base_locked) as i128;
            quote += (t.quote_available + t.quote_locked) as i128;
        }
        let m = market(ledger, &self.keys.market);
        quote += m.fees_accrued as i128;
        // A batch being executed holds the fees it has charged until its last step, and
        // owes its sealed orders not yet settled what the clearing gave them (the
        // resting side's fills are queued, as a taker's would be). While resting
        // orders remain to be taken their makers' fees are not known yet: no check then.
        if m.is_batch() {
            let data = ledger.account_data(&m.auction).expect("auction exists");
            let state = solex_sdk::auction::AuctionState::decode(&data).expect("auction decodes");
            for (h, records) in state.auction.batches.iter().zip(&state.records) {
                if h.status == 0 {
                    continue;
                }
                if h.bid_sweep > 0 || h.ask_sweep > 0 {
                    return;
                }
                quote += h.fees as i128;
                for r in records.iter().filter(|r| r.status() == solex_sdk::auction::RecordStatus::Revealed) {
                    let (b, q) = (
                        m.base_atoms(r.filled_lots).unwrap() as i128,
                        m.notional(r.filled_lots, h.price).unwrap() as i128,
                    );
                    match r.side() {
                        Side::Bid => (base, quote) = (base + b, quote - q),
                        Side::Ask => (base, quote) = (base - b, quote + q),
                    }
                }
            }
        }
        for e in fill_queue(ledger, &self.keys.fill_queue).pending() {
            if e.kind() != QueueEventKind::Fill {
                continue; // an expired order's funds are still in its maker's locked balance
            }
            let (b, q, fee) = (e.base_atoms as i128, e.quote_atoms as i128, e.maker_fee as i128);
            match e.side() {
                // The maker's locked base already went to the taker; its quote is owed to it.
                Side::Ask => {
                    base -= b;
                    quote += q - fee;
                }
                // The maker's locked quote already went to the taker; its base is owed to it.
                Side::Bid => {
                    base += b;
                    quote -= q + fee;
                }
            }
        }
        assert_eq!(token_balance(ledger, &self.keys.base_vault) as i128, base, "base vault not conserved");
        assert_eq!(token_balance(ledger, &self.keys.quote_vault) as i128, quote, "quote vault not conserved");
    }

    /// Runs `consume_events` until the queue is empty; returns the transactions.
    pub fn consume_all(&self, ledger: &mut dyn Ledger, cranker: &Keypair) -> Vec<Landed> {
        let mut landed = Vec::new();
        while let Some(ix) = self.next_consume_ix(ledger) {
            let consumed = ledger.send(&[ix], &[cranker]).expect("consume_events");
            assert_carried_balances(ledger, &consumed.events);
            landed.push(consumed);
        }
        landed
    }

    /// A `consume_events` for the next 8 queued events (None when the queue is empty).
    pub fn next_consume_ix(&self, ledger: &dyn Ledger) -> Option<Instruction> {
        let queue = fill_queue(ledger, &self.keys.fill_queue);
        let makers: Vec<Pubkey> = queue.pending().take(8).map(|e| e.maker).collect();
        (queue.count > 0).then(|| ix::consume_events(&self.keys, &makers, queue.head_seq, 8))
    }

    pub fn settle_ix(&self, w: &Wallet) -> Instruction {
        ix::settle_funds(&self.keys, w.pubkey(), w.base, w.quote, self.base_program, self.quote_program)
    }
}

/// Raw data of accounts, to prove a rejected transaction changed nothing.
pub struct Snapshot(Vec<(Pubkey, Option<Vec<u8>>, u64)>);

impl Snapshot {
    pub fn take(ledger: &dyn Ledger, keys: &[Pubkey]) -> Self {
        Self(keys.iter().map(|k| (*k, ledger.account_data(k), ledger.lamports(k))).collect())
    }

    pub fn assert_unchanged(&self, ledger: &dyn Ledger) {
        for (key, data, lamports) in &self.0 {
            assert!(ledger.account_data(key) == *data, "account {key} data changed");
            assert_eq!(ledger.lamports(key), *lamports, "account {key} lamports changed");
        }
    }
}

/// What refused a transaction, by name, proving it is a defined error: a Solex
/// error (`WouldCross`), an Anchor framework error the program logged by number
/// (`anchor ConstraintSeeds`), a token program's error that a CPI returned
/// (`token error 1`), or the runtime's (`runtime MissingRequiredSignature`). Panics
/// on a custom code nobody defined.
pub fn refusal(r: &crate::ledger::Rejected) -> String {
    let logs = r.logs.join("\n");
    // The innermost failure is logged first.
    let failed = r.logs.iter().find(|l| l.contains(" failed: ")).and_then(|l| l.split(' ').nth(1)).unwrap_or("");
    match r.custom_code {
        Some(code) if failed == solex::ID.to_string() && code >= 6000 => {
            format!(
                "{:?}",
                solex_sdk::errors::solex_error(code).unwrap_or_else(|| panic!("undefined code {code}\n{logs}"))
            )
        }
        Some(code) if failed == solex::ID.to_string() => {
            assert!(logs.contains(&format!("Error Number: {code}.")), "code {code} is not an Anchor error\n{logs}");
            let name = logs.split("Error Code: ").nth(1).and_then(|s| s.split('.').next()).unwrap_or("?");
            format!("anchor {name}")
        }
        Some(code) if failed == TOKEN_PROGRAM.to_string() || failed == spl_token_2022_interface::ID.to_string() => {
            format!("token error {code}")
        }
        Some(code) => panic!("custom code {code} from an unexpected program {failed:?}\n{logs}"),
        // "InstructionError(0, MissingAccount)" or "AccountNotFound": the error's name.
        None => {
            let e = r
                .error
                .strip_prefix("InstructionError(")
                .and_then(|e| e.split_once(", "))
                .map_or(&r.error[..], |(_, e)| e);
            format!("runtime {}", e.split(['(', ')', ' ', ':']).next().unwrap_or("?"))
        }
    }
}

/// Asserts a transaction was rejected with this program error.
pub fn assert_program_error(result: crate::ledger::TxResult, expected: solex::error::SolexError) {
    match result {
        Ok(landed) => panic!("expected {expected:?}, but the transaction landed: {:?}", landed.logs),
        Err(rejected) => assert_eq!(
            rejected.custom_code,
            Some(u32::from(expected)),
            "expected {expected:?} ({}), got {}\n{}",
            u32::from(expected),
            rejected.error,
            rejected.logs.join("\n")
        ),
    }
}
