//! update-task (being built).
