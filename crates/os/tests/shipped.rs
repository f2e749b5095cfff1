//! The shipped database, entry by entry: every entry parses, names itself
//! at 100 % from its own traits, and the Linux captures stay Linux.

use portolan_os::{
    Database, Entry, IcmpReply, IcmpTraits, Observation, Options, Span, BUILTIN_FILES,
};

fn first(spans: &Option<Vec<Span>>) -> Option<u16> {
    match spans.as_deref()?.first()? {
        Span::Range(lo, _) => u16::try_from(*lo).ok(),
        Span::MssTimes(_) => None,
    }
}

fn own_traits(e: &Entry) -> Observation {
    Observation {
        ttl: e.ttl,
        df: e.df,
        window: first(&e.window),
        mss: first(&e.mss),
        options: e.options.as_ref().and_then(|o| o.first().cloned()),
        wscale: first(&e.wscale).and_then(|w| u8::try_from(w).ok()),
        ecn: e.ecn,
        closed: e.closed,
        giveup: e.giveup,
        rto: e.rto.first().cloned(),
        isn: e.isn.as_ref().and_then(|c| c.first().copied()),
        ipid: e.ipid.as_ref().and_then(|c| c.first().copied()),
        ts: e.ts.as_ref().and_then(|c| c.first().copied()),
        tsrate: first(&e.tsrate).map(u32::from),
        echo: e.echo.map(reply),
        unreach: e.unreach.map(reply),
        variants: e.variants.clone(),
    }
}

fn reply(i: IcmpTraits) -> IcmpReply {
    IcmpReply {
        ttl: i.ttl,
        df: i.df,
        quoted: i.quote,
    }
}

#[test]
fn every_entry_names_itself_at_full_accuracy() {
    let db = Database::builtin();
    for e in db.entries() {
        assert!(!e.source.is_empty(), "{}", e.name);
        let r = db.classify_observation(&own_traits(e), &Options::default());
        let me = r.matches.iter().find(|m| m.name == e.name);
        assert_eq!(
            me.map(|m| m.accuracy),
            Some(100),
            "entry `{}` (line {}) does not find itself: {:?}",
            e.name,
            e.line,
            r.matches
                .iter()
                .map(|m| (&m.name, m.accuracy))
                .collect::<Vec<_>>()
        );
    }
}

/// Issue 13: Linux sysctl variants stay Linux. Classified against the
/// published (Hershel+) stacks only, each captured variant's best family
/// is printed; the ones the published data knows must come out Linux,
/// and none may come out sure as another family.
#[test]
fn linux_variants_stay_linux() {
    let (name, text) = BUILTIN_FILES
        .iter()
        .find(|(n, _)| n.ends_with("linux.osdb"))
        .expect("shipped");
    let linux = Database::parse(text, name).expect("parses");
    assert!(linux.entries().len() >= 5);
    let (hname, htext) = BUILTIN_FILES
        .iter()
        .find(|(n, _)| n.ends_with("hershelplus.osdb"))
        .expect("shipped");
    let published = Database::parse(htext, hname).expect("parses");
    let full = Database::builtin();
    for e in linux.entries() {
        let o = own_traits(e);
        let r = full.classify_observation(&o, &Options::default());
        let best = r.best().expect("a sure match");
        assert!(best.classes.iter().all(|c| c.family == "Linux"), "{best:?}");
        let p = published.classify_observation(&o, &Options { guess: true });
        let fam = p
            .best()
            .and_then(|m| m.classes.first())
            .map(|c| c.family.clone());
        println!(
            "{}: with captures {} {}%; published data only: {:?} {:?}",
            e.name,
            best.name,
            best.accuracy,
            p.best().map(|m| (&m.name, m.accuracy)),
            fam
        );
        if let Some(m) = p.best() {
            if m.accuracy >= portolan_os::SURE {
                // Hershel+ labels devices by product, not by the OS they
                // run (family "embedded"), and many run Linux: the
                // tcp_rmem=4096 65536 1048576 variant is a sure "Odyssey
                // LI-COR Infrared Imaging System" on the published data
                // alone. Only a sure general-purpose OS other than Linux
                // would be wrong.
                assert!(
                    m.classes.is_empty()
                        || m.classes
                            .iter()
                            .any(|c| c.family == "Linux" || c.family == "embedded"),
                    "{}: sure as {m:?}",
                    e.name
                );
            }
        }
    }
}
