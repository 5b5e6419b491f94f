//! Folding reaction rows into one entry per emoji.

use atrium_core::ids::UserId;

/// Groups `(emoji, user)` rows, already ordered by when each reaction was made, into
/// `(emoji, users)`: emojis in the order they first appeared, users in the order they reacted.
pub(crate) fn group(
    rows: impl IntoIterator<Item = (String, UserId)>,
) -> Vec<(String, Vec<UserId>)> {
    let mut groups: Vec<(String, Vec<UserId>)> = Vec::new();
    for (emoji, user) in rows {
        match groups.iter_mut().find(|(e, _)| *e == emoji) {
            Some((_, users)) => users.push(user),
            None => groups.push((emoji, vec![user])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_appearance_order() {
        let (a, b) = (UserId::new(), UserId::new());
        let rows = vec![
            ("👍".to_owned(), a),
            ("🎉".to_owned(), a),
            ("👍".to_owned(), b),
        ];
        assert_eq!(
            group(rows),
            vec![("👍".to_owned(), vec![a, b]), ("🎉".to_owned(), vec![a])]
        );
    }
}
