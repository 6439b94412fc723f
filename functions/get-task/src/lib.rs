//! get-task (being built).
