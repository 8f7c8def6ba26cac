//! Account layouts. Defined once here; the SDK, crank, indexer and tests read
//! accounts through these same types.
mod book;
mod fill_queue;
mod market;
mod trader;

pub use book::*;
pub use fill_queue::*;
pub use market::*;
pub use trader::*;
