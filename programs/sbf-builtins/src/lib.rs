//! i128 libcalls for SBF programs built with the offline toolchain.
//!
//! LLVM's BPF backend calls `__multi3`, `__udivti3`, … expecting the 128-bit result
//! in registers, but rustc's BPF ABI returns values wider than 64 bits through a
//! hidden `sret` pointer, so the versions in Rust's `compiler_builtins` (and in
//! `solana-compiler-builtins`) write their result through the caller's first
//! argument: "Access violation writing 8 bytes at address 0xf". Defining them with
//! `extern "unadjusted"` keeps LLVM's own convention. Strong definitions here win
//! over the weak ones from compiler-builtins at link time.
//!
//! The arithmetic is written on 64-bit halves (only constant shifts, add, sub and
//! compare of 128-bit values, which LLVM expands inline), so no function here
//! can lower back into a call to itself. A program links them with
//! `use sbf_builtins as _;`. `scripts/build-sbf.sh` checks the linked module for any
//! remaining `sret` libcall.
#![no_std]
#![cfg_attr(target_os = "solana", feature(abi_unadjusted))]
#![cfg_attr(target_os = "solana", allow(internal_features))]

#[inline(always)]
fn halves(x: u128) -> (u64, u64) {
    ((x >> 64) as u64, x as u64)
}

#[inline(always)]
fn join(hi: u64, lo: u64) -> u128 {
    ((hi as u128) << 64) | lo as u128
}

/// Wrapping 128-bit multiply (low 128 bits of the product).
pub fn mul(a: u128, b: u128) -> u128 {
    let (ah, al) = halves(a);
    let (bh, bl) = halves(b);
    let (a0, a1) = (al & 0xffff_ffff, al >> 32);
    let (b0, b1) = (bl & 0xffff_ffff, bl >> 32);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let mid = (p00 >> 32) + (p01 & 0xffff_ffff) + (p10 & 0xffff_ffff);
    let lo = (p00 & 0xffff_ffff) | (mid << 32);
    let hi = p11
        .wrapping_add(p01 >> 32)
        .wrapping_add(p10 >> 32)
        .wrapping_add(mid >> 32)
        .wrapping_add(al.wrapping_mul(bh))
        .wrapping_add(ah.wrapping_mul(bl));
    join(hi, lo)
}

#[inline(always)]
fn leading_zeros(x: u128) -> u32 {
    let (h, l) = halves(x);
    if h != 0 {
        h.leading_zeros()
    } else {
        64 + l.leading_zeros()
    }
}

/// Logical left shift; `s >= 128` gives 0.
pub fn shl(x: u128, s: u32) -> u128 {
    let (h, l) = halves(x);
    match s {
        0 => x,
        1..=63 => join((h << s) | (l >> (64 - s)), l << s),
        64..=127 => join(l << (s - 64), 0),
        _ => 0,
    }
}

/// Logical right shift; `s >= 128` gives 0.
pub fn lshr(x: u128, s: u32) -> u128 {
    let (h, l) = halves(x);
    match s {
        0 => x,
        1..=63 => join(h >> s, (l >> s) | (h << (64 - s))),
        64..=127 => join(0, h >> (s - 64)),
        _ => 0,
    }
}

/// Arithmetic right shift; `s >= 128` gives 0 or -1.
pub fn ashr(x: i128, s: u32) -> i128 {
    let (h, l) = halves(x as u128);
    let sign = ((h as i64) >> 63) as u64;
    (match s {
        0 => x as u128,
        1..=63 => join(((h as i64) >> s) as u64, (l >> s) | (h << (64 - s))),
        64..=127 => join(sign, ((h as i64) >> (s - 64)) as u64),
        _ => join(sign, sign),
    }) as i128
}

/// Unsigned 128-bit division with remainder. Panics (aborts on SBF) when `d == 0`,
/// as a 64-bit division by zero does; Rust checks the divisor before calling.
pub fn udivmod(n: u128, d: u128) -> (u128, u128) {
    let (nh, nl) = halves(n);
    let (dh, dl) = halves(d);
    if dh == 0 {
        if nh == 0 {
            return ((nl / dl) as u128, (nl % dl) as u128);
        }
        if dl >> 32 == 0 {
            // Schoolbook division by a 32-bit divisor over four 32-bit limbs:
            // every partial dividend fits in 64 bits.
            let mut rem = 0u64;
            let mut q = [0u64; 4];
            for (i, limb) in [nh >> 32, nh & 0xffff_ffff, nl >> 32, nl & 0xffff_ffff].into_iter().enumerate() {
                let cur = (rem << 32) | limb;
                q[i] = cur / dl;
                rem = cur % dl;
            }
            return (join((q[0] << 32) | q[1], (q[2] << 32) | q[3]), rem as u128);
        }
    }
    if n < d {
        return (0, n);
    }
    // Binary long division over only the bit positions the quotient can occupy.
    let shift = leading_zeros(d) - leading_zeros(n);
    let mut div = shl(d, shift);
    let mut rem = n;
    let (mut qh, mut ql) = (0u64, 0u64);
    for _ in 0..=shift {
        qh = (qh << 1) | (ql >> 63);
        ql <<= 1;
        if rem >= div {
            rem -= div;
            ql |= 1;
        }
        let (h, l) = halves(div);
        div = join(h >> 1, (l >> 1) | (h << 63));
    }
    (join(qh, ql), rem)
}

#[inline(always)]
fn unsigned_abs(x: i128) -> u128 {
    if x < 0 {
        (x as u128).wrapping_neg()
    } else {
        x as u128
    }
}

#[inline(always)]
fn negate_if(x: u128, neg: bool) -> i128 {
    (if neg { x.wrapping_neg() } else { x }) as i128
}

/// Signed division truncating toward zero, as Rust's `/` on i128.
pub fn idiv(a: i128, b: i128) -> i128 {
    let (q, _) = udivmod(unsigned_abs(a), unsigned_abs(b));
    negate_if(q, (a < 0) != (b < 0))
}

/// Signed remainder with the dividend's sign, as Rust's `%` on i128.
pub fn imod(a: i128, b: i128) -> i128 {
    let (_, r) = udivmod(unsigned_abs(a), unsigned_abs(b));
    negate_if(r, a < 0)
}

#[cfg(target_os = "solana")]
mod libcalls {
    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __multi3(a: i128, b: i128) -> i128 {
        super::mul(a as u128, b as u128) as i128
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __udivti3(a: u128, b: u128) -> u128 {
        super::udivmod(a, b).0
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __umodti3(a: u128, b: u128) -> u128 {
        super::udivmod(a, b).1
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __divti3(a: i128, b: i128) -> i128 {
        super::idiv(a, b)
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __modti3(a: i128, b: i128) -> i128 {
        super::imod(a, b)
    }

    // Shifts by a variable amount, in case LLVM chooses a libcall over inline expansion.
    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __ashlti3(a: i128, b: u32) -> i128 {
        super::shl(a as u128, b) as i128
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __lshrti3(a: u128, b: u32) -> u128 {
        super::lshr(a, b)
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __ashrti3(a: i128, b: u32) -> i128 {
        super::ashr(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EDGES: [u128; 10] =
        [0, 1, 2, 0xffff_ffff, 0x1_0000_0000, u64::MAX as u128, 1 << 64, (1 << 64) + 1, u128::MAX - 1, u128::MAX];

    fn check(a: u128, b: u128) {
        assert_eq!(mul(a, b), a.wrapping_mul(b), "mul {a} {b}");
        let s = (b % 128) as u32;
        assert_eq!(shl(a, s), a << s, "shl {a} {s}");
        assert_eq!(lshr(a, s), a >> s, "lshr {a} {s}");
        assert_eq!(ashr(a as i128, s), (a as i128) >> s, "ashr {a} {s}");
        if b != 0 {
            assert_eq!(udivmod(a, b), (a / b, a % b), "udivmod {a} {b}");
            let (sa, sb) = (a as i128, b as i128);
            if !(sa == i128::MIN && sb == -1) {
                assert_eq!(idiv(sa, sb), sa / sb, "idiv {sa} {sb}");
                assert_eq!(imod(sa, sb), sa % sb, "imod {sa} {sb}");
            }
        }
    }

    #[test]
    fn edges_match_native() {
        for a in EDGES {
            for b in EDGES {
                check(a, b);
                check(a.wrapping_neg(), b);
                check(a, b.wrapping_neg());
            }
        }
    }

    proptest! {
        #[test]
        fn random_match_native(a: u128, b: u128, sa in 0u32..128, sb in 0u32..128) {
            // Shifted operands cover every magnitude, not just ~128-bit ones.
            check(a >> sa, b >> sb);
            check(a, b >> sb);
        }
    }
}
