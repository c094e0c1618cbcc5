//! Test support for relier: a misbehaving OP ([`bad_op`]), stand-ins for providers with quirks
//! of their own ([`standins`]: GitHub, Sign in with Apple, Entra ID, Google) and the harness around panva's oidc-provider
//! ([`oidc_provider`]).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_debug_implementations,
    reason = "test support code"
)]

pub mod bad_op;
pub mod balancer;
pub mod echo;
pub mod oidc_provider;
pub mod pg;
pub mod responses;
pub mod signed;
pub mod standins;
pub mod web;
pub mod webfinger;
