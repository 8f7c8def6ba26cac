mod cancel_order;
mod create_market;
mod create_trader;
mod funds;
mod owned_trader;
mod place_order;
mod set_delegate;
mod set_paused;
mod token;

pub use cancel_order::*;
pub use create_market::*;
pub use create_trader::*;
pub use funds::*;
pub use owned_trader::*;
pub use place_order::*;
pub use set_delegate::*;
pub use set_paused::*;
