//! Account layouts. Defined once here; the SDK, crank, indexer and tests read
//! accounts through these same types.
mod auction;
mod book;
mod fill_queue;
mod keyper;
mod market;
mod trader;

pub use auction::*;
pub use book::*;
pub use fill_queue::*;
pub use keyper::*;
pub use market::*;
pub use trader::*;
