//! `portolan local` through the binary: its own sockets, found with their
//! states and owner, in the table, the plain columns and JSON.

use std::net::{TcpListener, TcpStream};
use std::process::Command;

fn portolan(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(args)
        .output()
        .expect("portolan runs")
}

#[test]
fn local_lists_this_processes_listener_and_connection_with_their_owner() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (_server, _) = listener.accept().unwrap();
    let pid = std::process::id().to_string();

    // Default: listeners only.
    let out = portolan(&["local", "-t", "-p", &port, "--plain"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(rows.len(), 1, "{text}");
    assert_eq!(&rows[0][..2], ["tcp", "LISTEN"], "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains(&pid), "owner pid in {text}");

    // -a: the connection's two ends too, in JSON.
    let out = portolan(&["local", "-a", "-t", "-p", &port, "-oJ", "-"]);
    assert!(out.status.success(), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = doc.to_string();
    let established = text.matches("\"established\"").count();
    assert_eq!(established, 2, "both ends of the connection: {text}");
    assert!(text.contains("\"listen\""), "{text}");
    drop(client);
}

#[test]
fn local_bad_input_is_one_line_naming_it() {
    for (args, token) in [
        (&["local", "--state", "nosuch"][..], "nosuch"),
        (&["local", "-p", "99999"], "99999"),
        (
            &["local", "--netns", "portolan-no-such-ns"],
            "portolan-no-such-ns",
        ),
    ] {
        let out = portolan(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(token), "{args:?}: {err}");
    }
}
