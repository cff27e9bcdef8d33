//! The audit log: append-only, each entry chained to the one before by
//! `hash = SHA-256(prev_hash || canonical JSON of the entry without its hash)`. Changing,
//! removing or reordering any entry breaks every later link; `verify` names the first.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{GENESIS, StoreError, canonical_json, sha256_hex};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub org_id: String,
    pub estate_id: String,
    pub action: String,
    pub detail: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        seq: i64,
        at: String,
        actor: &str,
        org_id: &str,
        estate_id: &str,
        action: &str,
        detail: serde_json::Value,
        prev_hash: String,
    ) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            at,
            actor: actor.into(),
            org_id: org_id.into(),
            estate_id: estate_id.into(),
            action: action.into(),
            detail,
            prev_hash,
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }

    /// The hash this entry should have, from its content and `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let body = serde_json::json!({
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "org_id": self.org_id,
            "estate_id": self.estate_id,
            "action": self.action,
            "detail": self.detail,
        });
        let mut bytes = self.prev_hash.clone().into_bytes();
        bytes.extend_from_slice(canonical_json(&body).as_bytes());
        sha256_hex(&bytes)
    }
}

pub(crate) fn entry_of(r: &AnyRow) -> Result<AuditEntry, StoreError> {
    let detail: String = r.try_get(6)?;
    Ok(AuditEntry {
        seq: r.try_get(0)?,
        at: r.try_get(1)?,
        actor: r.try_get(2)?,
        org_id: r.try_get(3)?,
        estate_id: r.try_get(4)?,
        action: r.try_get(5)?,
        // A detail that no longer parses is tampering too; keep the text so the hash check
        // reports it.
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        prev_hash: r.try_get(7)?,
        hash: r.try_get(8)?,
    })
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum LogCheck {
    /// Every entry links to the one before and the head names the last.
    Intact { entries: i64, head: String },
    /// The first entry that does not check, and why.
    Broken { seq: i64, why: String },
}

pub(crate) struct Checker {
    prev_seq: i64,
    prev_hash: String,
}

impl Checker {
    pub fn new() -> Checker {
        Checker {
            prev_seq: 0,
            prev_hash: GENESIS.into(),
        }
    }

    pub fn next(&mut self, e: &AuditEntry) -> Option<LogCheck> {
        let broken = |why: String| Some(LogCheck::Broken { seq: e.seq, why });
        if e.seq != self.prev_seq + 1 {
            return broken(format!(
                "entry {} follows entry {}: entries {}..{} are missing",
                e.seq,
                self.prev_seq,
                self.prev_seq + 1,
                e.seq - 1
            ));
        }
        if e.prev_hash != self.prev_hash {
            return broken(format!(
                "its previous hash {} is not the hash of entry {} ({})",
                short(&e.prev_hash),
                self.prev_seq,
                short(&self.prev_hash)
            ));
        }
        let want = e.compute_hash();
        if e.hash != want {
            return broken(format!(
                "its content does not match its hash (stored {}, computed {}): the entry was changed",
                short(&e.hash),
                short(&want)
            ));
        }
        self.prev_seq = e.seq;
        self.prev_hash = e.hash.clone();
        None
    }

    pub fn finish(self, head_seq: i64, head_hash: String) -> LogCheck {
        if head_seq != self.prev_seq || head_hash != self.prev_hash {
            return LogCheck::Broken {
                seq: self.prev_seq + 1,
                why: format!(
                    "the log ends at entry {} but the head records entry {head_seq}: entries were removed from the end",
                    self.prev_seq
                ),
            };
        }
        LogCheck::Intact {
            entries: self.prev_seq,
            head: self.prev_hash,
        }
    }
}

fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}
