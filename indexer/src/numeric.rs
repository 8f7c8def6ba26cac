//! Integers in NUMERIC columns: u64 values (the `u64` domain) and running totals
//! (NUMERIC(40, 0)), bound and read exactly, never through i64 or f64.
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::Postgres;

/// An integer in a NUMERIC column (u64 values are the `u64` domain, running totals
/// NUMERIC(40, 0)), bound and read exactly: never through i64 or f64. In JSON it
/// is a number when it fits a u64 (every u64 column does), else a decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Numeric(pub i128);

/// PostgreSQL's `numeric` type.
const NUMERIC_OID: Oid = Oid(1700);
/// The binary format's sign words.
const NUMERIC_NEGATIVE: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;

impl Numeric {
    pub fn u64(self) -> anyhow::Result<u64> {
        u64::try_from(self.0).map_err(|_| anyhow::anyhow!("{} is not a u64", self.0))
    }
}

impl From<u64> for Numeric {
    fn from(v: u64) -> Self {
        Self(v.into())
    }
}

impl sqlx::Type<Postgres> for Numeric {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(NUMERIC_OID)
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        ty.oid() == Some(NUMERIC_OID)
    }
}

/// The binary format: digit count, weight (of the first base-10000 digit), sign and
/// display scale as 16-bit words, then the digits, most significant first.
impl sqlx::Encode<'_, Postgres> for Numeric {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        let mut digits = vec![];
        let mut rest = self.0.unsigned_abs();
        while rest > 0 {
            digits.push((rest % 10_000) as u16);
            rest /= 10_000;
        }
        let weight = digits.len().saturating_sub(1) as u16;
        digits.reverse();
        while digits.last() == Some(&0) {
            digits.pop();
        }
        let sign = if self.0 < 0 { NUMERIC_NEGATIVE } else { 0 };
        for word in [digits.len() as u16, weight, sign, 0].iter().chain(&digits) {
            buf.extend_from_slice(&word.to_be_bytes());
        }
        Ok(IsNull::No)
    }
}

impl sqlx::Decode<'_, Postgres> for Numeric {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        if value.format() == PgValueFormat::Text {
            return Ok(Self(value.as_str()?.parse()?));
        }
        let bytes = value.as_bytes()?;
        let word = |i: usize| -> Result<u16, BoxDynError> {
            let w = bytes.get(2 * i..2 * i + 2).ok_or("truncated NUMERIC")?;
            Ok(u16::from_be_bytes([w[0], w[1]]))
        };
        let (count, weight, sign) = (word(0)? as usize, word(1)? as i16, word(2)?);
        if sign == NUMERIC_NAN {
            return Err("NUMERIC NaN is not an integer".into());
        }
        let digit = |i: usize| if i < count { word(4 + i) } else { Ok(0) };
        let mut v: i128 = 0;
        for i in 0..(weight as i32 + 1).max(0) as usize {
            let d = digit(i)? as i128;
            v = v.checked_mul(10_000).and_then(|v| v.checked_add(d)).ok_or("NUMERIC beyond i128")?;
        }
        for i in (weight as i32 + 1).max(0) as usize..count {
            if digit(i)? != 0 {
                return Err("NUMERIC with a fraction is not an integer".into());
            }
        }
        Ok(Self(if sign == NUMERIC_NEGATIVE { -v } else { v }))
    }
}

impl serde::Serialize for Numeric {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (u64::try_from(self.0), i64::try_from(self.0)) {
            (Ok(v), _) => s.serialize_u64(v),
            (_, Ok(v)) => s.serialize_i64(v),
            _ => s.collect_str(&self.0),
        }
    }
}
