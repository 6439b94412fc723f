//! system-tests (being built).
