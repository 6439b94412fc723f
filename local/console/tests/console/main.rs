//! The console's pages, served on 127.0.0.1 over an in-memory source, checked as a browser would see them: status,
//! headers and the HTML's stable ids. (The real stack in a real browser is `tests/`' job.)

mod execution;
mod executions;
mod mail;
mod pages;
mod security;
mod support;
