//! Password and token primitives: everything about proving who someone is, with no I/O.
//!
//! - [`password`]: argon2id hashing and verification with configurable cost.
//! - [`access`]: short-lived HS256 JWT access tokens and their claims.
//! - [`refresh`]: opaque refresh tokens (only their SHA-256 is ever stored) and secret generation.
//! - [`credentials`]: the shape rules for usernames, e-mail addresses and passwords.
//!
//! The gateway drives these: it looks users and tokens up in the store, runs the slow hashing on a
//! blocking thread, and turns the errors here into HTTP and protocol error codes.

pub mod access;
pub mod credentials;
pub mod password;
pub mod refresh;

pub use access::{AccessClaims, AccessTokenError, AccessTokens, IssuedAccessToken};
pub use credentials::{CredentialError, validate_email, validate_password, validate_username};
pub use password::{PasswordError, PasswordHashing, PasswordParams};
pub use refresh::{generate_jwt_secret, hash_refresh_token, new_refresh_token};
