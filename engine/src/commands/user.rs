//! `atrium user create`: make an account from the command line (the way to get a first admin).

use std::io::BufRead;

use anyhow::Context as _;
use atrium_gateway::AppState;
use atrium_gateway::service::users::{NewAccount, create_user};

use crate::cli::UserCreateArgs;
use crate::config::Config;

pub async fn create(config: &Config, args: &UserCreateArgs) -> anyhow::Result<()> {
    let password = match (&args.password, args.password_stdin) {
        (Some(password), false) => password.clone(),
        (None, true) => read_password_line(std::io::stdin().lock())?,
        _ => anyhow::bail!(
            "give the password with --password-stdin (recommended) or ATRIUM_USER_PASSWORD"
        ),
    };
    let store = super::open_migrated(&config.database_url).await?;
    let state = AppState::new(store.clone(), config.http.clone()).await?;
    let account = NewAccount {
        username: args.username.clone(),
        email: args.email.clone(),
        password,
        organization: None,
    };
    let user = create_user(store.as_ref(), &state.passwords, account, args.admin)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create user: {e}"))?;
    println!(
        "created {} {} ({}) in the default organization",
        user.role, user.username, user.id
    );
    store.close().await;
    Ok(())
}

/// The first line of `input`, without its line ending; an empty password is refused here so the
/// message names the flag rather than a length rule.
fn read_password_line(mut input: impl BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        !password.is_empty(),
        "--password-stdin read an empty password"
    );
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_line() {
        let pw = read_password_line(&b"s3cret pass\nignored\n"[..]).unwrap();
        assert_eq!(pw, "s3cret pass");
        assert!(read_password_line(&b"\n"[..]).is_err());
    }
}
