//! A panic inside one channel's actor, over the wire: the other channel carries on untouched,
//! the panicked one is restarted by its supervisor and its subscribers keep receiving.

mod ws_support;

use atrium_core::protocol::ServerFrame;

use ws_support::{Node, WAIT, expect_push};

#[tokio::test]
async fn a_panicking_channel_comes_back_and_others_never_notice() {
    let node = Node::start().await;
    let ann = node.register("ann").await;
    let bob = node.register("bob").await;
    let hot = node.channel(&ann, &[&bob]).await;
    let calm = node.channel(&ann, &[&bob]).await;
    let a = node.client(&ann).await;
    let b = node.client(&bob).await;
    for ch in [hot, calm] {
        a.sub(ch).await.unwrap();
        b.sub(ch).await.unwrap();
    }
    a.send(hot, "before").await.unwrap();

    assert!(node.realtime.crash_channel(ann.org, hot));
    for i in 1..=10 {
        let sent = a.send(calm, &format!("calm {i}")).await.unwrap();
        let got = expect_push(&b, |f| match f {
            ServerFrame::Msg { ch, seq, .. } if *ch == calm => Some(*seq),
            _ => None,
        })
        .await;
        assert_eq!(got, sent.seq);
    }
    let mut lifecycle = node.realtime.lifecycle();
    tokio::time::timeout(WAIT, lifecycle.wait_for(|l| l.channel_restarts >= 1))
        .await
        .expect("the channel was not restarted")
        .unwrap();

    let sent = a.send(hot, "after").await.unwrap();
    assert_eq!(sent.seq, 2, "the restarted channel continues its seq");
    let got = expect_push(&b, |f| match f {
        ServerFrame::Msg { ch, seq, body, .. } if *ch == hot && *seq == 2 => Some(body.clone()),
        _ => None,
    })
    .await;
    assert_eq!(got, "after");
}
