//! `atrium-client`: a typed async client for Atrium's realtime protocol.
//!
//! It speaks the MessagePack frames of `atrium-core` over WebSocket. The integration tests and the
//! load tester use it; applications can too.
