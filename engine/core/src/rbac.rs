//! Roles and permissions.
//!
//! A permission is a dotted string such as `channels.create` or `tickets.assign`. A grant may end
//! in `*` to cover a whole subtree (`tickets.*`) or be `*` alone (everything). Roles map to a set
//! of grants; an organization isolates tenants on top of this (see `docs/architecture.md`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A user's role inside their organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Full control of the organization.
    Admin,
    /// Moderates channels and handles tickets.
    Moderator,
    /// A regular member.
    User,
    /// Read-mostly access.
    Guest,
}

impl Role {
    /// Every role, most privileged first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Moderator, Role::User, Role::Guest];

    /// The stable name stored in the database and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Moderator => "moderator",
            Role::User => "user",
            Role::Guest => "guest",
        }
    }

    /// The grants this role carries.
    pub fn grants(self) -> &'static [&'static str] {
        match self {
            Role::Admin => &["*"],
            Role::Moderator => &[
                "channels.*",
                "messages.*",
                "rooms.*",
                "tickets.*",
                "users.read",
                "presence.read",
                "search.read",
            ],
            Role::User => &[
                "channels.read",
                "channels.create",
                "channels.members.manage_own",
                "messages.read",
                "messages.write",
                "rooms.read",
                "rooms.join",
                "rooms.create",
                "users.read",
                "presence.read",
                "search.read",
                "tickets.create",
            ],
            Role::Guest => &[
                "channels.read",
                "messages.read",
                "presence.read",
                "rooms.read",
                "rooms.join",
            ],
        }
    }

    /// Whether this role holds `permission`.
    pub fn can(self, permission: &str) -> bool {
        self.grants().iter().any(|g| grant_covers(g, permission))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a role name that is not one of ours.
#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?}: expected admin, moderator, user or guest")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "moderator" => Ok(Role::Moderator),
            "user" => Ok(Role::User),
            "guest" => Ok(Role::Guest),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

/// Whether a single grant covers a permission: exact match, `*`, or a `prefix.*` wildcard that
/// matches the prefix itself and everything below it (but not `prefixfoo`).
pub fn grant_covers(grant: &str, permission: &str) -> bool {
    if grant == "*" || grant == permission {
        return true;
    }
    match grant.strip_suffix(".*") {
        Some(prefix) => {
            permission == prefix
                || (permission.len() > prefix.len()
                    && permission.starts_with(prefix)
                    && permission.as_bytes()[prefix.len()] == b'.')
        }
        None => false,
    }
}

/// Whether any of `grants` covers `permission`.
pub fn grants_cover<'a>(grants: impl IntoIterator<Item = &'a str>, permission: &str) -> bool {
    grants.into_iter().any(|g| grant_covers(g, permission))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(grant_covers("*", "anything.at.all"));
        assert!(grant_covers("tickets.*", "tickets.assign"));
        assert!(grant_covers("tickets.*", "tickets.agent"));
        assert!(grant_covers("tickets.*", "tickets"));
        assert!(!grant_covers("tickets.*", "ticketsx.assign"));
        assert!(!grant_covers("tickets.*", "channels.create"));
        assert!(grant_covers("channels.create", "channels.create"));
        assert!(!grant_covers("channels.create", "channels.delete"));
        assert!(!grant_covers("", "channels.create"));
    }

    #[test]
    fn roles() {
        assert!(Role::Admin.can("users.manage"));
        assert!(Role::Moderator.can("tickets.agent"));
        assert!(!Role::Moderator.can("users.manage"));
        assert!(Role::User.can("messages.write"));
        assert!(!Role::User.can("audit.read"));
        assert!(!Role::Guest.can("messages.write"));
        assert!(Role::User.can("tickets.create"));
        assert!(!Role::User.can("tickets.agent"));
        assert!(!Role::Guest.can("tickets.create"));
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
