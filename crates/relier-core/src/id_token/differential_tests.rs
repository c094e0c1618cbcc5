//! The registered claims as read by `IdTokenClaims::from_json` against the reading it replaced:
//! serde_json deserializing a struct of the same ten members (kept here as the oracle).

use super::*;

/// The earlier reader: serde builds each registered member as a `Value` and skips the rest.
#[derive(serde::Deserialize)]
struct Oracle {
    iss: Option<Value>,
    sub: Option<Value>,
    aud: Option<Value>,
    exp: Option<Value>,
    iat: Option<Value>,
    auth_time: Option<Value>,
    nonce: Option<Value>,
    azp: Option<Value>,
    at_hash: Option<Value>,
    sid: Option<Value>,
}

type Typed = (
    String,
    String,
    Vec<String>,
    u64,
    u64,
    [Option<String>; 4],
    Option<u64>,
);

fn text(v: Option<Value>) -> Result<Option<String>, ()> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(()),
    }
}

fn date(v: Option<Value>) -> Result<Option<u64>, ()> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => Ok(Some(u)),
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "test"
            )]
            (None, Some(f)) if f.is_finite() && (0.0..9.0e15).contains(&f) => Ok(Some(f as u64)),
            _ => Err(()),
        },
        Some(_) => Err(()),
    }
}

fn oracle(payload: &[u8]) -> Result<Typed, ()> {
    if payload.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(());
    }
    let o: Oracle = serde_json::from_slice(payload).map_err(|_| ())?;
    let aud = match o.aud {
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(a)) => a
            .into_iter()
            .map(|x| x.as_str().map(str::to_owned).ok_or(()))
            .collect::<Result<_, _>>()?,
        _ => return Err(()),
    };
    let sub = text(o.sub)?.ok_or(())?;
    if sub.is_empty() || sub.len() > 255 {
        return Err(());
    }
    Ok((
        text(o.iss)?.ok_or(())?,
        sub,
        aud,
        date(o.exp)?.ok_or(())?,
        date(o.iat)?.ok_or(())?,
        [text(o.nonce)?, text(o.azp)?, text(o.at_hash)?, text(o.sid)?],
        date(o.auth_time)?,
    ))
}

fn read(payload: &[u8]) -> Result<Typed, IdTokenError> {
    let c = IdTokenClaims::from_json(payload.to_vec())?;
    Ok((
        c.iss,
        c.sub,
        c.aud,
        c.exp,
        c.iat,
        [c.nonce, c.azp, c.at_hash, c.sid],
        c.auth_time,
    ))
}

#[test]
fn mutated_claims_read_as_the_serde_reader_read_them() {
    const ALPHABET: &[u8] = b"{}[]\",:\\ -.e0123456789nulsia\x01";
    let seeds = [
        r#"{"iss":"https://op.example.com","sub":"alice","aud":"rp","exp":1700003600,"iat":1700000000,"nonce":"n-0S6","azp":"rp","amr":["pwd"],"x":{"y":[1.5,null]}}"#,
        r#"{"sub":"b\u00f6b","aud":["rp","other"],"iss":"https://op","exp":1.7e9,"iat":0,"auth_time":5,"sid":null,"at_hash":"h\/x","e":"é"}"#,
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut judged, mut accepted) = (0, 0);
    for round in 0..60_000 {
        let mut bytes = seeds[round % seeds.len()].as_bytes().to_vec();
        for _ in 0..=(next() % 2) {
            let at = (next() as usize) % (bytes.len() + 1);
            let c = ALPHABET[(next() as usize) % ALPHABET.len()];
            match next() % 3 {
                0 if at < bytes.len() => bytes[at] = c,
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, c),
            }
        }
        if std::str::from_utf8(&bytes).is_err() {
            // RFC 8259 §8.1: the new reader refuses what is not UTF-8 (serde_json skipped it
            // unchecked inside members it did not read).
            assert!(read(&bytes).is_err());
            continue;
        }
        judged += 1;
        let (new, old) = (read(&bytes), oracle(&bytes));
        assert_eq!(
            new.is_ok(),
            old.is_ok(),
            "{:?}",
            String::from_utf8_lossy(&bytes)
        );
        if let (Ok(new), Ok(old)) = (new, old) {
            accepted += 1;
            assert_eq!(new, old);
        }
    }
    assert!(
        judged > 50_000 && accepted > 5_000,
        "{judged} judged, {accepted} accepted"
    );
}

/// Numbers beyond f64's range (found by the `members` fuzz target): a registered claim holding
/// one is refused, as serde refused to build its `Value`; in a member relier does not read it
/// is skipped, as serde skipped it.
#[test]
fn numbers_beyond_f64_read_as_the_serde_reader_read_them() {
    let cases = [
        (
            r#"{"iss":"https://op","sub":"a","aud":"rp","exp":1e400,"iat":0}"#,
            false,
        ),
        (
            r#"{"iss":3.46E4000000000009,"sub":"a","aud":"rp","exp":1,"iat":0}"#,
            false,
        ),
        (
            r#"{"iss":"https://op","sub":"a","aud":"rp","exp":1,"iat":0,"x":-1e400}"#,
            true,
        ),
        (
            r#"{"iss":"https://op","sub":"a","aud":["rp",1e999],"exp":1,"iat":0}"#,
            false,
        ),
    ];
    for (payload, ok) in cases {
        assert_eq!(read(payload.as_bytes()).is_ok(), ok, "{payload}");
        assert_eq!(oracle(payload.as_bytes()).is_ok(), ok, "{payload}");
    }
}
