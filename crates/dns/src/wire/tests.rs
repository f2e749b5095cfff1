use super::*;
use proptest::prelude::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn query_for(addr: &str) -> (Vec<u8>, Vec<u8>) {
    let qname = reverse_name(ip(addr));
    (encode_query(0x1234, &qname), qname)
}

#[test]
fn reverse_names() {
    assert_eq!(
        display_name(&reverse_name(ip("198.18.0.7"))).unwrap(),
        "7.0.18.198.in-addr.arpa"
    );
    assert_eq!(
        display_name(&reverse_name(ip("2001:2::1"))).unwrap(),
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa"
    );
}

#[test]
fn query_layout() {
    let (q, qname) = query_for("198.18.0.7");
    assert_eq!(&q[..12], &[0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(&q[12..12 + qname.len()], &qname[..]);
    assert_eq!(&q[12 + qname.len()..], &[0, 12, 0, 1]);
    assert_eq!(message_id(&q), Some(0x1234));
    assert_eq!(message_id(&[1]), None);
}

#[test]
fn query_address_round_trips() {
    for a in ["198.18.0.7", "0.0.0.0", "2001:2::1", "2001:2:0:ffff::abcd"] {
        let (q, _) = query_for(a);
        assert_eq!(query_address(&q), Some(ip(a)), "{a}");
    }
    assert_eq!(query_address(b"short"), None);
}

#[test]
fn decodes_a_compressed_ptr_answer() {
    let (q, qname) = query_for("198.18.0.7");
    let r = ptr_response(&q, Some("seven.example.test.")).unwrap();
    assert_eq!(
        decode_response(&r, &qname),
        Ok(Reply::Name("seven.example.test".into()))
    );
}

#[test]
fn nxdomain_and_failures() {
    let (q, qname) = query_for("198.18.0.7");
    let r = ptr_response(&q, None).unwrap();
    assert_eq!(decode_response(&r, &qname), Ok(Reply::NoName));
    let mut servfail = r.clone();
    servfail[3] = 0x82;
    assert_eq!(decode_response(&servfail, &qname), Ok(Reply::Failure(2)));
    // NOERROR with no answer records.
    let mut empty = r;
    empty[3] = 0x80;
    assert_eq!(decode_response(&empty, &qname), Ok(Reply::NoName));
}

#[test]
fn rejects_queries_and_other_questions() {
    let (q, qname) = query_for("198.18.0.7");
    assert_eq!(decode_response(&q, &qname), Err(WireError::NotResponse));
    let (q8, _) = query_for("198.18.0.8");
    let r8 = ptr_response(&q8, Some("eight.test")).unwrap();
    assert_eq!(
        decode_response(&r8, &qname),
        Err(WireError::QuestionMismatch)
    );
    // Same name, other case: accepted (RFC 4343).
    let upper: Vec<u8> = qname.to_ascii_uppercase();
    let r = ptr_response(&encode_query(1, &upper), Some("x.test")).unwrap();
    assert_eq!(
        decode_response(&r, &qname),
        Ok(Reply::Name("x.test".into()))
    );
}

#[test]
fn follows_a_cname_to_the_ptr() {
    // RFC 2317: 7.0.18.198.in-addr.arpa CNAME 7.0-25.0.18.198.in-addr.arpa,
    // which has the PTR.
    let (q, qname) = query_for("198.18.0.7");
    let mut r = ptr_response(&q, None).unwrap();
    r[3] = 0x80;
    r[7] = 2;
    // CNAME: owner = question; target = "7" "0-25" + pointer to "0.18..." .
    r.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60]);
    let target_at = r.len() + 2;
    let rdata = [1, b'7', 4, b'0', b'-', b'2', b'5', 0xc0, 14];
    r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    r.extend_from_slice(&rdata);
    r.extend_from_slice(&[0xc0, target_at as u8, 0, 12, 0, 1, 0, 0, 0, 60]);
    let name = [4, b'h', b'o', b's', b't', 4, b't', b'e', b's', b't', 0];
    r.extend_from_slice(&(name.len() as u16).to_be_bytes());
    r.extend_from_slice(&name);
    assert_eq!(
        decode_response(&r, &qname),
        Ok(Reply::Name("host.test".into()))
    );
}

#[test]
fn ignores_ptr_records_for_other_owners() {
    let (q, qname) = query_for("198.18.0.7");
    let mut r = ptr_response(&q, None).unwrap();
    r[3] = 0x80;
    r[7] = 1;
    r.extend_from_slice(&[3, b'f', b'o', b'o', 0, 0, 12, 0, 1, 0, 0, 0, 60, 0, 5]);
    r.extend_from_slice(&[3, b'b', b'a', b'd', 0]);
    assert_eq!(decode_response(&r, &qname), Ok(Reply::NoName));
}

#[test]
fn hostile_names_are_escaped() {
    let (q, qname) = query_for("198.18.0.7");
    let r = ptr_response(&q, Some("a\x1b[2Jb.te\\st")).unwrap();
    assert_eq!(
        decode_response(&r, &qname),
        Ok(Reply::Name("a\\027[2Jb.te\\092st".into()))
    );
    assert_eq!(display_name(&[0]), None);
    assert_eq!(display_name(&[5, b'a']), None);
}

#[test]
fn pointer_loops_and_forward_pointers_are_errors() {
    let (q, qname) = query_for("198.18.0.7");
    let mut r = ptr_response(&q, Some("x.test")).unwrap();
    // The answer's owner pointer points at itself.
    let owner = 12 + qname.len() + 4;
    r[owner] = 0xc0 | (owner >> 8) as u8;
    r[owner + 1] = owner as u8;
    assert_eq!(
        decode_response(&r, &qname),
        Err(WireError::BadPointer(owner))
    );
    // A two-pointer cycle far back in the message.
    let mut r = ptr_response(&q, Some("x.test")).unwrap();
    r[owner..owner + 2].copy_from_slice(&[0xc0, 12]);
    r[12..14].copy_from_slice(&[0xc0, 14]);
    assert!(decode_response(&r, &qname).is_err());
}

#[test]
fn truncated_responses_are_errors() {
    let (q, qname) = query_for("198.18.0.7");
    let r = ptr_response(&q, Some("seven.example.test")).unwrap();
    for n in 0..r.len() {
        assert!(decode_response(&r[..n], &qname).is_err(), "length {n}");
    }
}

#[test]
fn overlong_names_are_errors() {
    let (q, qname) = query_for("198.18.0.7");
    let long = vec!["a".repeat(63); 5].join(".");
    let r = ptr_response(&q, Some(&long)).unwrap();
    assert_eq!(decode_response(&r, &qname), Err(WireError::NameTooLong));
}

#[test]
fn extended_label_types_are_errors() {
    let (q, qname) = query_for("198.18.0.7");
    let mut r = ptr_response(&q, Some("x.test")).unwrap();
    let owner = 12 + qname.len() + 4;
    r[owner] = 0x41;
    assert_eq!(decode_response(&r, &qname), Err(WireError::BadLabel(0x41)));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(msg in proptest::collection::vec(any::<u8>(), 0..600)) {
        let qname = reverse_name(ip("198.18.0.7"));
        let _ = decode_response(&msg, &qname);
        let _ = query_address(&msg);
        let _ = ptr_response(&msg, Some("x.test"));
    }

    #[test]
    fn mutated_answers_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let (q, qname) = query_for("198.18.0.7");
        let mut r = ptr_response(&q, Some("host.example.test")).unwrap();
        for (at, b) in edits {
            let n = r.len();
            r[at % n] = b;
        }
        r.truncate(cut % (r.len() + 1));
        if let Ok(Reply::Name(name)) = decode_response(&r, &qname) {
            prop_assert!(name.bytes().all(|b| b.is_ascii_graphic()));
        }
    }

    #[test]
    fn any_address_round_trips(v6 in any::<[u8; 16]>(), v4 in any::<[u8; 4]>()) {
        for a in [IpAddr::from(v6), IpAddr::from(v4)] {
            let q = encode_query(7, &reverse_name(a));
            prop_assert_eq!(query_address(&q), Some(a));
        }
    }
}
