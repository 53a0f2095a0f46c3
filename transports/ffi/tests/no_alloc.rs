//! No entry point allocates: a whole call (connect, write, read, an entry,
//! done, the error functions) driven through the C functions, under a
//! global allocator that counts, allocates nothing. (One test in this
//! binary, so that no other test's allocations are counted.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use lastline_ffi::*;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: as the caller promised.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as the caller promised.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 56\r\n\r\n{\"success\":1,\"data\":{\"analysis_tags\":[{\"t\":1}],\"k\":\"v\"}}";

#[test]
fn a_call_through_the_c_functions_allocates_nothing() {
    let mut ex = Box::new(std::mem::MaybeUninit::<ll_exchange>::uninit());
    let ex = ex.as_mut_ptr();
    // SAFETY: a plain C struct of integers and pointers: all zeros is a
    // valid value.
    let mut step = Box::new(unsafe { std::mem::zeroed::<ll_step>() });
    let mut text = vec![0 as std::ffi::c_char; 512];
    let mut err = Box::new(ll_error::default());
    let cfg = ll_config {
        host: c"analysis.example".as_ptr(),
        port: 443,
        tls: 1,
        key: c"k".as_ptr(),
        token: c"t".as_ptr(),
        auth: LL_AUTH_BASIC,
        base_path: std::ptr::null(),
        user_agent: std::ptr::null(),
        seed: 1,
        max_attempts: 0,
    };
    let params = [ll_param {
        name: c"uuid".as_ptr(),
        value: c"05243bb7443e4bba80a5890969102082".as_ptr(),
    }];
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let (mut fed, mut entries) = (0usize, 0usize);
    // SAFETY: the storage and pointers above outlive the calls.
    unsafe {
        assert_eq!(ll_exchange_init(ex, size_of::<ll_exchange>(), &cfg), LL_OK);
        assert_eq!(
            ll_exchange_call(
                ex,
                LL_METHOD_GET_ANALYSIS_TAGS,
                params.as_ptr(),
                1,
                LL_FORMAT_JSON
            ),
            LL_OK
        );
        loop {
            assert_eq!(ll_exchange_next(ex, 0, &mut *step), LL_OK);
            match step.kind {
                LL_STEP_WRITE => assert_eq!(ll_exchange_wrote(ex, step.data_len), LL_OK),
                LL_STEP_READ => {
                    let rest = &ANSWER[fed..];
                    let n = rest.len().min(step.space_len).min(17);
                    std::ptr::copy_nonoverlapping(rest.as_ptr(), step.space, n);
                    fed += n;
                    assert_eq!(ll_exchange_read(ex, n), LL_OK);
                }
                LL_STEP_ENTRY => entries += 1,
                LL_STEP_DONE => break,
                _ => {}
            }
        }
        assert_eq!(step.result, LL_OK);
        assert_eq!(ll_exchange_error(ex, &mut *err), LL_ERR_STATE);
        assert_eq!(
            ll_exchange_error_text(ex, text.as_mut_ptr(), text.len(), std::ptr::null_mut()),
            LL_ERR_STATE
        );
        assert_eq!(ll_exchange_drop(ex), LL_OK);
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(step.result, LL_OK);
    assert_eq!(entries, 1);
    assert_eq!(after - before, 0, "entry points allocated");
}
