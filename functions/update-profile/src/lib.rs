//! update-profile (being built).
