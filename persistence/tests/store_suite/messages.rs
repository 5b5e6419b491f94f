//! Committing, reading, editing, deleting and reacting to messages.

use atrium_core::ids::{ChannelId, MessageId, UserId};
use atrium_persistence::store::{Committed, StoreError};

use crate::data::{self, ms, now};
use crate::fixture::Db;

pub async fn commit_and_read(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let anna = data::user(s, org.id, "anna").await;
    let ben = data::user(s, org.id, "ben").await;
    let ch = data::channel(s, org.id, anna.id, "general").await;

    let mut first = data::new_message(ch.id, anna.id, "hello @ben");
    first.mentions = vec![ben.id];
    let stored = data::commit_one(s, first.clone()).await;
    assert_eq!(stored.seq, 1);
    assert_eq!(stored.id, first.id);
    assert_eq!(stored.created_at, ms(first.created_at));
    assert_eq!(stored.mentions, vec![ben.id]);
    assert_eq!(stored.edited_at, None);
    assert!(!stored.deleted);
    // What the commit returned is exactly what a read returns.
    assert_eq!(s.get_message(ch.id, first.id).await.unwrap(), stored);
    assert_eq!(s.get_channel(org.id, ch.id).await.unwrap().last_seq, 1);

    let mut reply = data::new_message(ch.id, ben.id, "hi!");
    reply.reply_to = Some(first.id);
    let reply = data::commit_one(s, reply).await;
    assert_eq!((reply.seq, reply.reply_to), (2, Some(first.id)));

    for i in 3..=10 {
        assert_eq!(data::send(s, ch.id, anna.id, &format!("m{i}")).await.seq, i);
    }

    // History pages backwards, each page oldest first.
    let newest = s.history(ch.id, None, 4).await.unwrap();
    assert_eq!(
        newest.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![7, 8, 9, 10]
    );
    let older = s.history(ch.id, Some(7), 4).await.unwrap();
    assert_eq!(
        older.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![3, 4, 5, 6]
    );
    let oldest = s.history(ch.id, Some(3), 4).await.unwrap();
    assert_eq!(oldest.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(oldest[0], stored);
    assert!(s.history(ch.id, Some(1), 4).await.unwrap().is_empty());

    // Resume replay goes forwards.
    let after = s.messages_after(ch.id, 8, 100).await.unwrap();
    assert_eq!(after.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![9, 10]);
    let capped = s.messages_after(ch.id, 0, 3).await.unwrap();
    assert_eq!(
        capped.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );

    // A message is found only through its own channel.
    let elsewhere = data::channel(s, org.id, anna.id, "random").await;
    assert!(matches!(
        s.get_message(elsewhere.id, first.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.get_message(ch.id, MessageId::new()).await,
        Err(StoreError::NotFound)
    ));
    assert!(s.history(elsewhere.id, None, 10).await.unwrap().is_empty());
}

pub async fn bad_messages_fail_alone(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let other = data::org(s, "other").await;
    let anna = data::user(s, org.id, "anna").await;
    let outsider = data::user(s, other.id, "carla").await;
    let ch = data::channel(s, org.id, anna.id, "general").await;
    let side = data::channel(s, org.id, anna.id, "side").await;
    let side_msg = data::send(s, side.id, anna.id, "over here").await;
    let taken = data::send(s, ch.id, anna.id, "first").await; // seq 1

    let mut cross_reply = data::new_message(ch.id, anna.id, "reply across channels");
    cross_reply.reply_to = Some(side_msg.id);
    let mut ghost_reply = data::new_message(ch.id, anna.id, "reply to nothing");
    ghost_reply.reply_to = Some(MessageId::new());
    let mut reused_id = data::new_message(ch.id, anna.id, "same id");
    reused_id.id = taken.id;
    let good_a = data::new_message(ch.id, anna.id, "good a");
    let good_b = data::new_message(side.id, anna.id, "good b");
    let good_c = data::new_message(ch.id, anna.id, "good c");
    let mut twin = data::new_message(ch.id, anna.id, "same id as good c");
    twin.id = good_c.id;

    let batch = vec![
        data::new_message(ChannelId::new(), anna.id, "unknown channel"),
        good_a.clone(),
        data::new_message(ch.id, UserId::new(), "unknown sender"),
        data::new_message(ch.id, outsider.id, "sender from another org"),
        cross_reply,
        good_b.clone(),
        ghost_reply,
        reused_id,
        good_c.clone(),
        twin,
    ];
    let results = s.insert_messages(&batch).await.unwrap();
    assert_eq!(results.len(), batch.len());
    let seq_of = |i: usize| match &results[i] {
        Ok(Committed::New(m)) => m.seq,
        other => panic!("message {i} should be new: {other:?}"),
    };
    assert!(matches!(results[0], Err(StoreError::NotFound)));
    assert!(matches!(results[2], Err(StoreError::NotFound)));
    assert!(matches!(results[3], Err(StoreError::NotFound)));
    assert!(matches!(results[4], Err(StoreError::NotFound)));
    assert!(matches!(results[6], Err(StoreError::NotFound)));
    assert!(
        matches!(&results[7], Err(StoreError::Conflict(_))),
        "{:?}",
        results[7]
    );
    assert!(
        matches!(&results[9], Err(StoreError::Conflict(_))),
        "{:?}",
        results[9]
    );
    // The good ones got the next seqs of their channels, with no gaps left by the bad ones.
    assert_eq!((seq_of(1), seq_of(5), seq_of(8)), (2, 2, 3));
    assert_eq!(s.get_channel(org.id, ch.id).await.unwrap().last_seq, 3);
    assert_eq!(s.get_channel(org.id, side.id).await.unwrap().last_seq, 2);
    let seqs: Vec<i64> = s
        .history(ch.id, None, 50)
        .await
        .unwrap()
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    assert_eq!(s.get_message(ch.id, taken.id).await.unwrap().body, "first");
    assert!(s.insert_messages(&[]).await.unwrap().is_empty());
}

pub async fn nonce_idempotency(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let anna = data::user(s, org.id, "anna").await;
    let ben = data::user(s, org.id, "ben").await;
    let ch = data::channel(s, org.id, anna.id, "general").await;

    let with_nonce = |sender, body: &str, nonce: &str| {
        let mut m = data::new_message(ch.id, sender, body);
        m.nonce = Some(nonce.to_owned());
        m
    };

    let original = data::commit_one(s, with_nonce(anna.id, "once", "n-1")).await;
    assert_eq!(original.nonce.as_deref(), Some("n-1"));

    // A retry (new message id, same nonce) returns the original and stores nothing.
    let retry = s
        .insert_messages(&[with_nonce(anna.id, "once (retried)", "n-1")])
        .await
        .unwrap();
    assert_eq!(
        retry[0].as_ref().unwrap(),
        &Committed::Duplicate(original.clone())
    );

    // Within one batch: the second use of a nonce is a duplicate of the first.
    // Another sender may use the same nonce freely.
    let batch = vec![
        with_nonce(anna.id, "twice", "n-2"),
        with_nonce(anna.id, "twice (again)", "n-2"),
        with_nonce(ben.id, "ben's own", "n-2"),
        with_nonce(anna.id, "and again", "n-1"),
    ];
    let results = s.insert_messages(&batch).await.unwrap();
    let first = match &results[0] {
        Ok(Committed::New(m)) => m.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(first.seq, 2);
    assert_eq!(
        results[1].as_ref().unwrap(),
        &Committed::Duplicate(first.clone())
    );
    match &results[2] {
        Ok(Committed::New(m)) => assert_eq!((m.seq, m.sender_id), (3, ben.id)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        results[3].as_ref().unwrap(),
        &Committed::Duplicate(original.clone())
    );
    assert_eq!(results[1].as_ref().unwrap().message().id, first.id);

    // A nonce whose first use in a batch fails is still free for the retry in the same batch.
    let mut lost = with_nonce(anna.id, "to nowhere", "n-3");
    lost.channel_id = ChannelId::new();
    let retried = with_nonce(anna.id, "to general", "n-3");
    let results = s.insert_messages(&[lost, retried.clone()]).await.unwrap();
    assert!(matches!(results[0], Err(StoreError::NotFound)));
    match &results[1] {
        Ok(Committed::New(m)) => assert_eq!((m.id, m.seq), (retried.id, 4)),
        other => panic!("{other:?}"),
    }

    assert_eq!(s.get_channel(org.id, ch.id).await.unwrap().last_seq, 4);
    let bodies: Vec<String> = s
        .history(ch.id, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(bodies, vec!["once", "twice", "ben's own", "to general"]);
}

pub async fn edits_and_deletes(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let anna = data::user(s, org.id, "anna").await;
    let ben = data::user(s, org.id, "ben").await;
    let mod_user = data::user(s, org.id, "mod").await;
    let ch = data::channel(s, org.id, anna.id, "general").await;
    let other = data::channel(s, org.id, anna.id, "other").await;
    let msg = data::send(s, ch.id, anna.id, "first draft").await;
    let next = data::send(s, ch.id, anna.id, "unrelated").await;

    let t1 = now();
    let edited = s
        .edit_message(ch.id, msg.id, anna.id, "second draft @ben", &[ben.id], t1)
        .await
        .unwrap();
    assert_eq!(edited.body, "second draft @ben");
    assert_eq!(edited.mentions, vec![ben.id]);
    assert_eq!(edited.edited_at, Some(ms(t1)));
    assert_eq!(
        (edited.seq, edited.id, edited.created_at),
        (msg.seq, msg.id, msg.created_at)
    );
    let t2 = now();
    s.edit_message(ch.id, msg.id, mod_user.id, "final", &[], t2)
        .await
        .unwrap();

    let history = s.message_edits(msg.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].previous_body, "first draft");
    assert_eq!(history[0].editor_id, anna.id);
    assert_eq!(history[0].edited_at, ms(t1));
    assert_eq!(history[1].previous_body, "second draft @ben");
    assert_eq!(history[1].editor_id, mod_user.id);
    let current = s.get_message(ch.id, msg.id).await.unwrap();
    assert_eq!(
        (current.body.as_str(), current.mentions.len()),
        ("final", 0)
    );
    assert!(s.message_edits(next.id).await.unwrap().is_empty());

    // Edits go through the message's own channel only.
    assert!(matches!(
        s.edit_message(other.id, msg.id, anna.id, "hijack", &[], now())
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.delete_message(other.id, msg.id).await,
        Err(StoreError::NotFound)
    ));

    // Soft delete: the row and its seq stay, the content and its history go.
    let deleted = s.delete_message(ch.id, msg.id).await.unwrap();
    assert!(deleted.deleted);
    assert_eq!(deleted.body, "");
    assert!(deleted.mentions.is_empty());
    assert_eq!(deleted.seq, msg.seq);
    assert!(s.message_edits(msg.id).await.unwrap().is_empty());
    let seqs: Vec<(i64, bool)> = s
        .history(ch.id, None, 10)
        .await
        .unwrap()
        .iter()
        .map(|m| (m.seq, m.deleted))
        .collect();
    assert_eq!(seqs, vec![(1, true), (2, false)]);
    // Deleting twice is harmless; editing a deleted message is not possible.
    assert!(s.delete_message(ch.id, msg.id).await.unwrap().deleted);
    assert!(matches!(
        s.edit_message(ch.id, msg.id, anna.id, "resurrect", &[], now())
            .await,
        Err(StoreError::NotFound)
    ));
    // The channel's counter is untouched by edits and deletes.
    assert_eq!(s.get_channel(org.id, ch.id).await.unwrap().last_seq, 2);
    assert_eq!(data::send(s, ch.id, anna.id, "after").await.seq, 3);
}

pub async fn reactions(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let anna = data::user(s, org.id, "anna").await;
    let ben = data::user(s, org.id, "ben").await;
    let ch = data::channel(s, org.id, anna.id, "general").await;
    let msg = data::send(s, ch.id, anna.id, "ship it?").await;

    assert!(s.reactions(msg.id).await.unwrap().is_empty());
    assert!(s.set_reaction(msg.id, anna.id, "👍", true).await.unwrap());
    assert!(
        !s.set_reaction(msg.id, anna.id, "👍", true).await.unwrap(),
        "already there"
    );
    assert!(s.set_reaction(msg.id, ben.id, "🎉", true).await.unwrap());
    assert!(s.set_reaction(msg.id, ben.id, "👍", true).await.unwrap());

    let grouped = s.reactions(msg.id).await.unwrap();
    assert_eq!(grouped.len(), 2);
    let thumbs = grouped.iter().find(|(e, _)| e == "👍").unwrap();
    assert_eq!(thumbs.1.len(), 2);
    assert!(thumbs.1.contains(&anna.id) && thumbs.1.contains(&ben.id));
    let party = grouped.iter().find(|(e, _)| e == "🎉").unwrap();
    assert_eq!(party.1, vec![ben.id]);

    assert!(s.set_reaction(msg.id, anna.id, "👍", false).await.unwrap());
    assert!(
        !s.set_reaction(msg.id, anna.id, "👍", false).await.unwrap(),
        "already gone"
    );
    let grouped = s.reactions(msg.id).await.unwrap();
    let thumbs = grouped.iter().find(|(e, _)| e == "👍").unwrap();
    assert_eq!(thumbs.1, vec![ben.id]);

    assert!(matches!(
        s.set_reaction(MessageId::new(), anna.id, "👍", true).await,
        Err(StoreError::NotFound)
    ));
}
