//! list-tasks (being built).
