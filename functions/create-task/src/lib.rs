//! create-task (being built).
