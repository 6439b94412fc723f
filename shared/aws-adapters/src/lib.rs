//! aws-adapters (being built).
