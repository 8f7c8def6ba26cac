//! Account layouts. Defined once here; the SDK, crank, indexer and tests read
//! accounts through these same types.
mod book;
mod market;
mod trader;

pub use book::*;
pub use market::*;
pub use trader::*;
