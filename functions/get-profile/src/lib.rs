//! get-profile (being built).
