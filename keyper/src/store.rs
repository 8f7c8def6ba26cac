//! What a keyper keeps on disk, in its state directory: its unfinished DKG session
//! (so a restart resumes the session it published instead of starting another and
//! equivocating), and its shares of every round key, one file per session. Files are
//! written whole (to a temporary name, then renamed) and readable by the owner only.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::dkg::{RoundKeys, Saved};

/// A round key as this keyper holds it: the public parts and its own share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKey {
    pub round: u64,
    #[serde(with = "hex")]
    pub group_key: [u8; 32],
    pub verifying_shares: Vec<String>,
    #[serde(with = "hex")]
    pub signing_share: [u8; 32],
}

impl StoredKey {
    pub fn from_keys(k: &RoundKeys, n: u16) -> Self {
        Self {
            round: k.round,
            group_key: k.group_key(),
            verifying_shares: k.verifying_shares(n).iter().map(hex::encode).collect(),
            signing_share: k.signing_share(),
        }
    }

    pub fn verifying_shares(&self) -> anyhow::Result<Vec<[u8; 32]>> {
        self.verifying_shares
            .iter()
            .map(|h| hex::decode(h)?.try_into().map_err(|_| anyhow::anyhow!("a verifying share is not 32 bytes")))
            .collect()
    }
}

pub struct Store {
    dir: PathBuf,
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options.open(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

impl Store {
    pub fn open(dir: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self { dir })
    }

    fn session_path(&self, first_round: u64) -> PathBuf {
        self.dir.join(format!("session-{first_round}.json"))
    }

    fn keys_path(&self, first_round: u64) -> PathBuf {
        self.dir.join(format!("keys-{first_round}.json"))
    }

    pub fn save_session(&self, saved: &Saved) -> anyhow::Result<()> {
        write_private(&self.session_path(saved.mine.session.first_round), &serde_json::to_vec(saved)?)
    }

    /// The session starting at `first_round` this keyper published, if it was not finished.
    pub fn session(&self, first_round: u64) -> anyhow::Result<Option<Saved>> {
        let path = self.session_path(first_round);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| format!("{}", path.display()))?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub fn forget_session(&self, first_round: u64) -> anyhow::Result<()> {
        match std::fs::remove_file(self.session_path(first_round)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Keeps a finished session's keys, then forgets the session.
    pub fn save_keys(&self, first_round: u64, keys: &[StoredKey]) -> anyhow::Result<()> {
        write_private(&self.keys_path(first_round), &serde_json::to_vec(keys)?)?;
        self.forget_session(first_round)
    }

    /// Every round key held, by round.
    pub fn keys(&self) -> anyhow::Result<BTreeMap<u64, StoredKey>> {
        let mut out = BTreeMap::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name.starts_with("keys-") && name.ends_with(".json") {
                let keys: Vec<StoredKey> =
                    serde_json::from_slice(&std::fs::read(&path)?).with_context(|| format!("{}", path.display()))?;
                out.extend(keys.into_iter().map(|k| (k.round, k)));
            }
        }
        Ok(out)
    }

    /// Deletes the key files whose every round is before `round` (their batches are
    /// long settled or voided).
    pub fn prune(&self, round: u64) -> anyhow::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            if let Some(first) = name.strip_prefix("keys-").and_then(|n| n.strip_suffix(".json")) {
                let keys: Vec<StoredKey> = serde_json::from_slice(&std::fs::read(&path)?)?;
                if first.parse::<u64>().is_ok() && keys.iter().all(|k| k.round < round) {
                    std::fs::remove_file(&path)?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}
