//! `render_file`, behind `local photos render <file> --out <dir>`: files written, JSON-ready summaries, and the
//! exit codes for a refused photo and for a file-system problem.

use photo::{RenderFileError, RenditionSummary, render_file};

use crate::*;

#[test]
fn each_rendition_is_written_as_its_name_dot_jpg_and_summarised() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("photo.jpg");
    std::fs::write(&photo, jpeg(1000, 750, |x, _| red_blue(x, 1000))).unwrap();
    let out = dir.path().join("out/renditions");

    let summaries = render_file(&photo, &out, &standard(), &Limits::default()).unwrap();

    let expected = [("thumbnail", 200, 150), ("medium", 800, 600), ("large", 1000, 750)];
    assert_eq!(summaries.iter().map(|s| (s.name.as_str(), s.width, s.height)).collect::<Vec<_>>(), expected);
    for summary in &summaries {
        let written = std::fs::read(out.join(format!("{}.jpg", summary.name))).unwrap();
        assert_eq!(written.len() as u64, summary.bytes);
        assert!(written.starts_with(&[0xFF, 0xD8, 0xFF]));
    }
    let json = serde_json::to_value(&summaries[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"name": "thumbnail", "width": 200, "height": 150, "bytes": summaries[0].bytes})
    );
}

#[test]
fn a_corrupt_photo_exits_2_with_the_reason_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("broken.jpg");
    let whole = jpeg(300, 200, |x, _| red_blue(x, 300));
    std::fs::write(&photo, &whole[..whole.len() / 2]).unwrap();
    let out = dir.path().join("out");

    let error = render_file(&photo, &out, &standard(), &Limits::default()).unwrap_err();

    assert!(matches!(error, RenderFileError::Photo(_)), "{error:?}");
    assert_eq!(error.exit_code(), 2);
    assert_eq!(error.to_string(), "the JPEG file is damaged or incomplete");
    assert!(!out.exists(), "nothing is written for a refused photo");
}

#[test]
fn a_file_over_the_limit_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("huge.jpg");
    // Sparse: 10 GiB that take no disk and would take a while to read.
    std::fs::File::create(&photo).unwrap().set_len(10 << 30).unwrap();
    let start = Instant::now();
    let error = render_file(&photo, dir.path(), &standard(), &Limits::default()).unwrap_err();
    assert!(start.elapsed() < Duration::from_millis(200), "took {:?}", start.elapsed());
    assert_eq!(error.exit_code(), 2);
    assert_eq!(error.to_string(), "the file is 10240 MiB; at most 20 MiB are accepted");
}

#[test]
fn a_missing_file_is_a_read_error_with_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    let error = render_file(dir.path().join("nope.jpg"), dir.path(), &standard(), &Limits::default()).unwrap_err();
    assert!(matches!(error, RenderFileError::Read { .. }), "{error:?}");
    assert_eq!(error.exit_code(), 1);
}

#[test]
fn summaries_serialise_with_the_field_names_the_command_prints() {
    let summary = RenditionSummary { name: "large".into(), width: 1600, height: 1200, bytes: 321 };
    let printed = serde_json::json!({ "renditions": [summary] }).to_string();
    assert_eq!(printed, r#"{"renditions":[{"bytes":321,"height":1200,"name":"large","width":1600}]}"#);
}
