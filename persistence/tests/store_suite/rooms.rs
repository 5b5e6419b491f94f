//! Virtual rooms: rows, tenant isolation, the chat-channel link, paging, updates, deletes.

use serde_json::json;
use time::Duration;

use atrium_core::ids::{ChannelId, OrgId, RoomId, UserId};
use atrium_core::model::Room;
use atrium_persistence::store::{Page, RoomUpdate, StoreError};

use crate::data::{self, ms};
use crate::fixture::Db;

fn room_record(org: OrgId, creator: UserId, name: &str) -> Room {
    let at = data::now();
    Room {
        id: RoomId::new(),
        org_id: org,
        name: name.to_owned(),
        template: "theater".to_owned(),
        template_data: None,
        channel_id: None,
        capacity: 150,
        created_by: creator,
        created_at: at,
        updated_at: at,
    }
}

pub async fn create_and_get(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let other = data::org(s, "other").await;
    let anna = data::user(s, org.id, "anna").await;
    let outsider = data::user(s, other.id, "carla").await;
    let chat = data::channel(s, org.id, anna.id, "stage-chat").await;

    let mut record = room_record(org.id, anna.id, "Main Stage");
    record.channel_id = Some(chat.id);
    record.template_data = Some(json!({"title": "Main stage", "audio": {"rolloff_factor": 2.0}}));
    s.create_room(&record).await.unwrap();
    let got = s.get_room(org.id, record.id).await.unwrap();
    assert_eq!(got.name, "Main Stage");
    assert_eq!(got.template, "theater");
    assert_eq!(got.template_data, record.template_data);
    assert_eq!(got.channel_id, Some(chat.id));
    assert_eq!(got.capacity, 150);
    assert_eq!(got.created_by, anna.id);
    assert_eq!(got.created_at, ms(record.created_at));
    assert_eq!(got.updated_at, ms(record.updated_at));

    // Another organization's id reads as not found; nobody reuses the id or the name.
    assert!(matches!(
        s.get_room(other.id, record.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.get_room(org.id, RoomId::new()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.create_room(&record).await,
        Err(StoreError::Conflict(_))
    ));
    let same_name = room_record(org.id, anna.id, "main stage");
    assert!(matches!(
        s.create_room(&same_name).await,
        Err(StoreError::Conflict(what)) if what == "name"
    ));
    // The same name in another organization is fine.
    s.create_room(&room_record(other.id, outsider.id, "Main Stage"))
        .await
        .unwrap();

    // Creator and chat channel must be of the room's organization.
    let foreign_creator = room_record(org.id, outsider.id, "sneaky");
    assert!(matches!(
        s.create_room(&foreign_creator).await,
        Err(StoreError::NotFound)
    ));
    let mut foreign_channel = room_record(other.id, outsider.id, "borrowed chat");
    foreign_channel.channel_id = Some(chat.id);
    assert!(matches!(
        s.create_room(&foreign_channel).await,
        Err(StoreError::NotFound)
    ));
    let mut missing_channel = room_record(org.id, anna.id, "ghost chat");
    missing_channel.channel_id = Some(ChannelId::new());
    assert!(matches!(
        s.create_room(&missing_channel).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn list_and_page(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let other = data::org(s, "other").await;
    let anna = data::user(s, org.id, "anna").await;
    let carla = data::user(s, other.id, "carla").await;
    let base = data::now();
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut room = room_record(org.id, anna.id, &format!("room {i}"));
        room.created_at = base + Duration::milliseconds(i);
        room.updated_at = room.created_at;
        s.create_room(&room).await.unwrap();
        ids.push(room.id);
    }
    s.create_room(&room_record(other.id, carla.id, "theirs"))
        .await
        .unwrap();

    let first = s.list_rooms(org.id, Page::new(2, 0)).await.unwrap();
    assert_eq!(first.total, 5);
    assert_eq!(
        first.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        ids[..2]
    );
    let last = s.list_rooms(org.id, Page::new(2, 4)).await.unwrap();
    assert_eq!(
        last.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        ids[4..]
    );
    let theirs = s.list_rooms(other.id, Page::default()).await.unwrap();
    assert_eq!(theirs.total, 1);
    assert_eq!(theirs.items[0].name, "theirs");
}

pub async fn update_and_delete(db: Db) {
    let s = &db.store;
    let org = data::org(s, "acme").await;
    let other = data::org(s, "other").await;
    let anna = data::user(s, org.id, "anna").await;
    let carla = data::user(s, other.id, "carla").await;
    let chat = data::channel(s, org.id, anna.id, "chat").await;
    let their_chat = data::channel(s, other.id, carla.id, "their chat").await;
    let room = room_record(org.id, anna.id, "Gallery");
    s.create_room(&room).await.unwrap();
    s.create_room(&room_record(org.id, anna.id, "Taken"))
        .await
        .unwrap();

    let later = room.created_at + Duration::seconds(5);
    let update = RoomUpdate {
        name: Some("Big gallery".into()),
        capacity: Some(40),
        template: Some((
            "custom".into(),
            Some(json!({"name": "hall", "capacity": 40})),
        )),
        channel_id: Some(Some(chat.id)),
        at: later,
    };
    let updated = s.update_room(org.id, room.id, &update).await.unwrap();
    assert_eq!(updated.name, "Big gallery");
    assert_eq!(updated.capacity, 40);
    assert_eq!(updated.template, "custom");
    assert_eq!(updated.channel_id, Some(chat.id));
    assert_eq!(updated.updated_at, ms(later));
    assert_eq!(updated.created_at, ms(room.created_at));
    assert_eq!(s.get_room(org.id, room.id).await.unwrap(), updated);

    // Unlinking the channel; other fields stay.
    let mut unlink = RoomUpdate::at(later);
    unlink.channel_id = Some(None);
    let unlinked = s.update_room(org.id, room.id, &unlink).await.unwrap();
    assert_eq!(unlinked.channel_id, None);
    assert_eq!(unlinked.name, "Big gallery");

    // Refused: a taken name, another organization's channel, another organization's room.
    let mut clash = RoomUpdate::at(later);
    clash.name = Some("TAKEN".into());
    assert!(matches!(
        s.update_room(org.id, room.id, &clash).await,
        Err(StoreError::Conflict(what)) if what == "name"
    ));
    let mut borrow = RoomUpdate::at(later);
    borrow.channel_id = Some(Some(their_chat.id));
    assert!(matches!(
        s.update_room(org.id, room.id, &borrow).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.update_room(other.id, room.id, &RoomUpdate::at(later))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.get_room(org.id, room.id).await.unwrap(), unlinked);

    // Delete: another organization cannot; the owner can, once.
    assert!(!s.delete_room(other.id, room.id).await.unwrap());
    assert!(s.delete_room(org.id, room.id).await.unwrap());
    assert!(!s.delete_room(org.id, room.id).await.unwrap());
    assert!(matches!(
        s.get_room(org.id, room.id).await,
        Err(StoreError::NotFound)
    ));
}
