//! delete-task (being built).
