//! local (being built).
