//! JWT access tokens (HS256).
//!
//! An access token is short-lived (30 minutes by default) and self-contained: any node holding the
//! shared secret can check it without a database round trip. Expiry is checked against a `now`
//! passed by the caller rather than the system clock, so the rules here are testable without
//! waiting, and "expired" is reported apart from "invalid" so a client knows to refresh instead of
//! logging in again.

use std::fmt;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::ids::{OrgId, UserId};
use crate::rbac::Role;

/// The only signing algorithm we issue and accept.
const ALGORITHM: Algorithm = Algorithm::HS256;

/// Seconds of clock difference between nodes tolerated when checking `exp`.
pub const CLOCK_SKEW_LEEWAY_SECS: i64 = 5;

/// The default lifetime of an access token.
pub const DEFAULT_ACCESS_TTL: Duration = Duration::minutes(30);

/// The shortest HMAC secret we accept, in bytes (HS256 wants at least the hash size).
pub const MIN_SECRET_LEN: usize = 32;

/// What an access token asserts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user.
    pub sub: UserId,
    /// The user's organization.
    pub org: OrgId,
    /// The user's role when the token was issued.
    pub role: Role,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// A random token id, so two tokens issued in the same second still differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// A freshly signed token and what it says.
#[derive(Clone, Debug)]
pub struct IssuedAccessToken {
    pub token: String,
    pub claims: AccessClaims,
}

/// Why a token was refused or could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AccessTokenError {
    /// Well-formed and correctly signed, but past its `exp`.
    #[error("access token expired")]
    Expired,
    /// Not a token we issued: garbage, bad signature, wrong algorithm, missing claims.
    #[error("invalid access token: {0}")]
    Invalid(String),
    /// The configured secret is too short to be safe.
    #[error("JWT secret must be at least {MIN_SECRET_LEN} bytes")]
    WeakSecret,
    /// Signing failed (should not happen with an HMAC key).
    #[error("could not sign access token: {0}")]
    Signing(String),
}

impl AccessTokenError {
    /// The stable error code clients see (`token_expired` or `unauthorized`).
    pub fn code(&self) -> &'static str {
        match self {
            AccessTokenError::Expired => "token_expired",
            _ => "unauthorized",
        }
    }
}

/// Issues and verifies access tokens with one shared secret.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the key material.
        f.debug_struct("AccessTokens")
            .field("algorithm", &ALGORITHM)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl AccessTokens {
    /// Keys for `secret`; tokens live for `ttl`.
    pub fn new(secret: &[u8], ttl: Duration) -> Result<Self, AccessTokenError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(AccessTokenError::WeakSecret);
        }
        let mut validation = Validation::new(ALGORITHM);
        // `exp` must be present, but we compare it with the caller's clock ourselves (see
        // `verify`), so the library's own wall-clock check is off.
        validation.validate_exp = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        })
    }

    /// How long issued tokens live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs a token for `user` valid from `now` for the configured lifetime.
    pub fn issue(
        &self,
        user: UserId,
        org: OrgId,
        role: Role,
        now: OffsetDateTime,
    ) -> Result<IssuedAccessToken, AccessTokenError> {
        let iat = now.unix_timestamp();
        let claims = AccessClaims {
            sub: user,
            org,
            role,
            iat,
            exp: iat + self.ttl.whole_seconds(),
            jti: Some(random_jti()),
        };
        let token = self.sign(&claims)?;
        Ok(IssuedAccessToken { token, claims })
    }

    /// Signs arbitrary claims (tests use it to mint expired tokens).
    pub fn sign(&self, claims: &AccessClaims) -> Result<String, AccessTokenError> {
        jsonwebtoken::encode(&Header::new(ALGORITHM), claims, &self.encoding)
            .map_err(|e| AccessTokenError::Signing(e.to_string()))
    }

    /// Checks signature, algorithm and shape, then expiry against `now`.
    pub fn verify(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<AccessClaims, AccessTokenError> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|e| AccessTokenError::Invalid(describe(e.kind())))?;
        let claims = data.claims;
        if now.unix_timestamp() >= claims.exp.saturating_add(CLOCK_SKEW_LEEWAY_SECS) {
            return Err(AccessTokenError::Expired);
        }
        Ok(claims)
    }
}

/// A short, non-leaking reason for a rejected token (for logs; clients get a fixed message).
fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::InvalidSignature => "bad signature".into(),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => "wrong algorithm".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("missing claim {c}"),
        ErrorKind::InvalidClaimFormat(c) => format!("malformed claim {c}"),
        ErrorKind::Json(_) => "malformed claims".into(),
        ErrorKind::Base64(_) | ErrorKind::Utf8(_) | ErrorKind::InvalidToken => "not a JWT".into(),
        _ => "rejected".into(),
    }
}

fn random_jti() -> String {
    let bytes: [u8; 12] = rand::random();
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

    fn keys() -> AccessTokens {
        AccessTokens::new(SECRET, DEFAULT_ACCESS_TTL).unwrap()
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    #[test]
    fn issue_then_verify() {
        let k = keys();
        let (user, org) = (UserId::new(), OrgId::new());
        let issued = k.issue(user, org, Role::Moderator, now()).unwrap();
        let claims = k.verify(&issued.token, now()).unwrap();
        assert_eq!(claims, issued.claims);
        assert_eq!(claims.sub, user);
        assert_eq!(claims.org, org);
        assert_eq!(claims.role, Role::Moderator);
        assert_eq!(claims.exp - claims.iat, 30 * 60);
        // Still valid one second before expiry.
        let late = now() + DEFAULT_ACCESS_TTL - Duration::seconds(1);
        assert!(k.verify(&issued.token, late).is_ok());
    }

    #[test]
    fn expired_is_told_apart() {
        let k = keys();
        let issued = k
            .issue(UserId::new(), OrgId::new(), Role::User, now())
            .unwrap();
        let after = now() + DEFAULT_ACCESS_TTL + Duration::seconds(CLOCK_SKEW_LEEWAY_SECS);
        let err = k.verify(&issued.token, after).unwrap_err();
        assert!(matches!(err, AccessTokenError::Expired));
        assert_eq!(err.code(), "token_expired");
    }

    #[test]
    fn forged_signature_is_invalid() {
        let other = AccessTokens::new(b"another-secret-another-secret-another", DEFAULT_ACCESS_TTL)
            .unwrap();
        let forged = other
            .issue(UserId::new(), OrgId::new(), Role::Admin, now())
            .unwrap();
        let err = keys().verify(&forged.token, now()).unwrap_err();
        assert!(matches!(err, AccessTokenError::Invalid(_)), "{err}");
        assert_eq!(err.code(), "unauthorized");

        // Same header and claims, but the payload altered after signing (role escalation).
        let issued = keys()
            .issue(UserId::new(), OrgId::new(), Role::Guest, now())
            .unwrap();
        let mut parts: Vec<&str> = issued.token.split('.').collect();
        let mut claims = issued.claims.clone();
        claims.role = Role::Admin;
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        parts[1] = &payload;
        let tampered = parts.join(".");
        assert!(matches!(
            keys().verify(&tampered, now()),
            Err(AccessTokenError::Invalid(_))
        ));
    }

    #[test]
    fn wrong_algorithm_is_invalid() {
        let claims = keys()
            .issue(UserId::new(), OrgId::new(), Role::User, now())
            .unwrap()
            .claims;
        // Same secret, different HMAC: still refused.
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert!(matches!(
            keys().verify(&hs512, now()),
            Err(AccessTokenError::Invalid(m)) if m == "wrong algorithm"
        ));
        // The classic `alg: none` downgrade.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        let unsigned = format!("{header}.{payload}.");
        assert!(matches!(
            keys().verify(&unsigned, now()),
            Err(AccessTokenError::Invalid(_))
        ));
    }

    #[test]
    fn garbage_is_invalid() {
        let k = keys();
        for junk in [
            "",
            "abc",
            "a.b.c",
            "....",
            "Bearer x",
            "eyJhbGciOiJIUzI1NiJ9.e30.",
            "\u{0}",
        ] {
            assert!(
                matches!(k.verify(junk, now()), Err(AccessTokenError::Invalid(_))),
                "{junk:?}"
            );
        }
    }

    #[test]
    fn claims_missing_are_invalid() {
        #[derive(Serialize)]
        struct NoSub {
            exp: i64,
        }
        let token = jsonwebtoken::encode(
            &Header::new(ALGORITHM),
            &NoSub { exp: i64::MAX / 2 },
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert!(matches!(
            keys().verify(&token, now()),
            Err(AccessTokenError::Invalid(_))
        ));
    }

    #[test]
    fn short_secret_is_refused() {
        assert!(matches!(
            AccessTokens::new(b"short", DEFAULT_ACCESS_TTL),
            Err(AccessTokenError::WeakSecret)
        ));
    }

    #[test]
    fn debug_hides_the_key() {
        let text = format!("{:?}", keys());
        assert!(!text.contains("0123456789abcdef"), "{text}");
    }
}
