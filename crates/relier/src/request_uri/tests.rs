use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::test::rand::FixedByteRandom;

use super::*;

fn host() -> PendingRequestObjects {
    PendingRequestObjects::new(Url::parse("https://rp.example.com/auth/request").unwrap())
}

#[test]
fn served_once_at_an_id_from_the_injected_rng() {
    let h = host();
    let url = h
        .publish(
            "obj".into(),
            UnixTime(200),
            UnixTime(100),
            &FixedByteRandom { byte: 0xA5 },
        )
        .unwrap();
    let id = relier_jose::b64::encode(&[0xA5; ID_BYTES]);
    assert_eq!(
        url.as_str(),
        format!("https://rp.example.com/auth/request/{id}")
    );
    // 256 random bits, base64url.
    assert_eq!(id.len(), 43);
    assert_eq!(h.take(&id, UnixTime(150)).as_deref(), Some("obj"));
    assert_eq!(h.take(&id, UnixTime(150)), None, "single use");
    assert!(h.is_empty());
}

#[test]
fn expired_and_unknown_ids_are_not_served() {
    let h = host();
    let rng = SystemRandom::new();
    let url = h
        .publish("obj".into(), UnixTime(200), UnixTime(100), &rng)
        .unwrap();
    let id = url.path_segments().unwrap().next_back().unwrap().to_owned();
    assert_eq!(h.take("nope", UnixTime(150)), None);
    assert_eq!(h.take(&id, UnixTime(200)), None, "at exp");
    assert_eq!(
        h.take(&id, UnixTime(150)),
        None,
        "removed when found expired"
    );
    let other = h
        .publish("obj".into(), UnixTime(200), UnixTime(100), &rng)
        .unwrap();
    assert_ne!(other, url);
}

#[test]
fn bounded_expired_ones_swept_first() {
    let h = host().with_max(2);
    let rng = SystemRandom::new();
    h.publish("a".into(), UnixTime(110), UnixTime(100), &rng)
        .unwrap();
    h.publish("b".into(), UnixTime(300), UnixTime(100), &rng)
        .unwrap();
    assert!(matches!(
        h.publish("c".into(), UnixTime(300), UnixTime(105), &rng),
        Err(Error::RequestObject(RequestObjectError::RequestUri { .. }))
    ));
    // "a" expired at 110: swept to make room.
    h.publish("c".into(), UnixTime(300), UnixTime(120), &rng)
        .unwrap();
    assert_eq!(h.len(), 2);
}
