//! libjpeg's errors as Rust errors, for the JPEG decoder and encoder (mozjpeg's libjpeg-turbo, through the
//! `mozjpeg` crate).
//!
//! libjpeg reports a fatal error by calling the error manager's `error_exit`, which must not return; the `mozjpeg`
//! crate's answer is to unwind a Rust panic through the C code (built with `-fexceptions`, every callback
//! `extern "C-unwind"`). [`run`] catches that unwind and returns the message. The error manager made here differs
//! from the crate's default in three ways:
//!
//! - with [`Warnings::Fatal`] a warning is an error too, like TurboJPEG's stop-on-warning flag. libjpeg warns,
//!   and carries on with grey, where data is missing or corrupt; the crate's default manager silences warnings,
//!   so a truncated upload would be accepted half grey.
//! - the unwind carries a [`LibjpegError`], so [`run`] can tell it from a Rust panic.
//! - it unwinds with `resume_unwind`, which skips the panic hook: a corrupt upload writes nothing to stderr.
//!
//! The release profile does not set `panic = "abort"`; with it every libjpeg error would end the process.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use mozjpeg_sys::{jpeg_common_struct, jpeg_error_mgr, jpeg_std_error};

/// libjpeg's message for what stopped it ("Corrupt JPEG data: premature end of data segment").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LibjpegError(pub String);

impl fmt::Display for LibjpegError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LibjpegError {}

/// What a libjpeg warning does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Warnings {
    /// Stops the work with the warning as the error: for decoding uploads.
    Fatal,
    /// Nothing: the encoder's input is our own pixels.
    Ignored,
}

/// An error manager for `Decompress::with_err` or `Compress::new_err`: libjpeg's standard one (its message table
/// and formatting) with our `error_exit` and `emit_message`.
pub(crate) fn error_manager(warnings: Warnings) -> jpeg_error_mgr {
    // SAFETY: jpeg_error_mgr is plain data (integers, nullable pointers, `Option`s of function pointers), for which
    // all zeroes is valid; jpeg_std_error fills in every field.
    let mut manager: jpeg_error_mgr = unsafe { std::mem::zeroed() };
    unsafe { jpeg_std_error(&mut manager) };
    manager.error_exit = Some(error_exit);
    manager.emit_message = Some(match warnings {
        Warnings::Fatal => warnings_are_fatal,
        Warnings::Ignored => ignore_message,
    });
    manager
}

/// Runs `work`, which calls into libjpeg, turning libjpeg's unwinding errors into `Err`. The outer `Err` is a
/// libjpeg error, or a panic in `work` (a bug, reported with its message rather than taking the process down);
/// the inner `Result` is `work`'s own.
pub(crate) fn run<T, E>(work: impl FnOnce() -> Result<T, E>) -> Result<Result<T, E>, LibjpegError> {
    // Unwind safety: whatever `work` borrows mutably (an output buffer) is dropped or discarded on error.
    catch_unwind(AssertUnwindSafe(work)).map_err(|payload| match payload.downcast::<LibjpegError>() {
        Ok(error) => *error,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            LibjpegError(format!("panic in the JPEG codec: {message}"))
        }
    })
}

extern "C-unwind" fn error_exit(cinfo: &mut jpeg_common_struct) {
    resume_unwind(Box::new(LibjpegError(message(cinfo))));
}

extern "C-unwind" fn warnings_are_fatal(cinfo: &mut jpeg_common_struct, level: std::os::raw::c_int) {
    // Level -1 is a warning; 0 and up are trace messages, which only print at a raised trace level.
    if level < 0 {
        error_exit(cinfo);
    }
}

extern "C-unwind" fn ignore_message(_cinfo: &mut jpeg_common_struct, _level: std::os::raw::c_int) {}

/// The text of the message libjpeg has just raised, from its message table.
fn message(cinfo: &mut jpeg_common_struct) -> String {
    // SAFETY: libjpeg calls the error manager with `cinfo.err` pointing at it, and the standard format_message
    // writes at most JMSG_LENGTH_MAX (80) bytes, NUL included. mozjpeg-sys declares its buffer `&[u8; 80]`
    // though it is written to, so the function is called through a pointer type that says so.
    unsafe {
        let Some(manager) = cinfo.err.as_ref() else { return "libjpeg error".into() };
        let code = manager.msg_code;
        let Some(format) = manager.format_message else { return format!("libjpeg error {code}") };
        type Writes = unsafe extern "C-unwind" fn(&mut jpeg_common_struct, *mut [u8; 80]);
        let format: Writes = std::mem::transmute(format);
        let mut buffer = [0u8; 80];
        format(cinfo, &mut buffer);
        let text = buffer.split(|&b| b == 0).next().unwrap_or_default();
        String::from_utf8_lossy(text).into_owned()
    }
}
