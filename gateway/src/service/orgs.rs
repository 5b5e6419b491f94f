//! The default organization every install starts with.

use super::clock;
use atrium_core::ids::OrgId;
use atrium_core::model::Organization;
use atrium_persistence::store::{Store, StoreError, StoreResult};

/// Slug of the organization that users join when they register without an invitation.
pub const DEFAULT_ORG_SLUG: &str = "default";
/// Display name given to the default organization when it is created.
pub const DEFAULT_ORG_NAME: &str = "Default";

/// Returns the default organization, creating it if it does not exist yet. Safe to call from
/// several nodes at once: whoever loses the creation race reads the winner's row.
pub async fn ensure_default_org(store: &dyn Store) -> StoreResult<Organization> {
    match store.get_org_by_slug(DEFAULT_ORG_SLUG).await {
        Ok(org) => return Ok(org),
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e),
    }
    let org = Organization {
        id: OrgId::new(),
        slug: DEFAULT_ORG_SLUG.to_owned(),
        name: DEFAULT_ORG_NAME.to_owned(),
        created_at: clock::now(),
    };
    match store.create_org(&org).await {
        Ok(()) => Ok(org),
        Err(StoreError::Conflict(_)) => store.get_org_by_slug(DEFAULT_ORG_SLUG).await,
        Err(e) => Err(e),
    }
}
