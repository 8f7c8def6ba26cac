//! Off-chain halves: sealing with a fresh ephemeral key, and combining keyper shares.
use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::scalar::Scalar;
use frost_ristretto255 as frost;
use rand_core::OsRng;

use crate::{seal_with, Binding, OrderPlaintext, Sealed};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealError {
    /// The batch key is not a valid ristretto255 point.
    InvalidBatchKey,
}

impl core::fmt::Display for SealError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SealError::InvalidBatchKey => f.write_str("the batch key is not a valid ristretto255 point"),
        }
    }
}

impl std::error::Error for SealError {}

/// Seals `order` to the batch key `batch_key` (`P`, compressed) for `binding`, with
/// a fresh ephemeral key from the operating system's generator.
pub fn seal(batch_key: &[u8; 32], binding: &Binding, order: &OrderPlaintext) -> Result<Sealed, SealError> {
    let p = CompressedRistretto(*batch_key).decompress().ok_or(SealError::InvalidBatchKey)?;
    let r = Scalar::random(&mut OsRng);
    let ephemeral = curve25519_dalek::RistrettoPoint::mul_base(&r).compress().to_bytes();
    let shared = (r * p).compress().to_bytes();
    Ok(seal_with(&shared, binding, &ephemeral, &order.encode()))
}

/// A keyper's released share of a batch secret: its index in the keyper set
/// (0-based; FROST identifier `index + 1`) and its signing share (a scalar).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share {
    pub index: u16,
    pub share: [u8; 32],
}

/// Why shares could not be combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CombineError {
    TooFewShares {
        have: usize,
        threshold: u16,
    },
    /// A share is not a canonical scalar, or an index repeats or is out of range.
    InvalidShare(u16),
    /// The combination does not open the group key: some share is wrong.
    WrongSecret,
}

impl core::fmt::Display for CombineError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CombineError::TooFewShares { have, threshold } => write!(f, "{have} shares, {threshold} needed"),
            CombineError::InvalidShare(i) => write!(f, "share of keyper {i} is invalid"),
            CombineError::WrongSecret => f.write_str("the shares do not combine to the batch key's secret"),
        }
    }
}

impl std::error::Error for CombineError {}

/// Combines `threshold` or more shares into the batch secret by Lagrange
/// interpolation (frost's `reconstruct`), and checks it against the group key
/// `group_key` (`s·G == P`), as the program will.
pub fn combine_shares(shares: &[Share], threshold: u16, group_key: &[u8; 32]) -> Result<[u8; 32], CombineError> {
    if shares.len() < threshold as usize {
        return Err(CombineError::TooFewShares { have: shares.len(), threshold });
    }
    let verifying_key = frost::VerifyingKey::deserialize(group_key).map_err(|_| CombineError::WrongSecret)?;
    let packages = shares
        .iter()
        .map(|s| {
            let bad = || CombineError::InvalidShare(s.index);
            let id = frost::Identifier::try_from(s.index.checked_add(1).ok_or_else(bad)?).map_err(|_| bad())?;
            let signing = frost::keys::SigningShare::deserialize(&s.share).map_err(|_| bad())?;
            // reconstruct reads only the identifier and the signing share.
            let verifying = frost::keys::VerifyingShare::from(signing);
            Ok(frost::keys::KeyPackage::new(id, signing, verifying, verifying_key, threshold))
        })
        .collect::<Result<Vec<_>, CombineError>>()?;
    let key = frost::keys::reconstruct(&packages).map_err(|e| match e {
        frost::Error::DuplicatedIdentifier => CombineError::InvalidShare(u16::MAX),
        _ => CombineError::WrongSecret,
    })?;
    let secret: [u8; 32] = key.serialize().try_into().map_err(|_| CombineError::WrongSecret)?;
    if crate::public_key(&secret).as_ref() != Some(group_key) {
        return Err(CombineError::WrongSecret);
    }
    Ok(secret)
}
