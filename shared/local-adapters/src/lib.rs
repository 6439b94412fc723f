//! local-adapters (being built).
