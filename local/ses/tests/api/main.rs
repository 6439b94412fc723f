//! SES v2 driven by real clients (`aws-sdk-sesv2`, plain HTTP for malformed requests, the AWS CLI when present)
//! against the service served alone on a fresh port, each test with its own data directory.

mod cli;
mod helpers;
mod identities;
mod outbox;
mod send;
mod wire;
