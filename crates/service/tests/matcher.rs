//! The matcher: byte semantics, flags, look-ahead, back-references, and
//! bounded time on hostile replies.

use portolan_service::{Database, Pattern, PatternError, Subject};
use std::time::{Duration, Instant};

fn caps(p: &str, i: bool, s: bool, reply: &[u8]) -> Option<Vec<Option<Vec<u8>>>> {
    Pattern::new(p, i, s)
        .unwrap()
        .captures(&Subject::new(reply))
        .unwrap()
}

#[test]
fn bytes_escapes_and_high_bytes() {
    let c = caps(r"^\x00\xff(.)\0", false, false, b"\x00\xff\xe9\x00").unwrap();
    assert_eq!(c[1].as_deref(), Some(&b"\xe9"[..]));
    assert!(caps(r"^[\x80-\xff]+$", false, false, b"\x80\x99\xff").is_some());
    // ASCII classes only: 0xA0 is not a space, 0xE9 not a letter, here.
    assert!(caps(r"^a\sb$", false, false, b"a\xa0b").is_none());
    assert!(caps(r"^\w+$", false, false, b"caf\xe9").is_none());
    assert!(caps(r"^[\w.]+$", false, false, b"v1.2_x").is_some());
    assert!(caps(r"^\D\W\S$", false, false, b"a.x").is_some());
}

#[test]
fn flags() {
    assert!(caps("^server: NGINX", false, false, b"Server: nginx").is_none());
    assert!(caps("^server: NGINX", true, false, b"Server: nginx").is_some());
    assert!(caps("^a.b$", false, false, b"a\nb").is_none());
    assert!(caps("^a.b$", false, true, b"a\nb").is_some());
}

#[test]
fn look_ahead_and_back_references() {
    let c = caps(r"^(?=.*?B=(\d+))(?=.*?A=(\d+))", false, true, b"A=1\nB=2\n").unwrap();
    assert_eq!(c[1].as_deref(), Some(&b"2"[..]));
    assert_eq!(c[2].as_deref(), Some(&b"1"[..]));
    assert!(caps(r"^(?!SSH-)", false, false, b"SSH-2.0").is_none());
    assert!(caps(r"^(\w+) \1$", false, false, b"abc abc").is_some());
    assert!(caps(r"^(\w+) \1$", false, false, b"abc abd").is_none());
    assert!(caps(r"(?<=\x00)X", false, false, b"\x00X").is_some());
}

#[test]
fn a_bad_class_inside_brackets_is_an_error() {
    assert!(matches!(
        Pattern::new(r"[\W]", false, false),
        Err(PatternError::Compile(_))
    ));
}

#[test]
fn hostile_one_megabyte_banner_finishes_quickly() {
    // The bait's tail ('!') lies inside the part that is matched.
    let mut banner = vec![b'a'; 30_000];
    banner.push(b'!');
    banner.resize(1 << 20, b'a');
    let bait = [
        r"^(a+)+$",
        r"^(a|aa)+$",
        r"^(a*)*\1$",
        r"^(?=(a+)+b)",
        r"^((a+)+)\2b",
        r"(.*a){20}x",
    ];
    let subject = Subject::new(&banner);
    for p in bait {
        let pat = Pattern::new(p, false, true).unwrap();
        let t = Instant::now();
        let r = pat.captures(&subject);
        let took = t.elapsed();
        assert!(took < Duration::from_secs(3), "{p} took {took:?}");
        // Either no match or the backtrack limit: never a hang or a panic.
        assert!(
            matches!(r, Ok(None) | Err(PatternError::Limit(_))),
            "{p}: matched or failed oddly"
        );
    }
    // The whole built-in database against hostile replies.
    let db = Database::builtin().unwrap();
    let mut http = b"HTTP/1.1 200 OK\r\n".to_vec();
    while http.len() < (1 << 20) {
        http.extend_from_slice(b"Server: Server: \"number\" : \"");
    }
    for reply in [&banner, &http] {
        let subject = Subject::new(reply);
        let t = Instant::now();
        for p in db.probes() {
            for r in &p.rules {
                let _ = r.apply(&subject);
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "database took {:?}",
            t.elapsed()
        );
    }
}
