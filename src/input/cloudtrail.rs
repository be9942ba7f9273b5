//! CloudTrail decoding: EventBridge envelopes, bare records and bare request parameters of the
//! security-group API calls (and of the tag calls, which may add or remove an exemption tag),
//! into the change they describe and the rules they carry.
//!
//! The raw shapes are serde structs (`syntax.rs`): [`Envelope`], [`Record`], and for the calls
//! sgguard watches (the hub's EventBridge pattern lists them) the typed [`Call`]. CloudTrail
//! serializes EC2 requests loosely: lists come as `{"items": [...]}`, as a single object, or as
//! a plain array; ports come as numbers or strings; keys change case between API families. The
//! structs accept all of these; every rule then goes through [`SecurityGroupRule::from_api`],
//! and errors name the field.
//!
//! `record.rs` reads envelopes and records, `calls.rs` each call's parameters, and `event.rs`
//! holds what both produce: the [`Change`] in a [`CloudTrailEvent`], or a [`DecodeError`].
//!
//! [`SecurityGroupRule::from_api`]: crate::rule::SecurityGroupRule::from_api

mod calls;
mod event;
mod record;
mod syntax;

pub use self::calls::{decode_bare_request, watched_events};
pub use self::event::{Change, CloudTrailEvent, DecodeError};
pub use self::record::{decode_envelope, decode_record, is_envelope, is_record};
pub use self::syntax::*;
