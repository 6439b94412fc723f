//! The outbox as the CLI reads it: newest first, bytes as stored, ids that cannot escape it.

use crate::helpers::{simple, spawn_app, to};
use local_ses::{Outbox, SesError};

#[tokio::test]
async fn the_outbox_lists_newest_first_and_shows_the_stored_bytes_from_another_process() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for subject in ["first", "second", "third"] {
        let sent = app
            .client
            .send_email()
            .from_email_address("noreply@example.com")
            .destination(to(&["ann@example.org"]))
            .content(simple(subject, "body"))
            .send()
            .await
            .unwrap();
        ids.push(sent.message_id().unwrap().to_owned());
    }
    // `local outbox list` opens the outbox alone, without the service.
    let outbox = Outbox::open(app.dir.path()).unwrap();
    let listed = outbox.list().unwrap();
    let subjects: Vec<_> = listed.iter().map(|e| e.subject.as_str()).collect();
    assert_eq!(subjects, ["third", "second", "first"]);
    assert_eq!(listed[0].id.as_str(), ids[2]);
    let line = serde_json::to_value(&listed[0]).unwrap();
    for key in ["id", "from", "to", "subject", "date"] {
        assert!(line.get(key).is_some(), "{key} in {line}");
    }
    let shown = outbox.show(&ids[0]).unwrap();
    assert_eq!(shown, std::fs::read(app.dir.path().join(format!("ses/outbox/{}.eml", ids[0]))).unwrap());
    assert!(String::from_utf8_lossy(&shown).contains("Subject: first"));
}

#[tokio::test]
async fn hostile_or_unknown_outbox_ids_are_refused_without_reading_outside_the_outbox() {
    let app = spawn_app().await;
    std::fs::write(app.dir.path().join("ses/secret.eml"), b"secret").unwrap();
    let outbox = app.ses.outbox();
    for hostile in [
        "../../etc/passwd",
        "/etc/passwd",
        "../secret",
        "..",
        "",
        "0100018c1c2b3d4e-5f6a7b8c-9d0e-1f2a-3b4c-5d6e7f8a9b0c-000000/../../secret",
        "0100018c1c2b3d4e-5f6a7b8c-9d0e-1f2a-3b4c-5d6e7f8a9b0c-000000\0",
    ] {
        assert!(matches!(outbox.show(hostile), Err(SesError::InvalidMessageId(_))), "{hostile:?}");
        assert!(outbox.envelope(hostile).is_err(), "{hostile:?}");
    }
    let unknown = outbox.show("0100018c1c2b3d4e-5f6a7b8c-9d0e-1f2a-3b4c-5d6e7f8a9b0c-000000");
    assert!(matches!(unknown, Err(SesError::NoSuchMessage(_))), "{unknown:?}");
}

#[test]
fn outbox_files_are_private_to_their_owner() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let rt = tokio::runtime::Runtime::new().unwrap();
        let app = rt.block_on(spawn_app());
        let id = rt
            .block_on(app.ses.send_simple(local_ses::SimpleEmail {
                from: "noreply@example.com".into(),
                to: vec!["ann@example.org".into()],
                subject: "s".into(),
                text: Some("t".into()),
                ..Default::default()
            }))
            .unwrap();
        let dir = app.ses.outbox().dir();
        assert_eq!(std::fs::metadata(dir).unwrap().permissions().mode() & 0o777, 0o700);
        for ext in ["eml", "json"] {
            let file = dir.join(format!("{id}.{ext}"));
            assert_eq!(std::fs::metadata(file).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
