//! How often a large payload moves in memory on its way in: counted by an allocator that
//! forwards to the system's and counts, per thread, the allocations and reallocations of
//! at least [`LARGE`] bytes.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code fails loudly on purpose"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use ws_frame::{Config, Connection, Message, Outgoing};

/// The payload's length; an allocation this large is the message's own buffer.
const LARGE: usize = 100_000;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    static REALLOCS: Cell<usize> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees are this allocator's; the counting touches only const-initialised
// thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= LARGE {
            let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        }
        // SAFETY: the caller's contract for `alloc` is `System::alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= LARGE {
            let _ = REALLOCS.try_with(|n| n.set(n.get() + 1));
        }
        // SAFETY: `ptr` came from `System` with `layout`; the caller's contract for
        // `realloc` is `System::realloc`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn counts() -> (usize, usize) {
    (ALLOCS.with(Cell::get), REALLOCS.with(Cell::get))
}

/// A large binary frame whose first bytes arrive with its header goes into one buffer of
/// its full size: the bytes that came with the header are not moved again when the
/// buffer is handed out for direct reads.
#[test]
fn a_large_payload_gets_one_buffer_of_its_size() {
    let payload: Vec<u8> = (0..LARGE).flat_map(|i| u8::try_from(i % 251)).collect();
    let mut server = Connection::server(Config::new());
    server.send(Outgoing::Binary(&payload)).unwrap();
    let wire = server.poll_transmit().to_vec();
    let mut client = Connection::client(Config::new(), Box::new(|| [1, 2, 3, 4]));

    let before = counts();
    // Header and 16 KiB of payload in one read, as a socket read gives them.
    let first = 16 * 1024;
    client.receive(&wire[..first]);
    assert_eq!(client.poll_message(), Ok(None));
    let mut fed = first;
    while fed < wire.len() {
        let (buf, max) = client.direct_buffer().expect("the rest is read directly");
        let n = max.min(30_000);
        buf.extend_from_slice(&wire[fed..fed + n]);
        fed += n;
        client.commit_direct().unwrap();
    }
    let after = counts();
    assert_eq!(client.poll_message(), Ok(Some(Message::Binary(payload))));
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (1, 0),
        "one allocation of the payload's size, no reallocation"
    );
}
