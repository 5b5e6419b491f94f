//! The one rustls crypto provider of the process.
//!
//! quinn, wtransport, reqwest, sqlx, redis and tungstenite all use rustls; every one of them is
//! built against aws-lc-rs (see the workspace `Cargo.toml`), and the provider is installed once at
//! start so no library ever has to guess.

/// Installs aws-lc-rs as the process-wide rustls provider. Calling it again is harmless.
pub fn install_crypto_provider() {
    // `Err` only means a provider is already installed (e.g. by a test harness): keep that one.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
