use super::*;
use portolan_model::traits::OptionLayout;

/// A SYN/ACK with a Linux 6.x default stack's traits (as
/// data/linux.osdb records them), received with `ttl`.
fn linux_synack(ttl: u8) -> StackTraits {
    let mut options = OptionLayout::default();
    for k in [2, 4, 8, 1, 3] {
        options.push(k);
    }
    StackTraits {
        ttl,
        df: true,
        flags: 0x12,
        window: 65160,
        mss: Some(1460),
        wscale: Some(7),
        sack_permitted: true,
        options,
        ..StackTraits::default()
    }
}

fn evidence(t: StackTraits) -> Evidence {
    let mut samples = TraitSamples::new();
    samples.offer(t);
    Evidence {
        samples,
        more: Vec::new(),
    }
}

fn family(r: &OsReport) -> Option<&str> {
    r.best()
        .and_then(|m| m.classes.first())
        .map(|c| c.family.as_str())
}

#[test]
fn builtin_database_parses_and_has_both_sources() {
    let db = Database::builtin();
    assert!(db.entries().len() >= 420);
    assert!(db.entries().iter().any(|e| e.source.contains("Hershel+")));
    assert!(db
        .entries()
        .iter()
        .any(|e| e.source.contains("capture-linux")));
}

#[test]
fn linux_default_is_linux_and_sure() {
    let r = Database::builtin().classify(&evidence(linux_synack(62)), &Options::default());
    assert_eq!(family(&r), Some("Linux"), "{r:?}");
    assert!(r.best().unwrap().accuracy >= SURE);
    assert_eq!(r.distance, Some(3));
    assert!(r.fingerprint.contains("options=MSTNW"), "{}", r.fingerprint);
    assert_eq!(r.uptime, None);
}

/// Issue 13: a Linux host set to TTL 128 must come out low-confidence,
/// not confidently Windows.
#[test]
fn linux_with_ttl_128_is_not_sure_and_not_windows() {
    let db = Database::builtin();
    let sure = db.classify(&evidence(linux_synack(128)), &Options::default());
    assert!(sure.matches.is_empty(), "{sure:?}");
    assert!(sure
        .no_match
        .as_deref()
        .unwrap()
        .starts_with("not enough evidence"));
    let guess = db.classify(&evidence(linux_synack(128)), &Options { guess: true });
    let best = guess.best().expect("a guess");
    assert!(best.accuracy < SURE, "{best:?}");
    assert_eq!(family(&guess), Some("Linux"), "{guess:?}");
    for m in &guess.matches {
        assert!(
            !m.classes.iter().any(|c| c.family == "Windows") || m.accuracy < best.accuracy,
            "{m:?}"
        );
    }
}

#[test]
fn no_synack_is_not_enough_evidence() {
    let db = Database::builtin();
    let r = db.classify(&Evidence::default(), &Options { guess: true });
    assert!(r.matches.is_empty());
    assert_eq!(
        r.no_match.as_deref(),
        Some("not enough evidence: no open port answered with a SYN/ACK")
    );
    let rst = StackTraits {
        ttl: 64,
        flags: 0x14,
        ..StackTraits::default()
    };
    let r = db.classify(&evidence(rst), &Options { guess: true });
    assert!(r.matches.is_empty());
    assert!(r.no_match.unwrap().contains("closed port"));
    assert_eq!(r.distance, Some(1));
}

#[test]
fn windows_from_hershel_record_is_windows() {
    // Hershel+ stack 167's header: window 8192, TTL 128, DF, MNWST, MSS 1460.
    let o = Observation {
        ttl: Some(120),
        df: Some(true),
        window: Some(8192),
        mss: Some(1460),
        options: Some("MNWST".into()),
        ..Observation::default()
    };
    let r = Database::builtin().classify_observation(&o, &Options::default());
    assert_eq!(family(&r), Some("Windows"), "{r:?}");
    assert_eq!(r.distance, Some(9));
}

#[test]
fn window_as_mss_multiple_and_user_entries_merge() {
    let mut db = Database::parse(
        "entry Test OS 1\nclass Acme | TestOS | 1 | general purpose | cpe:/o:acme:testos:1\n\
         source unit test\nttl 64\ndf yes\nwindow 14600\nmss 1460\noptions MSTNW\nwscale 7\n",
        "user.osdb",
    )
    .unwrap();
    // Same stack behind a path with MSS 1400: window 10 * 1400.
    let mut t = linux_synack(64);
    t.mss = Some(1400);
    t.window = 14000;
    let r = db.classify(&evidence(t), &Options::default());
    assert_eq!(
        r.best().map(|m| m.name.as_str()),
        Some("Test OS 1"),
        "{r:?}"
    );
    let acc = r.best().unwrap().accuracy;
    assert!((SURE..100).contains(&acc), "{acc}");
    db.merge(Database::builtin());
    assert!(db.entries().len() > 420);
}

#[test]
fn rto_series_tell_retransmission_timers_apart() {
    assert_eq!(rto_credit(&[], &[]), 1.0);
    assert_eq!(rto_credit(&[3.0, 9.0, 21.0], &[3.0, 9.0, 21.0]), 1.0);
    assert!(rto_credit(&[3.0, 9.0], &[3.0, 9.0, 21.0]) < 0.7);
    assert!(rto_credit(&[1.0, 3.0, 7.0], &[3.0, 9.0, 21.0]) < 0.4);
    assert_eq!(rto_credit(&[1.0, 2.0], &[3.0, 9.0, 21.0]), 0.0);
}

#[test]
fn slirp_capture_is_slirp() {
    // libslirp's SYN/ACK as data/slirp.osdb records it: MSS only, no DF.
    let mut options = OptionLayout::default();
    options.push(2);
    let t = StackTraits {
        ttl: 64,
        flags: 0x12,
        window: 65535,
        mss: Some(1460),
        options,
        ..StackTraits::default()
    };
    let r = Database::builtin().classify(&evidence(t), &Options::default());
    assert_eq!(family(&r), Some("Slirp"), "{r:?}");
    assert_eq!(r.best().unwrap().accuracy, 100);
}

#[test]
fn lwip_capture_is_lwip() {
    // lwIP 2.1.3's SYN/ACK as data/lwip.osdb records it: TTL 255, MNW.
    let mut options = OptionLayout::default();
    for k in [2, 1, 3] {
        options.push(k);
    }
    let t = StackTraits {
        ttl: 254,
        flags: 0x12,
        window: 65535,
        mss: Some(1460),
        wscale: Some(1),
        options,
        ..StackTraits::default()
    };
    let r = Database::builtin().classify(&evidence(t), &Options::default());
    assert_eq!(family(&r), Some("lwIP"), "{r:?}");
    assert_eq!(r.distance, Some(2));
}

#[test]
fn smoltcp_capture_is_smoltcp() {
    // smoltcp 0.12's SYN/ACK as the scan reads it: MSS, window scale,
    // SACK permitted, end of list (the padding after it is not read).
    let mut options = OptionLayout::default();
    for k in [2, 3, 4, 0] {
        options.push(k);
    }
    let t = StackTraits {
        ttl: 64,
        df: true,
        flags: 0x12,
        window: 65535,
        mss: Some(1460),
        wscale: Some(0),
        sack_permitted: true,
        options,
        ..StackTraits::default()
    };
    let r = Database::builtin().classify(&evidence(t), &Options::default());
    assert_eq!(family(&r), Some("smoltcp"), "{r:?}");
}

#[test]
fn uptime_needs_two_timed_samples_at_a_known_rate() {
    // 1000 Hz, 3 s apart, 86400 s of uptime at the last sample.
    let t1 = 1_700_000_000.0;
    let u = uptime_from_timestamps(&[(86_397_000, t1 - 3.0), (86_400_000, t1)]).unwrap();
    assert_eq!(u.seconds, 86_400);
    assert_eq!(u.last_boot, 1_700_000_000 - 86_400);
    // 100 Hz, order of the samples does not matter.
    let u = uptime_from_timestamps(&[(500_200, t1), (500_000, t1 - 2.0)]).unwrap();
    assert_eq!(u.seconds, 5_002);
    // One sample, too close, a rate no stack uses, a clock going back,
    // hostile times: no guess.
    assert_eq!(uptime_from_timestamps(&[(1000, t1)]), None);
    assert_eq!(
        uptime_from_timestamps(&[(1000, t1), (1100, t1 + 0.1)]),
        None
    );
    assert_eq!(
        uptime_from_timestamps(&[(1000, t1), (1_000_000, t1 + 2.0)]),
        None
    );
    assert_eq!(
        uptime_from_timestamps(&[(5000, t1), (1000, t1 + 2.0)]),
        None
    );
    assert_eq!(
        uptime_from_timestamps(&[(0, f64::NAN), (u32::MAX, f64::INFINITY)]),
        None
    );
    assert_eq!(uptime_from_timestamps(&[]), None);
}

/// Issue 13: a case the SYN/ACK alone leaves level between two real
/// stacks, decided by the timed burst. Linux with timestamps, SACK and
/// window scaling off, behind a route whose MTU is locked (so no DF),
/// answers with MSS alone and no DF: libslirp's SYN/ACK but for the
/// window and the closed port's RST, and its own capture's but for DF.
/// The burst's words are those the captures recorded (random ISNs, echo
/// and port unreachable with TTL 64 and no DF; libslirp: ISNs counting
/// up, echo TTL 255 with DF, no port unreachable). The IP ID class is
/// left out: Linux's follows DF.
#[test]
fn the_burst_separates_linux_from_slirp() {
    let db = Database::builtin();
    let mut o = Observation {
        ttl: Some(63),
        df: Some(false),
        window: Some(64240),
        mss: Some(1460),
        options: Some("M".into()),
        closed: Some(ClosedRst {
            window: 0,
            ack: Echo::Plus1,
            df: true,
        }),
        ..Observation::default()
    };
    let accuracy = |o: &Observation, name: &str| {
        let r = db.rank(o);
        let at = r
            .iter()
            .find(|r| db.entries()[r.index].name.starts_with(name))
            .expect("entry");
        at.accuracy
    };
    let linux_name = "Linux 6.18 (tcp_timestamps=0 tcp_sack=0 tcp_window_scaling=0)";
    let (linux, slirp) = (accuracy(&o, linux_name), accuracy(&o, "libslirp"));
    assert!(linux.abs_diff(slirp) <= 3, "{linux} {slirp}");
    assert!(linux < SURE && slirp < SURE);
    let reply = |ttl, quoted| IcmpReply {
        ttl,
        df: false,
        quoted,
    };
    o.add_sequence(&Sequence {
        isn: Some(SeqClass::Random),
        echo: Some(reply(63, None)),
        unreach: Some(reply(63, Some(28))),
        ..Sequence::default()
    });
    let (linux, slirp) = (accuracy(&o, linux_name), accuracy(&o, "libslirp"));
    assert!(linux >= slirp + 20, "{linux} {slirp}");
    // Words the burst shows are in the fingerprint, after the SYN/ACK's.
    assert!(o
        .fingerprint()
        .ends_with(" isn=random echo=ttl:64,df:no unreach=ttl:64,df:no,quote:28"));
    // An entry without burst features (Hershel+'s) is not moved by them.
    let plain = Observation {
        isn: None,
        echo: None,
        unreach: None,
        ..o.clone()
    };
    let hp = |o: &Observation| {
        db.rank(o)
            .into_iter()
            .find(|r| db.entries()[r.index].source.contains("Hershel"))
            .map(|r| (r.index, r.accuracy))
    };
    let first = hp(&plain).expect("a Hershel+ entry");
    let with = db
        .rank(&o)
        .into_iter()
        .find(|r| r.index == first.0)
        .map(|r| r.accuracy);
    assert_eq!(with, Some(first.1));
}
