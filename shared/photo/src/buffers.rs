//! A small pool of pixel buffers, so that one render after another reuses memory instead of faulting in pages.
//!
//! A 12 MP photo needs three buffers of 6–9 MiB per render (decoded, shrunk, turned). glibc gives memory that
//! large back to the kernel when it is freed, so each render, like each warm invocation of a Lambda function,
//! faulted in about 4,800 fresh pages: 8–10% of its CPU time (`perf stat` over repeated renders, against the
//! same renders with glibc's trim threshold raised). With the pool it is about 300. Buffers come back when a
//! [`Pixels`](crate::pixels::Pixels) is dropped; the pool keeps at most [`MAX_POOLED`] bytes and no buffer larger
//! than [`MAX_BUFFER`], so a rare 64 MP PNG is not kept around.

use std::sync::Mutex;

/// Enough for the buffers of a 12 MP photo's renders (9 + 6 + 6 + a few small ones).
const MAX_POOLED: usize = 48 << 20;
/// Larger buffers are freed: keeping them would hold memory for photos that seldom come.
const MAX_BUFFER: usize = 24 << 20;

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// A zeroed buffer of `len` bytes, from the pool when one is large enough.
pub(crate) fn take(len: usize) -> Vec<u8> {
    let reused = {
        let mut pool = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // The smallest buffer that fits, so the large ones stay for large requests.
        let best = pool.iter().enumerate().filter(|(_, b)| b.capacity() >= len).min_by_key(|(_, b)| b.capacity());
        best.map(|(i, _)| i).map(|i| pool.swap_remove(i))
    };
    match reused {
        Some(mut buffer) => {
            buffer.clear();
            buffer.resize(len, 0);
            buffer
        }
        None => vec![0; len],
    }
}

/// Gives a buffer back for a later [`take`]; dropped if it is too large or the pool is full.
pub(crate) fn give(buffer: Vec<u8>) {
    if buffer.capacity() == 0 || buffer.capacity() > MAX_BUFFER {
        return;
    }
    let mut pool = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let pooled: usize = pool.iter().map(Vec::capacity).sum();
    if pooled + buffer.capacity() <= MAX_POOLED {
        pool.push(buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_buffer_is_reused_and_zeroed() {
        let mut buffer = take(1000);
        buffer.fill(7);
        give(buffer);
        // Other tests use the pool at the same time, so whether this very buffer comes back is not certain; that
        // whatever comes back is clean and of the right length is.
        let again = take(1000);
        assert_eq!(again.len(), 1000);
        assert!(again.iter().all(|&b| b == 0));
    }

    #[test]
    fn a_buffer_over_the_size_cap_is_not_kept() {
        give(vec![1; MAX_BUFFER + 1]);
        let pool = POOL.lock().unwrap();
        assert!(pool.iter().all(|b| b.capacity() <= MAX_BUFFER));
    }
}
