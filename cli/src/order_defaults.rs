//! The CLI, the transaction API and `indexer/openapi.json` agree on every order
//! default and on the vocabulary's names (and so do the web page and the
//! database's checks): each is read from where it is declared, the CLI's through
//! clap's own description of `solex place`, and the orders each front end builds
//! from a minimal request are compared.
use clap::{CommandFactory, Parser};
use serde_json::{json, Value};
use solex_sdk::{Named, OrderType, PlaceOrderArgs, SelfTradeMode, Side};

use super::{place_args, Cli, Command};

const OPENAPI: &str = include_str!("../../indexer/openapi.json");
const WEB_PAGE: &str = include_str!("../../indexer/web/app.js");
const MIGRATION: &str = include_str!("../../migrations/0007_typed_order_columns.sql");

/// What `solex place M bid --price 7 --qty 3 <extra>` sends.
fn cli(extra: &[&str]) -> PlaceOrderArgs {
    let argv = [&["solex", "place", "11111111111111111111111111111111", "bid", "--price", "7", "--qty", "3"], extra];
    let parsed = Cli::try_parse_from(argv.concat()).unwrap_or_else(|e| panic!("{extra:?}: {e}"));
    let Command::Place { side, price, qty, ui, order, .. } = parsed.command else { unreachable!() };
    assert!(!ui);
    place_args(side, &price, &qty, None, &order).unwrap()
}

/// What `POST /tx/place {"side": "bid", "price": 7, "qty": 3, <extra>}` builds.
fn api(extra: Value) -> PlaceOrderArgs {
    let mut body = json!({"market": "11111111111111111111111111111111", "owner": "11111111111111111111111111111111",
        "side": "bid", "price": 7, "qty": 3});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    solex_indexer::txapi::place_args(&body).unwrap_or_else(|_| panic!("the API refused {body}"))
}

/// The `/tx/place` body's properties in openapi.json.
fn documented() -> serde_json::Map<String, Value> {
    let doc: Value = serde_json::from_str(OPENAPI).unwrap();
    let schema = &doc["paths"]["/tx/place"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    schema["properties"].as_object().unwrap().clone()
}

/// The CLI's `place` arguments by their JSON field name (`--client-id` is `client_id`).
fn cli_place_args() -> Vec<(String, clap::Arg)> {
    let cmd = Cli::command();
    let place = cmd.find_subcommand("place").unwrap().clone();
    place.get_arguments().map(|a| (a.get_long().unwrap_or(a.get_id().as_str()).replace('-', "_"), a.clone())).collect()
}

fn default_of(arg: &clap::Arg) -> Option<String> {
    match arg.get_default_values() {
        [] => None,
        [one] => Some(one.to_str().unwrap().to_string()),
        many => panic!("{many:?}"),
    }
}

/// The value as the CLI writes it on its command line.
fn word(v: &Value) -> String {
    v.as_str().map(String::from).unwrap_or_else(|| v.to_string())
}

#[test]
fn the_cli_the_transaction_api_and_openapi_agree_on_every_order_default() {
    // A minimal request means the same order on both front ends: the program crate's defaults.
    let implicit = PlaceOrderArgs::limit(Side::Bid, 7, 3, 0);
    assert_eq!(cli(&[]), implicit);
    assert_eq!(api(json!({})), implicit);
    assert_eq!(implicit.max_fills, solex_sdk::MAX_BATCH, "the fill limit users were told");

    let props = documented();
    let required = ["market", "owner", "side", "price", "qty"];
    let optional: Vec<&String> = props.keys().filter(|k| !required.contains(&k.as_str())).collect();
    let flags = cli_place_args();
    let flag = |name: &str| flags.iter().find(|(n, _)| n == name).map(|(_, a)| a);
    let mut checked = 0;
    for name in &optional {
        let documented_default = props[name.as_str()].get("default");
        let arg = flag(name).unwrap_or_else(|| panic!("openapi.json documents {name}; the CLI has no --{name}"));
        let cli_default = default_of(arg);
        assert_eq!(cli_default, documented_default.map(word), "{name}: the CLI's default and openapi.json's");
        if let Some(d) = documented_default {
            // Saying the documented default out loud changes nothing, on either front end.
            assert_eq!(api(json!({ name.as_str(): d })), implicit, "{name} = {d} on the API");
            let long = format!("--{}", arg.get_long().unwrap());
            assert_eq!(cli(&[&long, &word(d)]), implicit, "{long} {d} on the CLI");
            checked += 1;
        }
    }
    assert_eq!(checked, 4, "type, client_id, self_trade and max_fills have defaults");
    // No option exists on one front end only. (Sealing is the client's: the
    // transaction API never sees a batch market's plaintext order, so `place
    // --sealed` and its collateral are the CLI's alone.)
    let mut cli_options: Vec<&str> = flags
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| {
            ![
                "market",
                "side",
                "price",
                "qty",
                "ui",
                "sealed",
                "collateral_base",
                "collateral_quote",
                "exact_collateral",
                "hide_side",
            ]
            .contains(n)
        })
        .collect();
    let mut api_options: Vec<&str> = optional.iter().map(|s| s.as_str()).collect();
    cli_options.sort();
    api_options.sort();
    assert_eq!(cli_options, api_options);

    // The options without a default mean no limit and no expiry; set, both front ends set them alike.
    let set = api(json!({"max_quote": "900", "expire_slot": 55, "max_fills": 4, "client_id": 8, "type": "ioc",
        "self_trade": "abort"}));
    let flags = ["--max-quote", "900", "--expire-slot", "55", "--max-fills", "4", "--client-id", "8"];
    assert_eq!(cli(&[&flags[..], &["--type", "ioc", "--self-trade", "abort"]].concat()), set);
    assert_eq!(
        (set.max_quote_atoms, set.expiry, set.max_fills, set.client_order_id, set.order_type, set.self_trade),
        (900, solex_sdk::Expiry::Slot(55), 4, 8, OrderType::ImmediateOrCancel, SelfTradeMode::Abort)
    );
}

fn names<T: Named>() -> Vec<String> {
    T::NAMES.iter().map(|n| n.to_string()).collect()
}

/// A JavaScript array of strings declared as `const NAME = [...]` in the web page.
fn page_list(name: &str) -> Vec<String> {
    let line = WEB_PAGE.lines().find(|l| l.starts_with(&format!("const {name} = ["))).unwrap();
    line.split('\'').skip(1).step_by(2).map(String::from).collect()
}

fn sql_list<T: Named>() -> String {
    T::NAMES.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}

#[test]
fn every_front_end_uses_the_vocabulary_s_names() {
    let props = documented();
    let listed = |name: &str| -> Vec<String> {
        props[name]["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    assert_eq!(listed("side"), names::<Side>());
    assert_eq!(listed("type"), names::<OrderType>());
    assert_eq!(listed("self_trade"), names::<SelfTradeMode>());
    let flags = cli_place_args();
    let possible = |name: &str| -> Vec<String> {
        let arg = &flags.iter().find(|(n, _)| n == name).unwrap().1;
        arg.get_possible_values().iter().map(|v| v.get_name().to_string()).collect()
    };
    assert_eq!(possible("side"), names::<Side>());
    assert_eq!(possible("type"), names::<OrderType>());
    assert_eq!(possible("self_trade"), names::<SelfTradeMode>());
    // The page decodes the instruction's bytes with these lists: the wire order too.
    assert_eq!(page_list("ORDER_TYPES"), names::<OrderType>());
    assert_eq!(page_list("SIDES"), names::<Side>());
    // The database refuses anything else.
    for check in [
        format!("side IN ({})", sql_list::<Side>()),
        format!("taker_side IN ({})", sql_list::<Side>()),
        format!("order_type IN ({})", sql_list::<OrderType>()),
    ] {
        assert!(MIGRATION.contains(&check), "the migration lacks {check}");
    }
    // The earlier spelling (`-` for `_`) still reads, on both front ends, as the same value.
    for t in OrderType::ALL {
        let (canonical, alias) = (t.as_str(), t.alias().unwrap_or(t.as_str()));
        assert_eq!(cli(&["--type", alias]), cli(&["--type", canonical]));
        assert_eq!(api(json!({"type": alias})), api(json!({"type": canonical})));
        assert_eq!(api(json!({"type": alias})).order_type, *t);
    }
    for m in SelfTradeMode::ALL {
        let alias = m.alias().unwrap_or(m.as_str());
        assert_eq!(cli(&["--self-trade", alias]).self_trade, *m);
        assert_eq!(api(json!({"self_trade": alias})).self_trade, *m);
    }
    // A wrong name is refused by both, naming the field and what it takes.
    assert!(Cli::try_parse_from(["solex", "place", "M", "bid", "--price", "1", "--qty", "1", "--type", "gtc"]).is_err());
    let refused = solex_indexer::txapi::place_args(&json!({"side": "bid", "price": 1, "qty": 1, "type": "gtc"}));
    assert!(refused.is_err());
}
