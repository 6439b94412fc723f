//! Start-up of a Lambda function's `main` (tracing, SDK configuration, the store from the environment) makes no
//! network call and takes milliseconds. Its own test binary, because it sets process environment variables.

use std::time::{Duration, Instant};

#[test]
fn start_up_reads_only_the_environment_and_takes_milliseconds() {
    // SAFETY: the only test in this binary, run before any other thread of ours exists; nothing reads the
    // environment concurrently.
    unsafe {
        // What Lambda provides: region and credentials as variables. No config files, no instance metadata.
        std::env::set_var("AWS_REGION", "eu-west-1");
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret");
        std::env::set_var("AWS_SESSION_TOKEN", "token");
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/aws-config");
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials");
        std::env::set_var("TASKS_TABLE", "TasksTable");
        std::env::set_var("LOG_LEVEL", "warn");
        std::env::remove_var("USERS_TABLE");
    }
    let started = Instant::now();
    aws_adapters::lambda::init_tracing();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let config = runtime.block_on(aws_adapters::lambda::sdk_config());
    let tasks = aws_adapters::lambda::tasks_from_env(&config).expect("TASKS_TABLE is set");
    let elapsed = started.elapsed();
    eprintln!("start-up took {elapsed:?}");

    assert_eq!(tasks.table(), "TasksTable");
    assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
    let err = aws_adapters::lambda::profiles_from_env(&config).unwrap_err();
    assert!(err.to_string().contains("`USERS_TABLE` is not set"), "{err}");
    // The budget in release is ~12 ms to the first poll of the runtime API; this is an unoptimised build on a
    // shared machine, so the bound only catches a network round trip (an IMDS or STS call takes far longer).
    assert!(elapsed < Duration::from_millis(300), "start-up took {elapsed:?}");
}
