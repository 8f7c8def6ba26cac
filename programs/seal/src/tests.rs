use proptest::prelude::*;

use super::*;

fn binding(seed: u8) -> Binding {
    Binding { program: [seed; 32], market: [seed.wrapping_add(1); 32], batch: 7 + seed as u64, trader: [3; 32] }
}

/// RustCrypto's HMAC and HKDF: an implementation independent of ours.
fn reference_keys(shared: &[u8; 32], b: &Binding, ephemeral: &[u8; 32]) -> [u8; 72] {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(DOMAIN), shared);
    let mut okm = [0u8; 72];
    hk.expand(&b.info(ephemeral), &mut okm).unwrap();
    okm
}

proptest! {
    #[test]
    fn hmac_matches_rustcrypto(key in prop::collection::vec(any::<u8>(), 0..=64), a in prop::collection::vec(any::<u8>(), 0..200), b in prop::collection::vec(any::<u8>(), 0..50)) {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(&a);
        mac.update(&b);
        prop_assert_eq!(hmac(&key, &[&a, &b]), <[u8; 32]>::from(mac.finalize().into_bytes()));
    }

    #[test]
    fn hkdf_matches_rustcrypto(shared in any::<[u8; 32]>(), ephemeral in any::<[u8; 32]>(), seed in any::<u8>()) {
        let b = binding(seed);
        let (stream, mac_key) = keys(&shared, &b, &ephemeral);
        let okm = reference_keys(&shared, &b, &ephemeral);
        prop_assert_eq!(&stream[..], &okm[..40]);
        prop_assert_eq!(&mac_key[..], &okm[40..72]);
    }

    #[test]
    fn a_seal_opens_only_under_its_own_binding(shared in any::<[u8; 32]>(), ephemeral in any::<[u8; 32]>(), order in any::<(u8, u8, u64, u64, u64, u64)>()) {
        let o = OrderPlaintext { side: order.0, order_type: order.1, price: order.2, qty_lots: order.3, client_order_id: order.4, expiry: order.5 };
        let b = binding(1);
        let sealed = seal_with(&shared, &b, &ephemeral, &o.encode());
        prop_assert_eq!(open(&shared, &b, &sealed).and_then(|p| OrderPlaintext::decode(&p)), Some(o));
        for other in [
            Binding { program: [9; 32], ..b },
            Binding { market: [9; 32], ..b },
            Binding { batch: b.batch + 1, ..b },
            Binding { trader: [9; 32], ..b },
        ] {
            prop_assert_eq!(open(&shared, &other, &sealed), None);
        }
        let mut tampered = sealed;
        tampered.ciphertext[order.0 as usize % PLAINTEXT_LEN] ^= 1;
        prop_assert_eq!(open(&shared, &b, &tampered), None);
        let mut tampered = sealed;
        tampered.tag[order.1 as usize % TAG_LEN] ^= 0x80;
        prop_assert_eq!(open(&shared, &b, &tampered), None);
        let mut moved = sealed;
        moved.ephemeral[0] ^= 1;
        prop_assert_eq!(open(&shared, &b, &moved), None);
    }
}

#[test]
fn plaintexts_with_another_version_or_reserved_bytes_are_refused() {
    let o = OrderPlaintext { side: 1, order_type: 4, price: 5, qty_lots: 6, client_order_id: 7, expiry: 8 };
    let mut b = o.encode();
    assert_eq!(OrderPlaintext::decode(&b), Some(o));
    b[0] = 2;
    assert_eq!(OrderPlaintext::decode(&b), None);
    let mut b = o.encode();
    b[5] = 1;
    assert_eq!(OrderPlaintext::decode(&b), None);
}

#[cfg(feature = "client")]
mod with_client {
    use curve25519_dalek::constants::RISTRETTO_BASEPOINT_COMPRESSED;
    use curve25519_dalek::scalar::Scalar;
    use frost_ristretto255 as frost;

    use super::*;

    #[test]
    fn the_basepoint_is_ristrettos() {
        assert_eq!(BASEPOINT, RISTRETTO_BASEPOINT_COMPRESSED.to_bytes());
        let one = Scalar::ONE.to_bytes();
        assert_eq!(public_key(&one), Some(BASEPOINT));
    }

    #[test]
    fn a_sealed_order_opens_with_the_batch_secret_and_only_with_it() {
        let s = Scalar::from(0x1234_5678_9abc_def0u64) * Scalar::from(31337u64);
        let p = public_key(&s.to_bytes()).unwrap();
        let b = binding(4);
        let o = OrderPlaintext { side: 0, order_type: 0, price: 101, qty_lots: 5, client_order_id: 9, expiry: 0 };
        for _ in 0..20 {
            let sealed = seal(&p, &b, &o).unwrap();
            let z = shared_secret(&s.to_bytes(), &sealed.ephemeral).unwrap();
            assert_eq!(open(&z, &b, &sealed).and_then(|p| OrderPlaintext::decode(&p)), Some(o));
            let wrong = shared_secret(&(s + Scalar::ONE).to_bytes(), &sealed.ephemeral).unwrap();
            assert_eq!(open(&wrong, &b, &sealed), None);
        }
        assert_eq!(seal(&[0xff; 32], &b, &o), Err(SealError::InvalidBatchKey));
        // Not a point, the identity, a non-canonical scalar: no shared secret.
        assert_eq!(shared_secret(&s.to_bytes(), &[0xff; 32]), None);
        assert_eq!(shared_secret(&s.to_bytes(), &[0; 32]), None);
        assert_eq!(shared_secret(&[0xff; 32], &BASEPOINT), None);
    }

    /// A fixed vector the web page's sealing (JavaScript, @noble/curves) and the
    /// program's opening (SBF, tests/tests/litesvm_auction.rs) are checked against.
    #[test]
    fn the_published_test_vector() {
        let v = vector();
        let z = shared_secret(&v.secret, &v.sealed.ephemeral).unwrap();
        assert_eq!(open(&z, &v.binding, &v.sealed), Some(v.order.encode()));
        assert_eq!(hex(&v.sealed.ephemeral), VECTOR_EPHEMERAL);
        assert_eq!(hex(&v.sealed.ciphertext), VECTOR_CIPHERTEXT);
        assert_eq!(hex(&v.sealed.tag), VECTOR_TAG);
    }

    const VECTOR_EPHEMERAL: &str = "b8f7a9200f12593e41717e64156d8a81b78972345a3258c928c6ae4029d1307f";
    const VECTOR_CIPHERTEXT: &str = "270303ad3fed6187c99f50a4e0910f9e1b89c0ab92ee1b398d10ae27ded3d4c003958995283ecef7";
    const VECTOR_TAG: &str = "4f9b46c15f504795b2a58fe44a2005d4";

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn any_threshold_of_shares_combines_to_the_secret_and_fewer_or_a_wrong_one_do_not() {
        let (n, t) = (5u16, 3u16);
        let (shares, public) =
            frost::keys::generate_with_dealer(n, t, frost::keys::IdentifierList::Default, rand_core::OsRng).unwrap();
        let group_key: [u8; 32] = public.verifying_key().serialize().unwrap().try_into().unwrap();
        let all: Vec<Share> = shares
            .values()
            .enumerate()
            .map(|(i, s)| {
                let kp = frost::keys::KeyPackage::try_from(s.clone()).unwrap();
                let share: [u8; 32] = kp.signing_share().serialize().try_into().unwrap();
                // Each share opens its verifying share, as the program checks.
                let vs: [u8; 32] = kp.verifying_share().serialize().unwrap().try_into().unwrap();
                assert_eq!(public_key(&share), Some(vs));
                Share { index: i as u16, share }
            })
            .collect();
        for subset in [[0, 1, 2], [2, 3, 4], [0, 2, 4], [4, 1, 3]] {
            let picked: Vec<Share> = subset.iter().map(|&i| all[i]).collect();
            let secret = combine_shares(&picked, t, &group_key).unwrap();
            assert_eq!(public_key(&secret), Some(group_key));
        }
        assert_eq!(combine_shares(&all[..2], t, &group_key), Err(CombineError::TooFewShares { have: 2, threshold: 3 }));
        let mut wrong = all[..3].to_vec();
        wrong[1].share = Scalar::from(5u64).to_bytes();
        assert_eq!(combine_shares(&wrong, t, &group_key), Err(CombineError::WrongSecret));
    }
}

/// The fixed test vector: batch secret, binding, order, and the seal made with a
/// fixed ephemeral scalar (`seal` draws it at random).
#[cfg(feature = "client")]
pub struct Vector {
    pub secret: [u8; 32],
    pub binding: Binding,
    pub order: OrderPlaintext,
    pub sealed: Sealed,
}

#[cfg(feature = "client")]
pub fn vector() -> Vector {
    use curve25519_dalek::scalar::Scalar;
    let secret = Scalar::from_bytes_mod_order([7; 32]).to_bytes();
    let r = Scalar::from_bytes_mod_order([9; 32]);
    let p = curve25519_dalek::ristretto::CompressedRistretto(public_key(&secret).unwrap()).decompress().unwrap();
    let ephemeral = curve25519_dalek::RistrettoPoint::mul_base(&r).compress().to_bytes();
    let shared = (r * p).compress().to_bytes();
    let binding = Binding { program: [1; 32], market: [2; 32], batch: 42, trader: [3; 32] };
    let order = OrderPlaintext { side: 1, order_type: 3, price: 12_345, qty_lots: 67, client_order_id: 89, expiry: 0 };
    Vector { secret, binding, order, sealed: seal_with(&shared, &binding, &ephemeral, &order.encode()) }
}
