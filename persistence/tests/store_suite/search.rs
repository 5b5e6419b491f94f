//! Full-text search: both languages, only the caller's channels, never deleted messages.

use std::collections::HashSet;

use atrium_core::model::MemberRole;

use crate::data;
use crate::fixture::Db;

pub async fn search(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let other = data::org(s, "other").await;
    let anna = data::user(s, org.id, "anna").await;
    let ben = data::user(s, org.id, "ben").await;
    let outsider = data::user(s, other.id, "carla").await;
    let team = data::channel(s, org.id, anna.id, "team").await;
    let secret = data::channel(s, org.id, ben.id, "secret").await; // anna is not a member
    let foreign = data::channel(s, other.id, outsider.id, "foreign").await;
    s.add_member(team.id, ben.id, MemberRole::Member)
        .await
        .unwrap();

    let en = data::send(s, team.id, ben.id, "The quarterly meeting moved to Friday").await;
    let de = data::send(
        s,
        team.id,
        anna.id,
        "Die Besprechung ist über das Budget. Grüße, Anna",
    )
    .await;
    let both = data::send(s, team.id, anna.id, "meeting notes: Besprechung Protokoll").await;
    let edited = data::send(s, team.id, anna.id, "draft wording").await;
    let removed = data::send(s, team.id, anna.id, "meeting cancelled, sorry").await;
    data::send(s, secret.id, ben.id, "secret meeting about the Besprechung").await;
    data::send(s, foreign.id, outsider.id, "foreign meeting Besprechung").await;

    s.edit_message(
        team.id,
        edited.id,
        anna.id,
        "polished Formulierung",
        &[],
        data::now(),
    )
    .await
    .unwrap();
    s.delete_message(team.id, removed.id).await.unwrap();

    let ids = |hits: &[atrium_persistence::store::SearchHit]| -> HashSet<_> {
        hits.iter().map(|h| h.message.id).collect()
    };

    // English, case-insensitive; only anna's channels; the deleted message is gone.
    let hits = s.search_messages(anna.id, "MEETING", 20).await.unwrap();
    assert_eq!(ids(&hits), HashSet::from([en.id, both.id]));
    let hit = hits.iter().find(|h| h.message.id == en.id).unwrap();
    assert!(
        hit.snippet.to_lowercase().contains("meeting"),
        "snippet: {:?}",
        hit.snippet
    );
    assert_eq!(hit.message.body, en.body);

    // German words, umlauts and ß as typed, case-folded.
    let hits = s.search_messages(anna.id, "besprechung", 20).await.unwrap();
    assert_eq!(ids(&hits), HashSet::from([de.id, both.id]));
    assert_eq!(
        ids(&s.search_messages(anna.id, "Über", 20).await.unwrap()),
        HashSet::from([de.id])
    );
    assert_eq!(
        ids(&s.search_messages(anna.id, "grüße", 20).await.unwrap()),
        HashSet::from([de.id])
    );

    // Several words must all match; phrases and exclusions work like a web search box.
    let hits = s
        .search_messages(anna.id, "meeting Besprechung", 20)
        .await
        .unwrap();
    assert_eq!(ids(&hits), HashSet::from([both.id]));
    let hits = s
        .search_messages(anna.id, "\"quarterly meeting\"", 20)
        .await
        .unwrap();
    assert_eq!(ids(&hits), HashSet::from([en.id]));
    let hits = s
        .search_messages(anna.id, "meeting -Protokoll", 20)
        .await
        .unwrap();
    assert_eq!(ids(&hits), HashSet::from([en.id]));
    let hits = s
        .search_messages(anna.id, "Friday or Budget", 20)
        .await
        .unwrap();
    assert_eq!(ids(&hits), HashSet::from([en.id, de.id]));

    // Edits are searchable by their new words only.
    assert_eq!(
        ids(&s
            .search_messages(anna.id, "Formulierung", 20)
            .await
            .unwrap()),
        HashSet::from([edited.id])
    );
    assert!(
        s.search_messages(anna.id, "draft", 20)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.search_messages(anna.id, "cancelled", 20)
            .await
            .unwrap()
            .is_empty()
    );

    // Ben sees his secret channel too; the other organization sees only its own.
    assert_eq!(
        s.search_messages(ben.id, "meeting", 20)
            .await
            .unwrap()
            .len(),
        3
    );
    let theirs = s
        .search_messages(outsider.id, "Besprechung", 20)
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].message.channel_id, foreign.id);

    // The limit holds, and nothing a user types is a syntax error.
    assert_eq!(
        s.search_messages(anna.id, "meeting", 1)
            .await
            .unwrap()
            .len(),
        1
    );
    for odd in [
        "",
        "   ",
        "\"unterminated",
        "a AND (",
        "body:meeting",
        "NEAR(x y)",
        "*",
        "-meeting",
        "'; DROP TABLE messages; --",
    ] {
        s.search_messages(anna.id, odd, 20)
            .await
            .unwrap_or_else(|e| panic!("{odd:?}: {e}"));
    }
    assert!(s.search_messages(anna.id, "", 20).await.unwrap().is_empty());
}
