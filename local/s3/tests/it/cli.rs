//! The AWS CLI against the service, where `aws` is installed: `s3 cp` of a 20 MB file (multipart), `s3 ls`,
//! `s3 presign` fetched over plain HTTP.

use crate::spawn_app;
use std::process::Command;

fn aws_cli() -> bool {
    let found = Command::new("aws").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("note: `aws` is not on PATH; skipping the AWS CLI test");
    }
    found
}

fn aws(port: u16, args: &[&str]) -> std::process::Output {
    Command::new("aws")
        .arg("--endpoint-url")
        .arg(format!("http://127.0.0.1:{port}"))
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_copies_a_20_mb_file_lists_it_and_presigns_a_get() {
    if !aws_cli() {
        return;
    }
    let app = spawn_app().await;
    let port = app.addr.port();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("big.bin");
    let data: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&src, &data).unwrap();
    let run = move |args: Vec<String>| {
        let port = port;
        tokio::task::spawn_blocking(move || aws(port, &args.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let up = run(vec!["s3".into(), "cp".into(), src.display().to_string(), "s3://uploads/cli/big.bin".into()])
        .await
        .unwrap();
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    let head = app.s3.head_object("uploads", "cli/big.bin").await.unwrap();
    assert_eq!(head.size, data.len() as u64);
    assert!(head.etag.contains('-'), "a 20 MB cp is a multipart upload: {}", head.etag);

    let ls = run(vec!["s3".into(), "ls".into(), "s3://uploads/cli/".into()]).await.unwrap();
    assert!(String::from_utf8_lossy(&ls.stdout).contains("big.bin"));
    let dst = work.path().join("back.bin");
    let down = run(vec!["s3".into(), "cp".into(), "s3://uploads/cli/big.bin".into(), dst.display().to_string()])
        .await
        .unwrap();
    assert!(down.status.success(), "{}", String::from_utf8_lossy(&down.stderr));
    assert!(std::fs::read(&dst).unwrap() == data);

    let presign = run(vec!["s3".into(), "presign".into(), "s3://uploads/cli/big.bin".into()]).await.unwrap();
    let url = String::from_utf8(presign.stdout).unwrap().trim().to_owned();
    let got = reqwest::get(url).await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().len(), data.len());
}
