//! The task API end to end: real HTTP against the local stack started in-process on port 0, each test with its own
//! data directory. The `defects` module pins down, one test each, the seven defects of the Python design.

mod defects;
mod gateway;
mod profile;
mod tasks;
