//! states (being built).
