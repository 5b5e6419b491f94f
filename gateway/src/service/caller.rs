//! The authenticated user behind a request.

use atrium_core::ids::{OrgId, UserId};
use atrium_core::model::User;
use atrium_core::rbac::Role;

use super::{ServiceError, ServiceResult};

/// Who is asking, as the store knows them right now (role and active flag are re-read on every
/// request, so a demotion or deactivation takes effect before the access token expires).
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: User,
}

impl Caller {
    pub fn id(&self) -> UserId {
        self.user.id
    }

    pub fn org(&self) -> OrgId {
        self.user.org_id
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Whether the caller's role grants `permission`.
    pub fn can(&self, permission: &str) -> bool {
        self.user.role.can(permission)
    }

    /// `Forbidden` unless the caller's role grants `permission`.
    pub fn require(&self, permission: &str) -> ServiceResult<()> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!(
                "your role ({}) lacks the permission {permission}",
                self.user.role
            )))
        }
    }
}
