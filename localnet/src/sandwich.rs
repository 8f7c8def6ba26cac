//! A sandwich bot, to show what batch markets are for (ADR 8). It sits where a
//! slot leader, a bundle searcher or a malicious RPC node sits: it sees each
//! transaction before it lands and decides what lands first. Seeing a victim's
//! large buy, it buys the asks the victim was about to take, offers them back one
//! tick below the next ask, forwards the victim's transaction (which now fills
//! against the bot at the higher price) and cancels what is left of its offer.
//!
//! On a continuous market the victim's order is in the clear and it profits. On a
//! batch market the victim's order is sealed: the bot sees only its collateral (an
//! upper bound on what it spends), so it places the same trades sized to that
//! bound, in the same batch; but everyone in a batch trades at one price, so its
//! buy and its offer meet at the price the victim pays, and it keeps only its fees
//! to pay. `earned` values what it ends with at the last price it traded at.
use anchor_lang::{AnchorDeserialize, Discriminator};
use solana_transaction::Transaction;
use solex_sdk::auction::SealedOrder;
use solex_sdk::instructions::{self as ix};
use solex_sdk::{OrderType, PlaceOrderArgs, Side};

use crate::auction::{Committee, TestAuction};
use crate::ledger::Ledger;
use crate::rpc::RpcClient;
use crate::scenario::{book, market, trader_account, TestMarket, Wallet};

/// What one attack did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The bot's gain in quote atoms: its quote balance's change, plus its base
    /// balance's change valued at the price it last traded at.
    pub earned: i128,
    /// Quote atoms the victim paid per lot it bought (fees included), and lots bought.
    pub victim_paid: u64,
    pub victim_lots: u64,
}

/// A bot with a funded trader account on one market.
pub struct SandwichBot {
    pub wallet: Wallet,
}

/// The asks the victim's bid would take: (price, lots) best first, until `qty` lots or its limit.
fn levels_taken(asks: &[(u64, u64)], qty: u64, limit: u64) -> Vec<(u64, u64)> {
    let mut left = qty;
    let mut out = Vec::new();
    for &(price, lots) in asks.iter().take_while(|(p, _)| *p <= limit) {
        if left == 0 {
            break;
        }
        let q = lots.min(left);
        out.push((price, q));
        left -= q;
    }
    out
}

/// The book's ask levels, best first.
fn ask_levels(chain: &RpcClient, m: &TestMarket) -> Vec<(u64, u64)> {
    solex_sdk::accounts::book_levels(&book(chain, &m.keys.asks), 64).into_iter().map(|[p, q]| (p, q)).collect()
}

impl SandwichBot {
    fn balances(&self, chain: &RpcClient, m: &TestMarket) -> (i128, i128) {
        let t = trader_account(chain, &m.keys.market, &self.wallet.pubkey());
        ((t.quote_available + t.quote_locked) as i128, (t.base_available + t.base_locked) as i128)
    }

    fn send(&self, chain: &mut RpcClient, ixs: &[solex_sdk::Instruction]) {
        chain.send(ixs, &[&self.wallet.keypair]).unwrap_or_else(|r| panic!("bot: {}", r.describe()));
    }

    /// What it does with a victim's transaction on a continuous market: sandwich a
    /// bid, then forward it.
    pub fn relay_continuous(&self, chain: &mut RpcClient, m: &TestMarket, victim: &Transaction) {
        let bid = victim.message.instructions.iter().find_map(|i| {
            let data = &i.data;
            (data.len() > 8 && data[..8] == *solex::instruction::PlaceOrder::DISCRIMINATOR)
                .then(|| solex::instruction::PlaceOrder::deserialize(&mut &data[8..]).ok())
                .flatten()
                .map(|p| p.args)
                .filter(|a| a.side == Side::Bid)
        });
        if let Some(bid) = bid {
            let asks = ask_levels(chain, m);
            let taken = levels_taken(&asks, bid.qty_lots, bid.price);
            let lots: u64 = taken.iter().map(|(_, q)| q).sum();
            let next = asks.get(taken.len()).map_or(bid.price, |(p, _)| (p - 1).min(bid.price));
            let me = self.wallet.pubkey();
            let cost: u64 = taken.iter().map(|(p, q)| p * q).sum();
            if let (Some(&(top, _)), true) = (taken.last(), next * lots > cost) {
                let buy = PlaceOrderArgs {
                    order_type: OrderType::ImmediateOrCancel,
                    ..PlaceOrderArgs::limit(Side::Bid, top, lots, 1)
                };
                let offer = PlaceOrderArgs {
                    order_type: OrderType::PostOnly,
                    ..PlaceOrderArgs::limit(Side::Ask, next, lots, 2)
                };
                self.send(chain, &[ix::place_order(me, &m.keys, buy), ix::place_order(me, &m.keys, offer)]);
            }
        }
        chain.relay(victim).expect("relay").expect("the victim's order lands");
        let me = self.wallet.pubkey();
        let _ = chain.send(&[ix::cancel_all(me, me, &m.keys, None, 32)], &[&self.wallet.keypair]);
    }

    /// The same on a batch market, where the victim's order is a sealed submission:
    /// only its collateral is readable.
    pub fn relay_batch(&self, chain: &mut RpcClient, c: &Committee, a: &TestAuction, victim: &Transaction) {
        let sealed = victim.message.instructions.iter().find_map(|i| {
            let data = &i.data;
            (data.len() > 8 && data[..8] == *solex::instruction::SubmitSealed::DISCRIMINATOR)
                .then(|| solex::instruction::SubmitSealed::deserialize(&mut &data[8..]).ok())
                .flatten()
                .map(|s| s.args)
        });
        let m = &a.m;
        if let Some(s) = sealed.filter(|s| s.base_envelope == 0) {
            // A quote-only collateral: a bid of at most this notional. Size it at the best ask.
            let asks = ask_levels(chain, m);
            let mk = market(chain, &m.keys.market);
            let unit = asks.first().map_or(1, |(p, _)| mk.notional(1, *p).unwrap_or(1).max(1));
            let qty = s.quote_envelope / unit;
            let taken = levels_taken(&asks, qty, u64::MAX);
            let lots: u64 = taken.iter().map(|(_, q)| q).sum();
            if let (Some(&(top, _)), true) = (taken.last(), lots > 0) {
                let next = asks.get(taken.len()).map_or(top + 1, |(p, _)| p - 1).max(top);
                let buy = SealedOrder {
                    side: Side::Bid,
                    order_type: OrderType::ImmediateOrCancel,
                    price: top,
                    qty_lots: lots,
                    client_order_id: 1,
                    expiry: Default::default(),
                };
                let me = self.wallet.pubkey();
                let offer = PlaceOrderArgs {
                    order_type: OrderType::PostOnly,
                    ..PlaceOrderArgs::limit(Side::Ask, next, lots, 2)
                };
                self.send(chain, &[a.seal_ix(chain, c, &self.wallet, buy, None), ix::place_order(me, &m.keys, offer)]);
            }
        }
        chain.relay(victim).expect("relay").expect("the victim's order lands");
    }

    /// After the market has settled: cancels what is left of the bot's offers.
    pub fn withdraw_offers(&self, chain: &mut RpcClient, m: &TestMarket) {
        let me = self.wallet.pubkey();
        let _ = chain.send(&[ix::cancel_all(me, me, &m.keys, None, 32)], &[&self.wallet.keypair]);
    }
}

/// The book every run starts from: a bid of 10 lots at 95, asks of 10 lots at 100,
/// 101, 105 and 108 ticks.
pub const ASKS: [u64; 4] = [100, 101, 105, 108];
pub const BID: u64 = 95;
/// The victim buys 20 lots, with a limit well above the book (a "market" buy).
pub const VICTIM_LOTS: u64 = 20;
pub const VICTIM_LIMIT: u64 = 110;

/// Quote and base of a trader account, summed over available and locked.
pub fn holdings(chain: &RpcClient, m: &TestMarket, w: &Wallet) -> (i128, i128) {
    let t = trader_account(chain, &m.keys.market, &w.pubkey());
    ((t.quote_available + t.quote_locked) as i128, (t.base_available + t.base_locked) as i128)
}

/// One market of the demonstration: continuous (`auction` None) or a batch market.
pub struct Run {
    pub m: TestMarket,
    pub auction: Option<TestAuction>,
    pub maker: Wallet,
    pub victim: Wallet,
    pub bot: Option<SandwichBot>,
}

fn funded(chain: &mut RpcClient, m: &TestMarket) -> Wallet {
    let w = m.wallet(chain, 1 << 40, 1 << 40);
    let deposits = [m.deposit_ix(&w, m.keys.base_mint, 1 << 36), m.deposit_ix(&w, m.keys.quote_mint, 1 << 36)];
    chain.send(&deposits, &[&w.keypair]).expect("deposits");
    w
}

/// The demo market: lots of 1,000 base atoms, ticks of 10 quote atoms, a 1 bp maker
/// rebate and a 4 bp taker fee.
pub fn market_args(market_id: u64) -> solex_sdk::CreateMarketArgs {
    solex_sdk::CreateMarketArgs {
        market_id,
        base_lot_size: 1_000,
        quote_tick_size: 10,
        min_order_lots: 1,
        maker_fee_bps: -1,
        taker_fee_bps: 4,
    }
}

impl Run {
    /// A market with the demo book, a victim and, if `attacked`, a bot.
    pub fn new(
        chain: &mut RpcClient,
        batch: Option<(&Committee, solex::CreateAuctionArgs)>,
        id: u64,
        attacked: bool,
    ) -> Self {
        let (m, auction) = match batch {
            None => (TestMarket::create(chain, market_args(id)).0, None),
            Some((c, rules)) => {
                let a = TestAuction::create(chain, c, market_args(id), rules, 16).0;
                (a.m.clone(), Some(a))
            }
        };
        let (maker, victim) = (funded(chain, &m), funded(chain, &m));
        let bot = attacked.then(|| SandwichBot { wallet: funded(chain, &m) });
        let post = |side, price| {
            let args = PlaceOrderArgs { order_type: OrderType::PostOnly, ..PlaceOrderArgs::limit(side, price, 10, 0) };
            ix::place_order(maker.pubkey(), &m.keys, args)
        };
        let mut ixs: Vec<_> = ASKS.iter().map(|p| post(Side::Ask, *p)).collect();
        ixs.push(post(Side::Bid, BID));
        chain.send(&ixs, &[&maker.keypair]).expect("the book");
        Self { m, auction, maker, victim, bot }
    }

    /// The victim's buy as it would send it: signed, not sent.
    fn victim_tx(&self, chain: &RpcClient, c: Option<&Committee>) -> Transaction {
        let ixs = match (&self.auction, c) {
            (Some(a), Some(c)) => {
                let order = SealedOrder {
                    side: Side::Bid,
                    order_type: OrderType::ImmediateOrCancel,
                    price: VICTIM_LIMIT,
                    qty_lots: VICTIM_LOTS,
                    client_order_id: 7,
                    expiry: Default::default(),
                };
                vec![a.seal_ix(chain, c, &self.victim, order, None)]
            }
            _ => {
                let args = PlaceOrderArgs {
                    order_type: OrderType::ImmediateOrCancel,
                    ..PlaceOrderArgs::limit(Side::Bid, VICTIM_LIMIT, VICTIM_LOTS, 7)
                };
                vec![ix::place_order(self.victim.pubkey(), &self.m.keys, args)]
            }
        };
        let blockhash = chain.latest_blockhash().expect("blockhash");
        Transaction::new_signed_with_payer(&ixs, Some(&self.victim.pubkey()), &[&self.victim.keypair], blockhash)
    }

    /// Sends the victim's buy through the bot (if any), waits until everything is
    /// settled (`settled` tells), and reports.
    pub fn attack(&self, chain: &mut RpcClient, c: Option<&Committee>, settled: impl Fn(&RpcClient) -> bool) -> Report {
        let bot_before = self.bot.as_ref().map_or((0, 0), |b| holdings(chain, &self.m, &b.wallet));
        let before = (bot_before, holdings(chain, &self.m, &self.victim));
        // A batch market: start at a fresh batch, so the bot's orders and the victim's share it.
        if let (Some(a), Some(c)) = (&self.auction, c) {
            let (_, close, _) = a.current(chain, c);
            chain.wait_until_slot(close);
        }
        let victim = self.victim_tx(chain, c);
        match (&self.bot, &self.auction, c) {
            (Some(bot), Some(a), Some(c)) => bot.relay_batch(chain, c, a, &victim),
            (Some(bot), None, _) => bot.relay_continuous(chain, &self.m, &victim),
            _ => {
                chain.relay(&victim).expect("relay").expect("the victim's order lands");
            }
        }
        crate::exchange::wait("the market settled", std::time::Duration::from_secs(90), || settled(chain));
        if let Some(bot) = &self.bot {
            bot.withdraw_offers(chain, &self.m);
        }
        let dummy = SandwichBot { wallet: self.maker.clone() };
        let bot = self.bot.as_ref().unwrap_or(&dummy);
        // What the bot holds is worth what the book's best bid pays for it.
        let mark = book(chain, &self.m.keys.bids).best().map_or(BID, |o| o.price);
        let mut r = report(&self.m, chain, bot, &self.victim, before, mark);
        if self.bot.is_none() {
            r.earned = 0;
        }
        r
    }
}

/// The report of a run, from the holdings before and after, valuing base at `mark`.
pub fn report(
    m: &TestMarket,
    chain: &RpcClient,
    bot: &SandwichBot,
    victim: &Wallet,
    before: ((i128, i128), (i128, i128)),
    mark: u64,
) -> Report {
    let mk = market(chain, &m.keys.market);
    let (bot_q, bot_b) = bot.balances(chain, m);
    let (vic_q, vic_b) = holdings(chain, m, victim);
    let ((bot_q0, bot_b0), (vic_q0, vic_b0)) = before;
    let lot = mk.base_lot_size as i128;
    let per_lot = mk.notional(1, mark).unwrap() as i128;
    let victim_lots = ((vic_b - vic_b0) / lot) as u64;
    Report {
        earned: (bot_q - bot_q0) + (bot_b - bot_b0) / lot * per_lot,
        victim_paid: if victim_lots == 0 { 0 } else { ((vic_q0 - vic_q) / victim_lots as i128) as u64 },
        victim_lots,
    }
}

/// The four runs of the demonstration, each on a market of its own with the same book.
#[derive(Debug, Clone)]
pub struct Demo {
    pub continuous_alone: Report,
    pub continuous_attacked: Report,
    pub batch_alone: Report,
    pub batch_attacked: Report,
}

/// Slots per keyper round, and per batch of the demonstration's batch markets
/// (room for the bot's transactions and the victim's in one batch).
pub const DEMO_ROUND: u64 = 4;
pub const DEMO_BATCH: u64 = 16;

/// Runs the demonstration on a validator: a 2-of-3 committee of `solex-keyper`
/// processes, `solex-crank`, and the victim's buy on a continuous and on a batch
/// market, each without and with the bot. Logs go to `logs`.
pub fn demo(rpc_url: &str, ws_url: &str, logs: &std::path::Path) -> Demo {
    use crate::auction::Keypers;
    let mut chain = RpcClient::new(rpc_url);
    let payer = solana_keypair::Keypair::new();
    chain.airdrop(&solana_signer::Signer::pubkey(&payer), 100_000_000_000);
    let committee = Committee::create(&mut chain, &payer, 3, 2, DEMO_ROUND, 16, 64);
    let keypers = Keypers::start(rpc_url, &committee, logs, 8);
    Keypers::wait_keys_ahead(&chain, &committee, 12);
    let rules = solex::CreateAuctionArgs { batch_slots: DEMO_BATCH, reveal_timeout_slots: 40, sealed_fee: 100 };
    let runs = [
        Run::new(&mut chain, None, 1, false),
        Run::new(&mut chain, None, 2, true),
        Run::new(&mut chain, Some((&committee, rules)), 3, false),
        Run::new(&mut chain, Some((&committee, rules)), 4, true),
    ];
    let crank_key = logs.join("crank.json");
    solana_keypair::write_keypair_file(&payer, &crank_key).expect("keypair file");
    let markets: Vec<_> = runs.iter().map(|r| r.m.keys.market).collect();
    let mut crank =
        crate::services::crank_for_markets(rpc_url, ws_url, &crank_key, &markets, Some(&logs.join("crank.log")));
    let reports: Vec<Report> = runs
        .iter()
        .map(|run| {
            let settled = |chain: &RpcClient| {
                let queue_empty = crate::scenario::fill_queue(chain, &run.m.keys.fill_queue).count == 0;
                let batch_done = run.auction.as_ref().is_none_or(|a| {
                    let s = a.state(chain);
                    s.auction.batches_cleared >= 1 && !s.auction.batches.iter().any(|h| h.unfinished())
                });
                queue_empty && batch_done
            };
            let c = run.auction.as_ref().map(|_| &committee);
            run.attack(&mut chain, c, settled)
        })
        .collect();
    crate::services::terminate(&mut crank);
    drop(keypers);
    Demo {
        continuous_alone: reports[0].clone(),
        continuous_attacked: reports[1].clone(),
        batch_alone: reports[2].clone(),
        batch_attacked: reports[3].clone(),
    }
}

impl Demo {
    /// The table the benchmark prints and the README quotes.
    pub fn table(&self) -> String {
        let row =
            |name: &str, r: &Report| format!("| {name} | {} | {} | {} |\n", r.earned, r.victim_lots, r.victim_paid);
        let mut t = String::from("| market | bot earned (quote atoms) | victim bought (lots) | victim paid per lot (quote atoms, fees included) |\n|---|---:|---:|---:|\n");
        t += &row("continuous, no bot", &self.continuous_alone);
        t += &row("continuous, sandwiched", &self.continuous_attacked);
        t += &row("batch, no bot", &self.batch_alone);
        t += &row("batch, bot tries", &self.batch_attacked);
        t
    }
}
