//! Decodes arbitrary bytes: must never panic, and must never allocate more than a small multiple
//! of the input (checked with a counting allocator).
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use libfuzzer_sys::fuzz_target;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator, only counting sizes on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let now = if new_size >= layout.size() {
            CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed) + (new_size - layout.size())
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed) - (layout.size() - new_size)
        };
        // A realloc may briefly hold both blocks.
        PEAK.fetch_max(now + layout.size().min(new_size), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The decoder's own bound: the index holds at most one 44-byte entry per node (at least 3
/// input bytes) and one 36-byte entry per attribute (at least 2 input bytes), so at most 18
/// bytes per input byte; a growing vector holds up to twice what it uses, and while it is
/// reallocated the old and new blocks are both live: 3 x 18 = 54, rounded up.
const MAX_BYTES_PER_INPUT_BYTE: usize = 64;
const SLACK: usize = 8 * 1024;

fuzz_target!(|data: &[u8]| {
    // The legacy dictionary is built once, on first use: keep that out of the measurement.
    let _ = waweb_binary::Dictionary::legacy();
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let result = waweb_binary::Tree::decode(data);
    let used = PEAK.load(Ordering::Relaxed) - base;
    assert!(
        used <= MAX_BYTES_PER_INPUT_BYTE * data.len() + SLACK,
        "decoding {} bytes allocated {used} bytes",
        data.len()
    );
    if let Ok(tree) = result {
        // Walking the tree must not panic either.
        let _ = serde_json_free_walk(tree.root());
    }
});

fn serde_json_free_walk(n: waweb_binary::NodeRef<'_, '_>) -> usize {
    let mut total = n.tag().len();
    for (k, v) in n.attrs() {
        total += k.len() + v.to_string().len();
    }
    match n.content() {
        waweb_binary::ContentRef::List(c) => total += c.map(serde_json_free_walk).sum::<usize>(),
        waweb_binary::ContentRef::Bytes(b) => total += b.len(),
        waweb_binary::ContentRef::Text(v) => total += v.to_string().len(),
        waweb_binary::ContentRef::None => {}
    }
    total
}
