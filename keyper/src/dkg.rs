//! One distributed key generation session: FROST's three-part DKG
//! (frost-ristretto255 `keys::dkg`) run for every round key of a session at once.
//!
//! Each keyper publishes a round-1 message (its commitments and proofs of knowledge
//! for every round, and an ephemeral ristretto255 key) and, once it holds every
//! member's round-1 message, one round-2 message per other member (the secret shares
//! it deals them), encrypted to that member: ChaCha20-Poly1305 under an HKDF-SHA256
//! key of the two ephemeral keys' Diffie-Hellman point, the header as associated
//! data. Every message is signed by its sender's identity key (a member of the keyper
//! set on chain), and names its session, so none can be forged or moved to another
//! session. No process ever holds a round's secret: each ends with its own share and
//! every member's verifying share.
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::RistrettoPoint;
use frost_ristretto255 as frost;
use frost_ristretto255::keys::dkg;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use solana_keypair::Keypair;
use solana_signer::Signer;

/// A session: the keys of rounds `first_round .. first_round + rounds` of one keyper set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SessionId {
    #[serde(with = "crate::b58")]
    pub keyper_set: Pubkey,
    pub first_round: u64,
    pub rounds: u16,
}

impl SessionId {
    fn bytes(&self) -> Vec<u8> {
        [&self.keyper_set.to_bytes()[..], &self.first_round.to_le_bytes(), &self.rounds.to_le_bytes()].concat()
    }

    pub fn round_range(&self) -> std::ops::Range<u64> {
        self.first_round..self.first_round + self.rounds as u64
    }
}

/// A member's round-1 message: its FROST round-1 package for every round of the
/// session, and the ephemeral key its round-2 messages are encrypted with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round1 {
    pub session: SessionId,
    pub from: u16,
    #[serde(with = "hex")]
    pub ephemeral: [u8; 32],
    #[serde(with = "crate::hexes")]
    pub packages: Vec<Vec<u8>>,
    #[serde(with = "hex")]
    pub signature: Vec<u8>,
}

/// A member's round-2 message to one other member: the round-2 packages it deals
/// `to`, for every round of the session, encrypted to `to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round2 {
    pub session: SessionId,
    pub from: u16,
    pub to: u16,
    #[serde(with = "hex")]
    pub nonce: [u8; 12],
    #[serde(with = "hex")]
    pub ciphertext: Vec<u8>,
    #[serde(with = "hex")]
    pub signature: Vec<u8>,
}

fn length_prefixed(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

fn split_length_prefixed(mut bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut parts = Vec::new();
    while !bytes.is_empty() {
        let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
        parts.push(bytes.get(4..4 + len)?.to_vec());
        bytes = &bytes[4 + len..];
    }
    Some(parts)
}

impl Round1 {
    fn signed_bytes(&self) -> Vec<u8> {
        [
            b"solex-keyper/round1".as_slice(),
            &self.session.bytes(),
            &self.from.to_le_bytes(),
            &self.ephemeral,
            &length_prefixed(&self.packages),
        ]
        .concat()
    }
}

impl Round2 {
    fn header(session: &SessionId, from: u16, to: u16, nonce: &[u8; 12]) -> Vec<u8> {
        [b"solex-keyper/round2".as_slice(), &session.bytes(), &from.to_le_bytes(), &to.to_le_bytes(), nonce].concat()
    }

    fn signed_bytes(&self) -> Vec<u8> {
        [Self::header(&self.session, self.from, self.to, &self.nonce), self.ciphertext.clone()].concat()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DkgError {
    #[error("message for another session")]
    WrongSession,
    #[error("sender {0} is not a member")]
    UnknownSender(u16),
    #[error("bad signature from member {0}")]
    BadSignature(u16),
    #[error("malformed message from member {0}")]
    Malformed(u16),
    #[error("member {0} sent a round-1 message different from the one accepted")]
    Equivocation(u16),
    #[error("message addressed to member {0}")]
    NotForMe(u16),
    #[error("FROST: {0}")]
    Frost(String),
}

fn frost_err(e: frost::Error) -> DkgError {
    DkgError::Frost(e.to_string())
}

fn verify(member: &Pubkey, msg: &[u8], signature: &[u8]) -> bool {
    let (Ok(key), Ok(sig)) =
        (ed25519_dalek::VerifyingKey::from_bytes(&member.to_bytes()), ed25519_dalek::Signature::from_slice(signature))
    else {
        return false;
    };
    key.verify_strict(msg, &sig).is_ok()
}

fn identifier(index: u16) -> frost::Identifier {
    frost::Identifier::try_from(index + 1).expect("1..=n is a valid identifier")
}

/// What a finished session gives its member for one round: its key package (its
/// secret signing share) and the group's public key package.
#[derive(Clone, Debug)]
pub struct RoundKeys {
    pub round: u64,
    pub key_package: frost::keys::KeyPackage,
    pub public: frost::keys::PublicKeyPackage,
}

impl RoundKeys {
    pub fn group_key(&self) -> [u8; 32] {
        self.public.verifying_key().serialize().expect("a group key").try_into().expect("32 bytes")
    }

    /// Every member's verifying share, in member order.
    pub fn verifying_shares(&self, n: u16) -> Vec<[u8; 32]> {
        (0..n)
            .map(|i| {
                let share = self.public.verifying_shares()[&identifier(i)];
                share.serialize().expect("a verifying share").try_into().expect("32 bytes")
            })
            .collect()
    }

    pub fn signing_share(&self) -> [u8; 32] {
        self.key_package.signing_share().serialize().try_into().expect("32 bytes")
    }
}

/// What a member must keep to resume its session after a restart: its round-1
/// secrets (and the message they produced) and its ephemeral key.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Saved {
    pub mine: Round1,
    #[serde(with = "hex")]
    pub ephemeral_secret: [u8; 32],
    #[serde(with = "crate::hexes")]
    pub round1_secrets: Vec<Vec<u8>>,
}

/// One member's view of a session.
pub struct Session {
    pub id: SessionId,
    me: u16,
    members: Vec<Pubkey>,
    threshold: u16,
    ephemeral: Scalar,
    round1_secrets: Vec<dkg::round1::SecretPackage>,
    mine: Round1,
    got1: BTreeMap<u16, Round1>,
    round2_secrets: Option<Vec<dkg::round2::SecretPackage>>,
    mine2: BTreeMap<u16, Round2>,
    got2: BTreeMap<u16, Vec<dkg::round2::Package>>,
    result: Option<Vec<RoundKeys>>,
}

impl Session {
    /// Starts a session as member `me` of `members` (threshold `threshold`): FROST's
    /// part 1 for every round, signed with `identity`.
    pub fn start(
        id: SessionId,
        me: u16,
        members: Vec<Pubkey>,
        threshold: u16,
        identity: &Keypair,
    ) -> Result<Self, DkgError> {
        let n = members.len() as u16;
        let (mut secrets, mut packages) = (Vec::new(), Vec::new());
        for _ in id.round_range() {
            let (secret, package) = dkg::part1(identifier(me), n, threshold, OsRng).map_err(frost_err)?;
            packages.push(package.serialize().map_err(frost_err)?);
            secrets.push(secret);
        }
        let ephemeral = Scalar::random(&mut OsRng);
        let mut mine = Round1 {
            session: id,
            from: me,
            ephemeral: RistrettoPoint::mul_base(&ephemeral).compress().to_bytes(),
            packages,
            signature: vec![],
        };
        mine.signature = identity.sign_message(&mine.signed_bytes()).as_ref().to_vec();
        let mut session = Self::with(id, me, members, threshold, ephemeral, secrets, mine.clone());
        session.got1.insert(me, mine);
        Ok(session)
    }

    fn with(
        id: SessionId,
        me: u16,
        members: Vec<Pubkey>,
        threshold: u16,
        ephemeral: Scalar,
        round1_secrets: Vec<dkg::round1::SecretPackage>,
        mine: Round1,
    ) -> Self {
        Self {
            id,
            me,
            members,
            threshold,
            ephemeral,
            round1_secrets,
            mine,
            got1: BTreeMap::new(),
            round2_secrets: None,
            mine2: BTreeMap::new(),
            got2: BTreeMap::new(),
            result: None,
        }
    }

    /// What to keep on disk before publishing the round-1 message.
    pub fn saved(&self) -> Saved {
        Saved {
            mine: self.mine.clone(),
            ephemeral_secret: self.ephemeral.to_bytes(),
            round1_secrets: self.round1_secrets.iter().map(|s| s.serialize().expect("serialize")).collect(),
        }
    }

    /// Resumes a session from what `saved` kept (round-2 is derived again).
    pub fn resume(saved: Saved, members: Vec<Pubkey>, threshold: u16) -> Result<Self, DkgError> {
        let me = saved.mine.from;
        let secrets = saved
            .round1_secrets
            .iter()
            .map(|b| dkg::round1::SecretPackage::deserialize(b).map_err(frost_err))
            .collect::<Result<Vec<_>, _>>()?;
        let ephemeral =
            Option::from(Scalar::from_canonical_bytes(saved.ephemeral_secret)).ok_or(DkgError::Malformed(me))?;
        let mut s = Self::with(saved.mine.session, me, members, threshold, ephemeral, secrets, saved.mine.clone());
        s.got1.insert(me, saved.mine);
        Ok(s)
    }

    pub fn round1(&self) -> &Round1 {
        &self.mine
    }

    fn n(&self) -> u16 {
        self.members.len() as u16
    }

    /// Members whose round-1 message is still missing.
    pub fn missing_round1(&self) -> Vec<u16> {
        (0..self.n()).filter(|i| !self.got1.contains_key(i)).collect()
    }

    /// Members whose round-2 message to us is still missing.
    pub fn missing_round2(&self) -> Vec<u16> {
        (0..self.n()).filter(|i| *i != self.me && !self.got2.contains_key(i)).collect()
    }

    /// Checks and keeps another member's round-1 message.
    pub fn accept_round1(&mut self, msg: Round1) -> Result<(), DkgError> {
        if msg.session != self.id {
            return Err(DkgError::WrongSession);
        }
        let sender = *self.members.get(msg.from as usize).ok_or(DkgError::UnknownSender(msg.from))?;
        if !verify(&sender, &msg.signed_bytes(), &msg.signature) {
            return Err(DkgError::BadSignature(msg.from));
        }
        if let Some(known) = self.got1.get(&msg.from) {
            return if *known == msg { Ok(()) } else { Err(DkgError::Equivocation(msg.from)) };
        }
        let well_formed = msg.packages.len() == self.id.rounds as usize
            && msg.packages.iter().all(|p| dkg::round1::Package::deserialize(p).is_ok())
            && CompressedRistretto(msg.ephemeral).decompress().is_some();
        if !well_formed {
            return Err(DkgError::Malformed(msg.from));
        }
        self.got1.insert(msg.from, msg);
        Ok(())
    }

    /// The round-1 packages of every other member for round `k` of the session.
    fn others_round1(&self, k: usize) -> Result<BTreeMap<frost::Identifier, dkg::round1::Package>, DkgError> {
        self.got1
            .iter()
            .filter(|(i, _)| **i != self.me)
            .map(|(i, m)| {
                let p = dkg::round1::Package::deserialize(&m.packages[k]).map_err(|_| DkgError::Malformed(*i))?;
                Ok((identifier(*i), p))
            })
            .collect()
    }

    fn channel_key(&self, other_ephemeral: &[u8; 32], from: u16, to: u16) -> Result<[u8; 32], DkgError> {
        let point = CompressedRistretto(*other_ephemeral).decompress().ok_or(DkgError::Malformed(from))?;
        let shared = (self.ephemeral * point).compress().to_bytes();
        let info = [self.id.bytes(), from.to_le_bytes().to_vec(), to.to_le_bytes().to_vec()].concat();
        let mut key = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(Some(b"solex-keyper/round2"), &shared)
            .expand(&info, &mut key)
            .expect("32 bytes is a valid HKDF length");
        Ok(key)
    }

    /// Our round-2 message to `to`, once every round-1 message is in (FROST's part
    /// 2, run once for all recipients).
    pub fn round2_for(&mut self, to: u16, identity: &Keypair) -> Result<Option<Round2>, DkgError> {
        if !self.missing_round1().is_empty() || to == self.me || to >= self.n() {
            return Ok(None);
        }
        if self.round2_secrets.is_none() {
            let mut secrets = Vec::new();
            let mut per_recipient: BTreeMap<u16, Vec<Vec<u8>>> = BTreeMap::new();
            for k in 0..self.id.rounds as usize {
                let (secret, packages) =
                    dkg::part2(self.round1_secrets[k].clone(), &self.others_round1(k)?).map_err(frost_err)?;
                secrets.push(secret);
                for i in (0..self.n()).filter(|i| *i != self.me) {
                    let p = packages.get(&identifier(i)).ok_or(DkgError::Frost("a package is missing".into()))?;
                    per_recipient.entry(i).or_default().push(p.serialize().map_err(frost_err)?);
                }
            }
            for (i, packages) in per_recipient {
                let mut nonce = [0u8; 12];
                OsRng.fill_bytes(&mut nonce);
                let key = self.channel_key(&self.got1[&i].ephemeral, self.me, i)?;
                let aad = Round2::header(&self.id, self.me, i, &nonce);
                let plaintext = length_prefixed(&packages);
                let ciphertext = ChaCha20Poly1305::new(&key.into())
                    .encrypt(Nonce::from_slice(&nonce), Payload { msg: &plaintext, aad: &aad })
                    .map_err(|_| DkgError::Frost("encryption failed".into()))?;
                let mut msg = Round2 { session: self.id, from: self.me, to: i, nonce, ciphertext, signature: vec![] };
                msg.signature = identity.sign_message(&msg.signed_bytes()).as_ref().to_vec();
                self.mine2.insert(i, msg);
            }
            self.round2_secrets = Some(secrets);
        }
        Ok(self.mine2.get(&to).cloned())
    }

    /// Checks, decrypts and keeps another member's round-2 message to us.
    pub fn accept_round2(&mut self, msg: Round2) -> Result<(), DkgError> {
        if msg.session != self.id {
            return Err(DkgError::WrongSession);
        }
        if msg.to != self.me {
            return Err(DkgError::NotForMe(msg.to));
        }
        let sender = *self.members.get(msg.from as usize).ok_or(DkgError::UnknownSender(msg.from))?;
        if !verify(&sender, &msg.signed_bytes(), &msg.signature) {
            return Err(DkgError::BadSignature(msg.from));
        }
        let their = self.got1.get(&msg.from).ok_or(DkgError::Malformed(msg.from))?.ephemeral;
        let key = self.channel_key(&their, msg.from, self.me)?;
        let aad = Round2::header(&self.id, msg.from, self.me, &msg.nonce);
        let plaintext = ChaCha20Poly1305::new(&key.into())
            .decrypt(Nonce::from_slice(&msg.nonce), Payload { msg: &msg.ciphertext, aad: &aad })
            .map_err(|_| DkgError::Malformed(msg.from))?;
        let packages = split_length_prefixed(&plaintext)
            .filter(|p| p.len() == self.id.rounds as usize)
            .ok_or(DkgError::Malformed(msg.from))?
            .iter()
            .map(|b| dkg::round2::Package::deserialize(b).map_err(|_| DkgError::Malformed(msg.from)))
            .collect::<Result<Vec<_>, _>>()?;
        self.got2.insert(msg.from, packages);
        Ok(())
    }

    /// The session's keys once every message is in (FROST's part 3), else None.
    pub fn finish(&mut self) -> Result<Option<&[RoundKeys]>, DkgError> {
        if self.result.is_none() {
            let Some(secrets) = &self.round2_secrets else { return Ok(None) };
            if !self.missing_round2().is_empty() {
                return Ok(None);
            }
            let mut keys = Vec::new();
            for (k, round) in self.id.round_range().enumerate() {
                let round2: BTreeMap<_, _> = self.got2.iter().map(|(i, p)| (identifier(*i), p[k].clone())).collect();
                let (key_package, public) =
                    dkg::part3(&secrets[k], &self.others_round1(k)?, &round2).map_err(frost_err)?;
                keys.push(RoundKeys { round, key_package, public });
            }
            let _ = self.threshold;
            self.result = Some(keys);
        }
        Ok(self.result.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committee(n: usize) -> (Vec<Keypair>, Vec<Pubkey>) {
        let keys: Vec<Keypair> = (0..n).map(|_| Keypair::new()).collect();
        let pubs = keys.iter().map(|k| k.pubkey()).collect();
        (keys, pubs)
    }

    /// Runs a whole session among `sessions`, exchanging every message.
    fn exchange(sessions: &mut [Session], ids: &[Keypair]) {
        let round1: Vec<Round1> = sessions.iter().map(|s| s.round1().clone()).collect();
        for s in sessions.iter_mut() {
            for m in &round1 {
                s.accept_round1(m.clone()).unwrap();
            }
        }
        let n = sessions.len() as u16;
        let mut round2 = Vec::new();
        for (i, s) in sessions.iter_mut().enumerate() {
            for to in (0..n).filter(|t| *t as usize != i) {
                round2.push(s.round2_for(to, &ids[i]).unwrap().unwrap());
            }
        }
        for m in round2 {
            sessions[m.to as usize].accept_round2(m).unwrap();
        }
    }

    #[test]
    fn every_member_ends_with_the_same_keys_and_any_threshold_of_shares_opens_them() {
        let (ids, members) = committee(3);
        let id = SessionId { keyper_set: Pubkey::new_unique(), first_round: 100, rounds: 4 };
        let mut sessions: Vec<Session> =
            (0..3).map(|i| Session::start(id, i as u16, members.clone(), 2, &ids[i]).unwrap()).collect();
        exchange(&mut sessions, &ids);
        let results: Vec<Vec<RoundKeys>> = sessions.iter_mut().map(|s| s.finish().unwrap().unwrap().to_vec()).collect();
        for k in 0..4 {
            let group = results[0][k].group_key();
            let shares = results[0][k].verifying_shares(3);
            for r in &results {
                assert_eq!(
                    (r[k].round, r[k].group_key(), r[k].verifying_shares(3)),
                    (100 + k as u64, group, shares.clone())
                );
            }
            // Each member's share opens its verifying share, as the program checks.
            for (i, r) in results.iter().enumerate() {
                assert_eq!(solex_seal::public_key(&r[k].signing_share()), Some(shares[i]));
            }
            // Any two shares combine to the secret of the group key; one does not.
            for pair in [[0u16, 1], [1, 2], [0, 2]] {
                let picked: Vec<_> = pair
                    .iter()
                    .map(|&i| solex_seal::Share { index: i, share: results[i as usize][k].signing_share() })
                    .collect();
                let secret = solex_seal::combine_shares(&picked, 2, &group).unwrap();
                assert_eq!(solex_seal::public_key(&secret), Some(group));
            }
            let one = [solex_seal::Share { index: 0, share: results[0][k].signing_share() }];
            assert!(solex_seal::combine_shares(&one, 2, &group).is_err());
        }
    }

    #[test]
    fn forged_moved_equivocating_and_misaddressed_messages_are_refused() {
        let (ids, members) = committee(3);
        let id = SessionId { keyper_set: Pubkey::new_unique(), first_round: 7, rounds: 2 };
        let mut a = Session::start(id, 0, members.clone(), 2, &ids[0]).unwrap();
        let b = Session::start(id, 1, members.clone(), 2, &ids[1]).unwrap();
        // Signed by someone else.
        let mut forged = b.round1().clone();
        forged.signature = ids[2].sign_message(&forged.signed_bytes()).as_ref().to_vec();
        assert_eq!(a.accept_round1(forged), Err(DkgError::BadSignature(1)));
        // The same message moved to another session fails its session check, and
        // re-labelled it fails its signature.
        let mut moved = b.round1().clone();
        moved.session.first_round += 1;
        assert_eq!(a.accept_round1(moved.clone()), Err(DkgError::WrongSession));
        let other = Session::start(moved.session, 1, members.clone(), 2, &ids[1]).unwrap();
        let mut relabelled = other.round1().clone();
        relabelled.session = id;
        assert_eq!(a.accept_round1(relabelled), Err(DkgError::BadSignature(1)));
        // A second, different round-1 message from the same member.
        a.accept_round1(b.round1().clone()).unwrap();
        let again = Session::start(id, 1, members.clone(), 2, &ids[1]).unwrap();
        assert_eq!(a.accept_round1(again.round1().clone()), Err(DkgError::Equivocation(1)));
        // A round-2 message for someone else.
        let c = Session::start(id, 2, members.clone(), 2, &ids[2]).unwrap();
        a.accept_round1(c.round1().clone()).unwrap();
        let mut b = b;
        for m in [a.round1().clone(), c.round1().clone()] {
            b.accept_round1(m).unwrap();
        }
        let to_c = b.round2_for(2, &ids[1]).unwrap().unwrap();
        assert_eq!(a.accept_round2(to_c), Err(DkgError::NotForMe(2)));
        // A tampered ciphertext.
        let mut to_a = b.round2_for(0, &ids[1]).unwrap().unwrap();
        to_a.ciphertext[0] ^= 1;
        to_a.signature = ids[1].sign_message(&to_a.signed_bytes()).as_ref().to_vec();
        assert_eq!(a.accept_round2(to_a), Err(DkgError::Malformed(1)));
    }

    #[test]
    fn a_member_resumes_its_session_from_what_it_saved() {
        let (ids, members) = committee(3);
        let id = SessionId { keyper_set: Pubkey::new_unique(), first_round: 1, rounds: 3 };
        let mut sessions: Vec<Session> =
            (0..3).map(|i| Session::start(id, i as u16, members.clone(), 2, &ids[i]).unwrap()).collect();
        let saved = serde_json::to_string(&sessions[1].saved()).unwrap();
        sessions[1] = Session::resume(serde_json::from_str(&saved).unwrap(), members.clone(), 2).unwrap();
        exchange(&mut sessions, &ids);
        let keys: Vec<[u8; 32]> = sessions.iter_mut().map(|s| s.finish().unwrap().unwrap()[2].group_key()).collect();
        assert!(keys.iter().all(|k| *k == keys[0]));
    }
}
