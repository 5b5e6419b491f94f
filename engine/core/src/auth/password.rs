//! argon2id password hashes.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so the cost parameters travel
//! with each hash: raising the cost later only affects new hashes, and old ones still verify.
//! Hashing is deliberately slow; callers on an async runtime run it on a blocking thread.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use serde::{Deserialize, Serialize};

/// argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordParams {
    /// Memory per hash in KiB.
    pub memory_kib: u32,
    /// Number of passes over the memory.
    pub iterations: u32,
    /// Lanes computed in parallel.
    pub parallelism: u32,
}

impl PasswordParams {
    /// The OWASP-recommended minimum for argon2id (19 MiB, 2 passes, 1 lane): roughly 20–40 ms
    /// per hash on a server core, which is what makes offline guessing expensive.
    pub const RECOMMENDED: Self = Self {
        memory_kib: Params::DEFAULT_M_COST,
        iterations: Params::DEFAULT_T_COST,
        parallelism: Params::DEFAULT_P_COST,
    };

    /// The cheapest parameters argon2 accepts. Only for tests, where hundreds of hashes must not
    /// take minutes; never use them for real accounts.
    pub const INSECURE_FAST_FOR_TESTS: Self = Self {
        memory_kib: Params::MIN_M_COST,
        iterations: Params::MIN_T_COST,
        parallelism: Params::MIN_P_COST,
    };
}

impl Default for PasswordParams {
    fn default() -> Self {
        Self::RECOMMENDED
    }
}

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The configured cost parameters are out of argon2's range.
    #[error("invalid argon2 parameters: {0}")]
    Params(String),
    /// The stored hash is not a PHC string we can read (a corrupt or foreign row).
    #[error("stored password hash is unreadable: {0}")]
    UnreadableHash(String),
    /// Hashing itself failed (e.g. the random salt could not be drawn).
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// Hashes and verifies passwords with one set of argon2id parameters.
#[derive(Clone, Debug)]
pub struct PasswordHashing {
    params: Params,
    /// A real hash of a fixed string, verified against when a login names an unknown user, so
    /// that "no such user" costs the same time as "wrong password".
    decoy_hash: String,
}

impl PasswordHashing {
    /// Validates the parameters and prepares the decoy hash (one hash at the configured cost).
    pub fn new(params: PasswordParams) -> Result<Self, PasswordError> {
        let argon_params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| PasswordError::Params(e.to_string()))?;
        let mut hashing = Self {
            params: argon_params,
            decoy_hash: String::new(),
        };
        hashing.decoy_hash = hashing.hash("decoy password for unknown users")?;
        Ok(hashing)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes `password` with a fresh random salt into a PHC string.
    pub fn hash(&self, password: &str) -> Result<String, PasswordError> {
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hashing(e.to_string()))
    }

    /// Whether `password` matches the PHC string `stored`. The parameters stored in the hash are
    /// used, not the configured ones, so hashes made under older settings keep working.
    pub fn verify(&self, password: &str, stored: &str) -> Result<bool, PasswordError> {
        let parsed =
            PasswordHash::new(stored).map_err(|e| PasswordError::UnreadableHash(e.to_string()))?;
        match self.argon2().verify_password(password.as_bytes(), &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(e) => Err(PasswordError::UnreadableHash(e.to_string())),
        }
    }

    /// Spends the time of one verification and always answers "no". Call it when the account
    /// does not exist, so response timing does not reveal which usernames are taken.
    pub fn verify_decoy(&self, password: &str) -> bool {
        // The result is discarded on purpose: only the time spent matters.
        let _ = self.verify(password, &self.decoy_hash);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> PasswordHashing {
        PasswordHashing::new(PasswordParams::INSECURE_FAST_FOR_TESTS).unwrap()
    }

    #[test]
    fn hash_then_verify() {
        let h = fast();
        let phc = h.hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        assert!(h.verify("correct horse battery", &phc).unwrap());
        assert!(!h.verify("correct horse batterz", &phc).unwrap());
    }

    #[test]
    fn salts_differ() {
        let h = fast();
        assert_ne!(h.hash("same").unwrap(), h.hash("same").unwrap());
    }

    #[test]
    fn hashes_from_other_params_still_verify() {
        let strong = PasswordHashing::new(PasswordParams {
            memory_kib: 64,
            iterations: 2,
            parallelism: 2,
        })
        .unwrap();
        let phc = strong.hash("pw-12345678").unwrap();
        assert!(fast().verify("pw-12345678", &phc).unwrap());
    }

    #[test]
    fn garbage_hash_is_an_error_not_a_match() {
        let h = fast();
        assert!(matches!(
            h.verify("x", "not a phc string"),
            Err(PasswordError::UnreadableHash(_))
        ));
        assert!(!h.verify_decoy("anything"));
    }

    #[test]
    fn invalid_params_are_rejected() {
        let err = PasswordHashing::new(PasswordParams {
            memory_kib: 1,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap_err();
        assert!(matches!(err, PasswordError::Params(_)));
    }
}
