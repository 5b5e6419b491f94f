//! The audit-log filter in the shape both back ends bind.

use crate::store::AuditFilter;

/// How an [`AuditFilter`]'s action matches: `auth.*` is the prefix `auth.`, anything else exact.
pub(crate) struct ActionMatch<'a> {
    pub exact: Option<&'a str>,
    pub prefix: Option<&'a str>,
}

pub(crate) fn action_match(filter: &AuditFilter) -> ActionMatch<'_> {
    match filter.action.as_deref() {
        Some(action) => match action.strip_suffix('*') {
            Some(prefix) if prefix.ends_with('.') => ActionMatch {
                exact: None,
                prefix: Some(prefix),
            },
            _ => ActionMatch {
                exact: Some(action),
                prefix: None,
            },
        },
        None => ActionMatch {
            exact: None,
            prefix: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matched(action: Option<&str>) -> (Option<String>, Option<String>) {
        let filter = AuditFilter {
            action: action.map(str::to_owned),
            ..AuditFilter::default()
        };
        let m = action_match(&filter);
        (m.exact.map(str::to_owned), m.prefix.map(str::to_owned))
    }

    #[test]
    fn wildcard_is_a_dotted_prefix() {
        assert_eq!(matched(Some("auth.*")), (None, Some("auth.".into())));
        assert_eq!(
            matched(Some("auth.login")),
            (Some("auth.login".into()), None)
        );
        // A bare `*` is not a prefix of a dotted verb: it is matched literally (and finds nothing).
        assert_eq!(matched(Some("*")), (Some("*".into()), None));
        assert_eq!(matched(None), (None, None));
    }
}
