//! The pure rules of the RP key lifecycle: `next` → `active` → `retired` → removed.
//! No clock and no database here: `now` is a parameter and every function works on
//! [`KeyInfo`] values, so the rules are unit-tested on their own.
//!
//! Why the delays:
//! - **Propagation** ([`DEFAULT_PROPAGATION_SECS`], 1 hour): an OP that verifies our client
//!   assertions (private_key_jwt) or request objects caches our JWKS (fetched from our
//!   `jwks_uri`, or re-read from the registration) for some time. A rotated key is therefore
//!   *published* as `next` first and only used for signing once OPs have had the chance to
//!   refetch; signing with a key the OP has never seen makes token requests fail until its
//!   cache expires (or until it refetches on an unknown `kid`, which not every OP does).
//! - **Grace** ([`DEFAULT_GRACE_SECS`], 1 hour, plus [`MAX_ASSERTION_LIFETIME_SECS`]): a retired
//!   key stays in the JWKS so that an assertion signed just before the switch (valid for at most
//!   60 s) still verifies, and so that OPs holding a slightly stale JWKS keep working.

use std::collections::BTreeMap;

use crate::error::StoreError;
use crate::key_state::KeyState;
use crate::model::{KeyAlg, KeyInfo, KeyUse};

/// The longest lifetime of a client assertion relier signs (seconds); a retired key stays
/// published at least this long.
pub const MAX_ASSERTION_LIFETIME_SECS: u64 = relier_core::client_auth::MAX_ASSERTION_LIFETIME_SECS;

/// Default grace period after retirement, on top of [`MAX_ASSERTION_LIFETIME_SECS`] (seconds).
pub const DEFAULT_GRACE_SECS: u64 = 3600;

/// Default delay between publishing a rotated key and signing with it (seconds): OPs cache a
/// client's `jwks_uri` document, typically for minutes to an hour.
pub const DEFAULT_PROPAGATION_SECS: u64 = 3600;

/// The end of the grace period of a key retired at `now`:
/// `now + MAX_ASSERTION_LIFETIME_SECS + grace_secs`.
#[must_use]
pub fn grace_until(now: u64, grace_secs: u64) -> u64 {
    now.saturating_add(MAX_ASSERTION_LIFETIME_SECS)
        .saturating_add(grace_secs)
}

/// State and `activates_at` of a freshly generated key: `active` at once when the algorithm
/// has no active key, else `next` with `activates_at = now + delay_secs` (0 for `generate`,
/// the propagation delay for `rotate`).
#[must_use]
pub fn new_key_state(has_active: bool, now: u64, delay_secs: u64) -> (KeyState, Option<u64>) {
    if has_active {
        (KeyState::Next, Some(now.saturating_add(delay_secs)))
    } else {
        (KeyState::Active, None)
    }
}

/// One state change to apply to a stored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The key.
    pub kid: String,
    /// Its algorithm.
    pub alg: KeyAlg,
    /// State before.
    pub from: KeyState,
    /// State after.
    pub to: KeyState,
    /// New `retired_at` (set when `to` is retired).
    pub retired_at: Option<u64>,
    /// New `grace_until` (set when `to` is retired).
    pub grace_until: Option<u64>,
}

impl Transition {
    fn retire(key: &KeyInfo, now: u64, grace_secs: u64) -> Self {
        Transition {
            kid: key.kid.clone(),
            alg: key.alg,
            from: key.state,
            to: KeyState::Retired,
            retired_at: Some(now),
            grace_until: Some(grace_until(now, grace_secs)),
        }
    }

    fn activate(key: &KeyInfo) -> Self {
        Transition {
            kid: key.kid.clone(),
            alg: key.alg,
            from: key.state,
            to: KeyState::Active,
            retired_at: None,
            grace_until: None,
        }
    }
}

/// What `advance` does at `now`: per use and algorithm, the `next` keys whose `activates_at <= now`
/// are promoted in `activates_at` order (ties: `created_at`, then kid); each promotion retires
/// the key active before it. Net effect: the latest due key becomes active, the previously
/// active key and any earlier due keys become retired with `grace_until(now, grace_secs)`.
///
/// The transitions are ordered so that applying them in order never has two active keys for
/// one use and algorithm: all retirements of an algorithm come before its activation. (An RS256
/// entity key and an RS256 signing key are two lifecycles.)
#[must_use]
pub fn plan_advance(keys: &[KeyInfo], now: u64, grace_secs: u64) -> Vec<Transition> {
    /// The active keys and the due `next` keys of one use and algorithm.
    type Lifecycle<'a> = (Vec<&'a KeyInfo>, Vec<&'a KeyInfo>);
    let mut by_alg: BTreeMap<(KeyUse, &str), Lifecycle<'_>> = BTreeMap::new();
    for key in keys {
        let entry = by_alg
            .entry((key.alg.key_use(), key.alg.as_str()))
            .or_default();
        match key.state {
            KeyState::Active => entry.0.push(key),
            KeyState::Next if key.activates_at.is_none_or(|t| t <= now) => entry.1.push(key),
            KeyState::Next | KeyState::Retired => {}
        }
    }
    let mut plan = Vec::new();
    for (active, mut due) in by_alg.into_values() {
        if due.is_empty() {
            continue;
        }
        due.sort_by(|a, b| {
            (a.activates_at, a.created_at, &a.kid).cmp(&(b.activates_at, b.created_at, &b.kid))
        });
        let Some((winner, earlier)) = due.split_last() else {
            continue;
        };
        plan.extend(
            active
                .iter()
                .map(|k| Transition::retire(k, now, grace_secs)),
        );
        plan.extend(
            earlier
                .iter()
                .map(|k| Transition::retire(k, now, grace_secs)),
        );
        plan.push(Transition::activate(winner));
    }
    plan
}

/// What `retire` does: an active or next key becomes retired with `grace_until(now,
/// grace_secs)`; an already retired key is left as it is (`None`).
#[must_use]
pub fn plan_retire(key: &KeyInfo, now: u64, grace_secs: u64) -> Option<Transition> {
    match key.state {
        KeyState::Active | KeyState::Next => Some(Transition::retire(key, now, grace_secs)),
        KeyState::Retired => None,
    }
}

/// Whether `remove` may delete `key` at `now`: an active key, or a retired key whose grace
/// period has not ended, is refused unless `force`. A `next` key was never used for signing
/// and may be removed (it is only published).
///
/// # Errors
/// [`StoreError::KeyInUse`].
pub fn check_remove(key: &KeyInfo, force: bool, now: u64) -> Result<(), StoreError> {
    if force {
        return Ok(());
    }
    let in_use = match key.state {
        KeyState::Active => Some(None),
        KeyState::Retired => match key.grace_until {
            Some(until) if until > now => Some(Some(until)),
            _ => None,
        },
        KeyState::Next => None,
    };
    match in_use {
        Some(until) => Err(StoreError::KeyInUse {
            kid: key.kid.clone(),
            state: key.state,
            until,
        }),
        None => Ok(()),
    }
}

/// Whether `key` belongs in the public JWKS at `now`: next and active keys, and retired keys
/// until their grace period ends.
#[must_use]
pub fn is_published(key: &KeyInfo, now: u64) -> bool {
    match key.state {
        KeyState::Next | KeyState::Active => true,
        KeyState::Retired => key.grace_until.is_some_and(|until| until > now),
    }
}

/// Scheduled rotation: the algorithms whose active key has been active for `interval` seconds
/// and that have no `next` key yet. Entity keys are long-lived: they rotate only when asked
/// (`rotate_keys` naming the entity algorithm), never on a schedule.
#[must_use]
pub fn due_for_rotation(keys: &[KeyInfo], interval: u64, now: u64) -> Vec<KeyAlg> {
    let mut due = Vec::new();
    for k in keys
        .iter()
        .filter(|k| k.state == KeyState::Active && k.alg.key_use() != KeyUse::Entity)
    {
        let pending = keys
            .iter()
            .any(|n| n.alg == k.alg && n.state == KeyState::Next);
        let since = k.activates_at.unwrap_or(k.created_at).max(k.created_at);
        if !pending && now >= since.saturating_add(interval) && !due.contains(&k.alg) {
            due.push(k.alg);
        }
    }
    due
}

#[cfg(test)]
mod tests {
    use relier_jose::Algorithm;
    use relier_jose::jwe::KeyManagementAlg;

    use super::*;

    fn key(kid: &str, alg: impl Into<KeyAlg>, state: KeyState) -> KeyInfo {
        KeyInfo {
            kid: kid.into(),
            alg: alg.into(),
            state,
            created_at: 100,
            activates_at: None,
            retired_at: None,
            grace_until: None,
        }
    }

    fn next(kid: &str, alg: impl Into<KeyAlg>, at: u64) -> KeyInfo {
        KeyInfo {
            activates_at: Some(at),
            ..key(kid, alg, KeyState::Next)
        }
    }

    /// Applies a plan to a list of keys, checking the one-active-per-alg invariant after every
    /// step (as the partial unique index does).
    fn apply(keys: &mut [KeyInfo], plan: &[Transition]) {
        for t in plan {
            let k = keys.iter_mut().find(|k| k.kid == t.kid).unwrap();
            assert_eq!(k.state, t.from);
            k.state = t.to;
            if t.to == KeyState::Retired {
                k.retired_at = t.retired_at;
                k.grace_until = t.grace_until;
            }
            for alg in [
                KeyAlg::Sig(Algorithm::ES256),
                KeyAlg::Sig(Algorithm::RS256),
                KeyAlg::Entity(Algorithm::RS256),
                KeyAlg::Enc(KeyManagementAlg::EcdhEs),
            ] {
                let active = keys
                    .iter()
                    .filter(|k| k.alg == alg && k.state == KeyState::Active)
                    .count();
                assert!(active <= 1, "two active {alg} keys after {t:?}");
            }
        }
    }

    #[test]
    fn grace_includes_assertion_lifetime() {
        assert_eq!(MAX_ASSERTION_LIFETIME_SECS, 60);
        assert_eq!(grace_until(1000, 3600), 1000 + 60 + 3600);
        assert_eq!(grace_until(u64::MAX, 1), u64::MAX);
    }

    #[test]
    fn first_key_is_active_later_ones_next() {
        assert_eq!(new_key_state(false, 10, 3600), (KeyState::Active, None));
        assert_eq!(new_key_state(true, 10, 0), (KeyState::Next, Some(10)));
        assert_eq!(new_key_state(true, 10, 3600), (KeyState::Next, Some(3610)));
    }

    #[test]
    fn advance_promotes_due_next_and_retires_active() {
        let mut keys = vec![
            key("a", Algorithm::ES256, KeyState::Active),
            next("b", Algorithm::ES256, 500),
        ];
        assert!(plan_advance(&keys, 499, 3600).is_empty());
        let plan = plan_advance(&keys, 500, 3600);
        assert_eq!(plan.len(), 2);
        apply(&mut keys, &plan);
        assert_eq!(keys[0].state, KeyState::Retired);
        assert_eq!(keys[0].retired_at, Some(500));
        assert_eq!(keys[0].grace_until, Some(500 + 60 + 3600));
        assert_eq!(keys[1].state, KeyState::Active);
        // Idempotent.
        assert!(plan_advance(&keys, 10_000, 3600).is_empty());
    }

    #[test]
    fn advance_with_several_due_keeps_the_latest() {
        let mut keys = vec![
            key("a", Algorithm::ES256, KeyState::Active),
            next("c", Algorithm::ES256, 300),
            next("b", Algorithm::ES256, 200),
            next("d", Algorithm::ES256, 900),
            key("r", Algorithm::RS256, KeyState::Active),
        ];
        let plan = plan_advance(&keys, 400, 10);
        apply(&mut keys, &plan);
        let state = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().state;
        assert_eq!(state("a"), KeyState::Retired);
        assert_eq!(state("b"), KeyState::Retired);
        assert_eq!(state("c"), KeyState::Active);
        assert_eq!(state("d"), KeyState::Next);
        assert_eq!(state("r"), KeyState::Active);
    }

    #[test]
    fn advance_activates_when_no_active_key() {
        let mut keys = vec![next("n", Algorithm::RS256, 5)];
        let plan = plan_advance(&keys, 5, 0);
        assert_eq!(plan.len(), 1);
        apply(&mut keys, &plan);
        assert_eq!(keys[0].state, KeyState::Active);
    }

    #[test]
    fn advance_is_per_algorithm() {
        let mut keys = vec![
            key("e", Algorithm::ES256, KeyState::Active),
            next("r2", Algorithm::RS256, 1),
            key("r1", Algorithm::RS256, KeyState::Active),
        ];
        let plan = plan_advance(&keys, 2, 0);
        apply(&mut keys, &plan);
        assert_eq!(keys[0].state, KeyState::Active);
        assert_eq!(keys[1].state, KeyState::Active);
        assert_eq!(keys[2].state, KeyState::Retired);
    }

    #[test]
    fn retire_rules() {
        let active = key("a", Algorithm::ES256, KeyState::Active);
        let t = plan_retire(&active, 100, 3600).unwrap();
        assert_eq!(t.to, KeyState::Retired);
        assert_eq!(t.grace_until, Some(100 + 60 + 3600));
        assert!(plan_retire(&next("n", Algorithm::ES256, 1), 100, 0).is_some());
        assert!(plan_retire(&key("r", Algorithm::ES256, KeyState::Retired), 100, 0).is_none());
    }

    #[test]
    fn remove_refuses_keys_in_use() {
        let active = key("a", Algorithm::ES256, KeyState::Active);
        assert!(matches!(
            check_remove(&active, false, 0),
            Err(StoreError::KeyInUse {
                state: KeyState::Active,
                until: None,
                ..
            })
        ));
        assert!(check_remove(&active, true, 0).is_ok());

        let retired = KeyInfo {
            grace_until: Some(1000),
            ..key("r", Algorithm::ES256, KeyState::Retired)
        };
        assert!(matches!(
            check_remove(&retired, false, 999),
            Err(StoreError::KeyInUse {
                until: Some(1000),
                ..
            })
        ));
        assert!(check_remove(&retired, false, 1000).is_ok());
        assert!(check_remove(&retired, true, 0).is_ok());
        assert!(check_remove(&next("n", Algorithm::ES256, 5), false, 0).is_ok());
    }

    #[test]
    fn published_keys() {
        let retired = KeyInfo {
            grace_until: Some(1000),
            ..key("r", Algorithm::ES256, KeyState::Retired)
        };
        assert!(is_published(&retired, 999));
        assert!(!is_published(&retired, 1000));
        assert!(is_published(
            &key("a", Algorithm::ES256, KeyState::Active),
            u64::MAX
        ));
        assert!(is_published(&next("n", Algorithm::ES256, 5), 0));
        assert!(!is_published(
            &key("x", Algorithm::ES256, KeyState::Retired),
            0
        ));
    }

    fn rot_key(kid: &str, state: KeyState, created: u64, activates: Option<u64>) -> KeyInfo {
        KeyInfo {
            kid: kid.into(),
            alg: Algorithm::ES256.into(),
            state,
            created_at: created,
            activates_at: activates,
            retired_at: None,
            grace_until: None,
        }
    }

    #[test]
    fn rotation_is_due_after_the_interval_without_a_pending_key() {
        let k = [rot_key("a", KeyState::Active, 100, None)];
        assert!(due_for_rotation(&k, 50, 149).is_empty());
        assert_eq!(
            due_for_rotation(&k, 50, 150),
            vec![KeyAlg::Sig(Algorithm::ES256)]
        );
        let with_next = [
            rot_key("a", KeyState::Active, 100, None),
            rot_key("b", KeyState::Next, 150, Some(200)),
        ];
        assert!(due_for_rotation(&with_next, 50, 500).is_empty());
        // activated later than created: the interval counts from activation
        let promoted = [rot_key("b", KeyState::Active, 150, Some(200))];
        assert!(due_for_rotation(&promoted, 50, 240).is_empty());
        assert_eq!(
            due_for_rotation(&promoted, 50, 250),
            vec![KeyAlg::Sig(Algorithm::ES256)]
        );
    }

    #[test]
    fn entity_keys_have_their_own_lifecycle_and_no_schedule() {
        let entity = KeyAlg::Entity(Algorithm::RS256);
        let mut keys = vec![
            key("s1", Algorithm::RS256, KeyState::Active),
            key("e1", entity, KeyState::Active),
            next("e2", entity, 50),
        ];
        let plan = plan_advance(&keys, 50, 10);
        assert_eq!(plan.len(), 2, "{plan:?}");
        apply(&mut keys, &plan);
        let state = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().state;
        assert_eq!(state("s1"), KeyState::Active);
        assert_eq!(state("e1"), KeyState::Retired);
        assert_eq!(state("e2"), KeyState::Active);
        // A signing key activating does not retire the entity key of the same algorithm.
        keys.push(next("s2", Algorithm::RS256, 60));
        let plan = plan_advance(&keys, 60, 10);
        apply(&mut keys, &plan);
        let state = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().state;
        assert_eq!(state("e2"), KeyState::Active);
        assert_eq!(state("s2"), KeyState::Active);
        // Scheduled rotation never picks an entity key.
        assert_eq!(
            due_for_rotation(&keys, 1, 10_000),
            vec![KeyAlg::Sig(Algorithm::RS256)]
        );
    }

    #[test]
    fn enc_keys_share_the_lifecycle_beside_a_signing_key_of_the_same_curve() {
        let enc = KeyAlg::Enc(KeyManagementAlg::EcdhEs);
        let mut keys = vec![
            key("s", Algorithm::ES256, KeyState::Active),
            key("e1", enc, KeyState::Active),
            next("e2", enc, 50),
        ];
        let plan = plan_advance(&keys, 50, 10);
        assert_eq!(plan.len(), 2);
        apply(&mut keys, &plan);
        let state = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().state;
        assert_eq!(state("s"), KeyState::Active);
        assert_eq!(state("e1"), KeyState::Retired);
        assert_eq!(state("e2"), KeyState::Active);
        let rotated = [
            rot_key("s", KeyState::Active, 0, None),
            KeyInfo {
                alg: enc,
                ..rot_key("e", KeyState::Active, 0, None)
            },
        ];
        assert_eq!(
            due_for_rotation(&rotated, 10, 10),
            vec![KeyAlg::Sig(Algorithm::ES256), enc]
        );
    }
}
