//! Channels, memberships, read markers and unread counts.

use atrium_core::ids::{ChannelId, OrgId, UserId};
use atrium_core::model::{ChannelKind, MemberRole};
use atrium_persistence::store::StoreError;

use crate::data::{self, ms};
use crate::fixture::Db;

pub async fn create_and_get(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let other = data::org(s, "other").await;
    let anna = data::user(s, org.id, "anna").await;
    let outsider = data::user(s, other.id, "carla").await;

    let record = data::channel_record(org.id, anna.id, ChannelKind::Project, "launch");
    s.create_channel(&record).await.unwrap();
    let got = s.get_channel(org.id, record.id).await.unwrap();
    assert_eq!(got.name, "launch");
    assert_eq!(got.kind, ChannelKind::Project);
    assert_eq!(got.created_by, anna.id);
    assert_eq!(got.created_at, ms(record.created_at));
    assert_eq!(got.last_seq, 0);

    // The creator is its owner.
    let owner = s.get_member(record.id, anna.id).await.unwrap();
    assert_eq!(owner.role, MemberRole::Owner);
    assert_eq!(owner.last_read_seq, 0);

    // Another organization cannot see it, and nobody can reuse its id.
    assert!(matches!(
        s.get_channel(other.id, record.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.get_channel(org.id, ChannelId::new()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.create_channel(&record).await,
        Err(StoreError::Conflict(_))
    ));

    // A channel is created by a user of its own organization only.
    let foreign = data::channel_record(org.id, outsider.id, ChannelKind::Group, "sneaky");
    assert!(matches!(
        s.create_channel(&foreign).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.get_channel(org.id, foreign.id).await,
        Err(StoreError::NotFound)
    ));
    let nobody = data::channel_record(OrgId::new(), anna.id, ChannelKind::Group, "void");
    assert!(s.create_channel(&nobody).await.is_err());
}

pub async fn members(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let other = data::org(s, "other").await;
    let anna = data::user(s, org.id, "anna").await;
    let ben = data::user(s, org.id, "ben").await;
    let outsider = data::user(s, other.id, "carla").await;
    let ch = data::channel(s, org.id, anna.id, "general").await;

    let added = s
        .add_member(ch.id, ben.id, MemberRole::Moderator)
        .await
        .unwrap();
    assert_eq!(added.role, MemberRole::Moderator);
    assert_eq!((added.channel_id, added.user_id), (ch.id, ben.id));
    // Idempotent: adding again keeps the role.
    let again = s
        .add_member(ch.id, ben.id, MemberRole::Member)
        .await
        .unwrap();
    assert_eq!(again.role, MemberRole::Moderator);
    assert_eq!(again.joined_at, added.joined_at);

    // Nobody from another organization joins, and unknown ids are NotFound.
    assert!(matches!(
        s.add_member(ch.id, outsider.id, MemberRole::Member).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.add_member(ChannelId::new(), ben.id, MemberRole::Member)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.add_member(ch.id, UserId::new(), MemberRole::Member).await,
        Err(StoreError::NotFound)
    ));

    let members: Vec<UserId> = s
        .list_members(ch.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(members, vec![anna.id, ben.id]);

    assert!(s.remove_member(ch.id, ben.id).await.unwrap());
    assert!(!s.remove_member(ch.id, ben.id).await.unwrap());
    assert!(matches!(
        s.get_member(ch.id, ben.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.list_members(ch.id).await.unwrap().len(), 1);

    // A newcomer does not inherit the whole backlog as unread.
    for i in 0..3 {
        data::send(s, ch.id, anna.id, &format!("before {i}")).await;
    }
    let late = s
        .add_member(ch.id, ben.id, MemberRole::Member)
        .await
        .unwrap();
    assert_eq!(late.last_read_seq, 3);
}

pub async fn direct_channels(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let other = data::org(s, "other").await;
    let anna = data::user(s, org.id, "anna").await;
    let ben = data::user(s, org.id, "ben").await;
    let cleo = data::user(s, org.id, "cleo").await;

    assert_eq!(
        s.find_direct_channel(org.id, anna.id, ben.id)
            .await
            .unwrap(),
        None
    );
    let dm = data::channel_record(org.id, anna.id, ChannelKind::Direct, "");
    s.create_channel(&dm).await.unwrap();
    s.add_member(dm.id, ben.id, MemberRole::Member)
        .await
        .unwrap();
    // A group channel with both is not their direct channel.
    let group = data::channel(s, org.id, anna.id, "group").await;
    s.add_member(group.id, ben.id, MemberRole::Member)
        .await
        .unwrap();

    let found = s
        .find_direct_channel(org.id, anna.id, ben.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, dm.id);
    let reversed = s
        .find_direct_channel(org.id, ben.id, anna.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reversed.id, dm.id);
    assert_eq!(
        s.find_direct_channel(org.id, anna.id, cleo.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.find_direct_channel(other.id, anna.id, ben.id)
            .await
            .unwrap(),
        None
    );
}

pub async fn read_markers_and_unread(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let anna = data::user(s, org.id, "anna").await;
    let ben = data::user(s, org.id, "ben").await;
    let quiet = data::channel(s, org.id, anna.id, "quiet").await;
    let busy = data::channel(s, org.id, anna.id, "busy").await;
    s.add_member(quiet.id, ben.id, MemberRole::Member)
        .await
        .unwrap();
    s.add_member(busy.id, ben.id, MemberRole::Member)
        .await
        .unwrap();

    // A minute older than everything else, so "newest activity first" is unambiguous.
    let mut hello = data::new_message(quiet.id, anna.id, "hello");
    hello.created_at -= std::time::Duration::from_secs(60);
    data::commit_one(s, hello).await; // seq 1
    for i in 0..5 {
        data::send(s, busy.id, anna.id, &format!("news {i}")).await; // seqs 1..=5
    }
    data::send(s, busy.id, ben.id, "my own").await; // seq 6: not unread for ben
    let gone = data::send(s, busy.id, anna.id, "oops").await; // seq 7
    s.delete_message(busy.id, gone.id).await.unwrap(); // deleted: not unread
    let newest = data::send(s, busy.id, anna.id, "latest").await; // seq 8

    let views = s.list_channels_for_user(ben.id).await.unwrap();
    let names: Vec<&str> = views.iter().map(|v| v.channel.name.as_str()).collect();
    assert_eq!(names, vec!["busy", "quiet"], "newest activity first");
    assert_eq!(views[0].unread, 6);
    assert_eq!(views[0].channel.last_seq, 8);
    assert_eq!(views[0].member.role, MemberRole::Member);
    assert_eq!(views[1].unread, 1);

    // Raising works, lowering never does, and nobody reads past the end.
    assert_eq!(s.mark_read(busy.id, ben.id, 3).await.unwrap(), 3);
    assert_eq!(s.mark_read(busy.id, ben.id, 2).await.unwrap(), 3);
    assert_eq!(
        s.get_member(busy.id, ben.id).await.unwrap().last_read_seq,
        3
    );
    let views = s.list_channels_for_user(ben.id).await.unwrap();
    assert_eq!(views[0].unread, 3, "seqs 4, 5 and 8");
    assert_eq!(
        s.mark_read(busy.id, ben.id, 1_000_000).await.unwrap(),
        newest.seq
    );
    let views = s.list_channels_for_user(ben.id).await.unwrap();
    assert_eq!(views[0].unread, 0);

    // Only members have read markers.
    let cleo = data::user(s, org.id, "cleo").await;
    assert!(matches!(
        s.mark_read(busy.id, cleo.id, 1).await,
        Err(StoreError::NotFound)
    ));
    assert!(s.list_channels_for_user(cleo.id).await.unwrap().is_empty());
}
