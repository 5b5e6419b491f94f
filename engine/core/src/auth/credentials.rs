//! Shape rules for account credentials, with messages written for the person filling the form.

/// Username length bounds, in characters.
pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
/// Password length bounds, in characters. The upper bound keeps a single login request from
/// costing more hashing than any real password needs.
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 256;
/// The longest e-mail address SMTP can carry.
pub const EMAIL_MAX: usize = 254;

/// A credential that breaks a rule: which field, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct CredentialError {
    pub field: &'static str,
    pub message: String,
}

fn err(field: &'static str, message: impl Into<String>) -> CredentialError {
    CredentialError {
        field,
        message: message.into(),
    }
}

/// 3–32 characters of `a-z`, `0-9`, `_`, `.`, `-`. Lowercase only, so `@mentions` and logins
/// never depend on case.
pub fn validate_username(username: &str) -> Result<(), CredentialError> {
    let len = username.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
        return Err(err(
            "username",
            format!("must be {USERNAME_MIN} to {USERNAME_MAX} characters long (got {len})"),
        ));
    }
    if let Some(bad) = username
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-')))
    {
        return Err(err(
            "username",
            format!(
                "may only contain lowercase letters a-z, digits, '_', '.' and '-' (found {bad:?})"
            ),
        ));
    }
    Ok(())
}

/// A plausible address: one `@`, a non-empty local part, a dotted domain, no spaces. Whether it
/// really receives mail is not something a shape check can know.
pub fn validate_email(email: &str) -> Result<(), CredentialError> {
    const SHAPE: &str = "must look like name@example.com";
    if email.len() > EMAIL_MAX {
        return Err(err(
            "email",
            format!("must be at most {EMAIL_MAX} characters long"),
        ));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err("email", "must not contain spaces"));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(err("email", SHAPE));
    };
    let domain_ok = !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || !domain_ok {
        return Err(err("email", SHAPE));
    }
    Ok(())
}

/// At least 8 and at most 256 characters. No composition rules: length is what makes a password
/// strong, and rules push people to predictable patterns.
pub fn validate_password(password: &str) -> Result<(), CredentialError> {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        return Err(err(
            "password",
            format!("must be at least {PASSWORD_MIN} characters long"),
        ));
    }
    if len > PASSWORD_MAX {
        return Err(err(
            "password",
            format!("must be at most {PASSWORD_MAX} characters long"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["abc", "a.b-c_d", "user123", &"x".repeat(32)] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "",
            &"x".repeat(33),
            "Alice",
            "al ice",
            "al@ice",
            "émile",
            "a/b",
        ] {
            let e = validate_username(bad).unwrap_err();
            assert_eq!(e.field, "username", "{bad}");
        }
        assert!(
            validate_username("Bob")
                .unwrap_err()
                .message
                .contains("lowercase")
        );
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@mail.example.org"] {
            assert!(validate_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "plain", "@b.co", "a@", "a@b", "a@b.", "a@.b", "a@@b.co", "a b@c.de", "a@b..c",
        ] {
            assert_eq!(validate_email(bad).unwrap_err().field, "email", "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(validate_email(&long).is_err());
    }

    #[test]
    fn passwords() {
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password("1234567").is_err());
        assert!(validate_password(&"p".repeat(256)).is_ok());
        assert!(validate_password(&"p".repeat(257)).is_err());
        // Counted in characters, not bytes.
        assert!(validate_password("ééééééé").is_err());
    }
}
