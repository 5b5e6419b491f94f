//! Typed identifiers.
//!
//! Every id is a UUIDv7 (time-ordered, so indexes stay append-mostly) wrapped in a newtype so a
//! `UserId` can never be passed where a `ChannelId` is expected. On every wire (JSON and
//! MessagePack alike) an id is its canonical hyphenated string: browser clients get a value they
//! can compare and log without a UUID library.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut buf = Uuid::encode_buffer();
                serializer.serialize_str(self.0.hyphenated().encode_lower(&mut buf))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Uuid::parse_str(&s).map(Self).map_err(serde::de::Error::custom)
            }
        }
    };
}

define_id!(
    /// A tenant. Nothing crosses an organization boundary.
    OrgId
);
define_id!(
    /// A user account.
    UserId
);
define_id!(
    /// A chat channel (group, project, organization-wide or direct).
    ChannelId
);
define_id!(
    /// One chat message.
    MessageId
);
define_id!(
    /// One live connection (WebSocket or WebTransport).
    SessionId
);
define_id!(
    /// A family of rotating refresh tokens issued from one login.
    TokenFamilyId
);
define_id!(
    /// A virtual 3D room (its simulation, its HTTP resource and its row share this id).
    RoomId
);
define_id!(
    /// A support ticket. Humans use its per-organization number (`T-000042`); everything else
    /// uses this id.
    TicketId
);
define_id!(
    /// A conversation with an AI assistant (personal, or shared with a channel).
    ConversationId
);
define_id!(
    /// One message of an AI conversation.
    ConversationMessageId
);
define_id!(
    /// A configured assistant persona (system prompt, model and temperature overrides).
    AssistantId
);
define_id!(
    /// A prompt template with `{{variable}}` placeholders.
    PromptTemplateId
);
define_id!(
    /// A model an administrator configured (provider, upstream model id, prices).
    AiModelId
);
define_id!(
    /// One generation: the `stream` of `llm.start`, `llm.delta`, `llm.done`.
    StreamId
);
define_id!(
    /// A token or spending budget of a user or an organization.
    BudgetId
);
define_id!(
    /// A comment (public or internal) on a support ticket.
    TicketCommentId
);
define_id!(
    /// A stored notification for one user (an SLA breach, later mentions and more).
    NotificationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_as_strings() {
        let id = ChannelId::new();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        let back: ChannelId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        let packed = rmp_serde::to_vec(&id).unwrap();
        let back: ChannelId = rmp_serde::from_slice(&packed).unwrap();
        assert_eq!(back, id);
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(serde_json::from_str::<UserId>("\"not-a-uuid\"").is_err());
        assert!("zzz".parse::<OrgId>().is_err());
    }
}
