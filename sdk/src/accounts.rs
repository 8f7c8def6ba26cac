//! Decoding program accounts from raw account data (as RPC or LiteSVM returns it).
use anchor_lang::{Discriminator, ZeroCopy};

/// Why account data could not be read as the requested type.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("account data is {actual} bytes, expected at least {expected}")]
    TooShort { expected: usize, actual: usize },
    #[error("account discriminator does not match {0}")]
    WrongDiscriminator(&'static str),
}

/// The bytes of `T` inside an account's data, after checking size and discriminator.
fn body<T: ZeroCopy + Discriminator>(data: &[u8]) -> Result<&[u8], DecodeError> {
    let disc = T::DISCRIMINATOR;
    let size = disc.len() + core::mem::size_of::<T>();
    if data.len() < size {
        return Err(DecodeError::TooShort { expected: size, actual: data.len() });
    }
    if &data[..disc.len()] != disc {
        return Err(DecodeError::WrongDiscriminator(core::any::type_name::<T>()));
    }
    Ok(&data[disc.len()..size])
}

/// Copies a zero-copy account out of its data. (RPC data is not 8-byte aligned,
/// so the bytes are copied rather than cast.)
pub fn decode<T: ZeroCopy + Discriminator>(data: &[u8]) -> Result<T, DecodeError> {
    body::<T>(data).map(bytemuck::pod_read_unaligned)
}

/// Book sides are 256 KiB: decode them onto the heap, not the stack.
pub fn decode_boxed<T: ZeroCopy + Discriminator>(data: &[u8]) -> Result<Box<T>, DecodeError> {
    let bytes = body::<T>(data)?;
    let mut out: Box<T> = bytemuck::zeroed_box();
    bytemuck::bytes_of_mut(&mut *out).copy_from_slice(bytes);
    Ok(out)
}

/// A trader account's header and its open-order slots (the used ones).
pub fn decode_trader(data: &[u8]) -> Result<(solex::state::Trader, Vec<solex::state::OrderSlot>), DecodeError> {
    use solex::state::{OrderSlot, Trader};
    let trader: Trader = decode(data)?;
    let slots = data[Trader::LEN..]
        .chunks_exact(OrderSlot::LEN)
        .map(bytemuck::pod_read_unaligned::<OrderSlot>)
        .filter(|s| s.used != 0)
        .collect();
    Ok((trader, slots))
}

/// One book side by price level, best first: `[price, total lots]`, at most `depth` levels.
pub fn book_levels(side: &solex::state::BookSide, depth: usize) -> Vec<[u64; 2]> {
    let mut out: Vec<[u64; 2]> = Vec::new();
    for o in side.orders().iter().rev() {
        if let Some(level) = out.last_mut().filter(|l| l[0] == o.price) {
            level[1] += o.qty_lots;
        } else if out.len() == depth {
            break;
        } else {
            out.push([o.price, o.qty_lots]);
        }
    }
    out
}
