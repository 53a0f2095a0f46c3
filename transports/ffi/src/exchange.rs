//! The exchange handle: one connection's worth of state (settings,
//! session, buffers) and the operation running on it, driven by the
//! caller's loop through `ll_exchange_next`.
//!
//! The handle owns everything the core's exchange machine borrows — the
//! settings and their strings, the session link, the buffer, the request
//! and its text — at fixed places inside itself, so the machine can be
//! kept between calls. That is why a handle must not be moved or copied
//! after `ll_exchange_init` (each entry point checks), and why every field
//! is reached through the raw pointer, never through a `&mut` to the whole
//! handle: the machine's references into its siblings stay the only ones.

use core::ffi::c_char;
use core::ptr::{addr_of, addr_of_mut};

use lastline_core::decoders::{
    CompletedDecoder, NoData, RawData, RawEntry, RawJson, SubmitDecoder,
};
use lastline_core::exchange::{Event, Exchange, Failure, Link, Settings, Step, LOCATION_CAPACITY};
use lastline_core::request::{ByName, GetCompleted, SubmitFile, TEXT_PARAM_CAPACITY};
use lastline_core::types::{Format, Timestamp};
use lastline_core::workflow::{HashFirst, NextPoll};
use lastline_core::{Error, Transport};

use crate::arena::Arena;
use crate::config::{self, ll_config, CONFIG_TEXT};
use crate::cursor::{ll_cursor, Cursor, CursorSlot};
use crate::handle::{self, Header, Slot};
use crate::hasher::ll_digests;
use crate::methods::{ll_param, LL_METHOD_SUBMIT_FILE};
use crate::result::*;
use crate::step::*;

/// Bytes of an `ll_exchange` (every target; a const assertion holds the
/// handle to it).
pub const LL_EXCHANGE_SIZE: usize = 20480;
/// The send and receive buffer: an answer's HTTP head must fit in it.
pub const LL_BUFFER_SIZE: usize = 2048;
/// The most bytes of a call's `data` (without its streamed lists) handed
/// over at `DONE`; more is `LL_ERR_CAPACITY`.
pub const LL_ANSWER_MAX: usize = 2048;
/// The most bytes of one list entry; more is `LL_ERR_CAPACITY`.
pub const LL_ENTRY_MAX: usize = 1024;
/// Bytes kept for a call's parameter values.
pub const LL_PARAMS_TEXT: usize = 1024;

/// The decoder's unit: a member of `data` or a list entry must fit.
const UNIT: usize = 1024;

/// An exchange handle: storage the caller declares, initialised by
/// `ll_exchange_init`, never moved or copied afterwards.
#[repr(C)]
pub union ll_exchange {
    _opaque: [u8; LL_EXCHANGE_SIZE],
    _align: u64,
}

type CallEx = Exchange<'static, ByName<'static>, RawData<LL_ANSWER_MAX, LL_ENTRY_MAX>, UNIT>;
type DownloadEx = Exchange<'static, ByName<'static>, NoData, 0>;
type SubmitEx = Exchange<'static, ByName<'static>, SubmitDecoder, UNIT>;
type PageEx = Exchange<'static, GetCompleted, CompletedDecoder, UNIT>;

/// The operation running. Variants differ in size (a call keeps its
/// answer's capacity); the slot holds one, in place, never boxed.
#[allow(clippy::large_enum_variant)]
enum Running {
    Idle,
    Call(CallEx),
    Download(DownloadEx),
    Submit(SubmitEx),
    Page(PageEx),
}

/// Calls `$body` with the running exchange, whatever its type.
macro_rules! with_exchange {
    ($running:expr, $ex:ident => $body:expr, idle => $idle:expr) => {
        match $running {
            Running::Call($ex) => $body,
            Running::Download($ex) => $body,
            Running::Submit($ex) => $body,
            Running::Page($ex) => $body,
            Running::Idle => $idle,
        }
    };
}

/// What the caller owes before the machine moves on. Calling
/// `ll_exchange_next` again without reporting repeats the step.
#[derive(Clone, Copy)]
enum Owed {
    Nothing,
    /// Connected, unless `ll_exchange_failed` says otherwise.
    Connect,
    Write {
        at: *const u8,
        left: usize,
    },
    Sample {
        sent: u64,
        total: u64,
        scratch: *mut u8,
        scratch_len: usize,
    },
    Read {
        space: *mut u8,
        len: usize,
    },
    /// Restarted, unless `ll_exchange_cannot_restart` says otherwise.
    Restart,
}

#[repr(C)]
pub(crate) struct ExchangeSlot {
    header: Header,
    rng: u32,
    owed: Owed,
    running: Running,
    settings: Settings<'static>,
    link: Link,
    config_text: Arena<CONFIG_TEXT>,
    param_text: Arena<LL_PARAMS_TEXT>,
    by_name: Option<ByName<'static>>,
    /// The caller's `submit_file` parameters, for each stage of hash-first.
    template: Option<ByName<'static>>,
    flow: Option<HashFirst<'static>>,
    page: Option<GetCompleted>,
    cursor: *mut CursorSlot,
    now: Option<Timestamp>,
    answer: RawJson<LL_ANSWER_MAX>,
    entry: Option<RawEntry<LL_ENTRY_MAX>>,
    failure: Option<Failure>,
    /// The host of the last `CONNECT`, NUL-terminated.
    host: [u8; LOCATION_CAPACITY + 1],
    buf: [u8; LL_BUFFER_SIZE],
}

impl Slot for ExchangeSlot {
    const LIVE: u64 = 0x4c4c_4558_4348_4c56;
    const POISONED: u64 = 0x4c4c_4558_4348_5053;
}

const _: () = assert!(core::mem::size_of::<ExchangeSlot>() <= LL_EXCHANGE_SIZE);
const _: () =
    assert!(core::mem::align_of::<ExchangeSlot>() <= core::mem::align_of::<ll_exchange>());

/// A field of the slot at `$s`, as a reference of any lifetime.
macro_rules! field {
    ($s:expr, $name:ident) => {
        // SAFETY: `$s` is a live slot (checked at the entry point, which
        // holds the only access to it for the call); each field is
        // reached on its own, never through a reference to the whole slot.
        unsafe { &mut *addr_of_mut!((*$s).$name) }
    };
}

/// Initialises the exchange at `ex` (`size`: its `sizeof`) for the server
/// `cfg` names. The strings of `cfg` are copied.
///
/// # Safety
/// `ex` is NULL or points to `size` writable bytes; `cfg` is NULL or an
/// `ll_config` whose non-NULL strings are NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ll_exchange_init(
    ex: *mut ll_exchange,
    size: usize,
    cfg: *const ll_config,
) -> i32 {
    let s = ex.cast::<ExchangeSlot>();
    let ok = handle::check_storage(s, size, LL_EXCHANGE_SIZE);
    if ok != LL_OK {
        return ok;
    }
    if cfg.is_null() {
        return LL_ERR_NULL;
    }
    // SAFETY: `cfg` is non-null and, as the caller promised, a config.
    let cfg = unsafe { &*cfg };
    // SAFETY: checked storage; every field is written in place before the
    // slot is marked live (the handle is too large to build on a
    // firmware's stack and move).
    unsafe {
        Arena::init(addr_of_mut!((*s).config_text));
        Arena::init(addr_of_mut!((*s).param_text));
        let settings = match config::settings(cfg, &*addr_of!((*s).config_text)) {
            Ok(settings) => settings,
            Err(code) => return code,
        };
        addr_of_mut!((*s).settings).write(settings);
        addr_of_mut!((*s).rng).write(if cfg.seed == 0 { 0x9e37_79b9 } else { cfg.seed });
        addr_of_mut!((*s).owed).write(Owed::Nothing);
        addr_of_mut!((*s).running).write(Running::Idle);
        addr_of_mut!((*s).link).write(Link::new());
        addr_of_mut!((*s).by_name).write(None);
        addr_of_mut!((*s).template).write(None);
        addr_of_mut!((*s).flow).write(None);
        addr_of_mut!((*s).page).write(None);
        addr_of_mut!((*s).cursor).write(core::ptr::null_mut());
        addr_of_mut!((*s).now).write(None);
        addr_of_mut!((*s).answer).write(RawJson::new());
        addr_of_mut!((*s).entry).write(None);
        addr_of_mut!((*s).failure).write(None);
        addr_of_mut!((*s).host).write_bytes(0, 1);
        addr_of_mut!((*s).buf).write_bytes(0, 1);
        handle::mark_live(s);
    }
    LL_OK
}

/// Drops the exchange (idempotent). Close the caller's connection too.
///
/// # Safety
/// `ex` is NULL or an `ll_exchange`.
#[no_mangle]
pub unsafe extern "C" fn ll_exchange_drop(ex: *mut ll_exchange) -> i32 {
    handle::drop_handle(ex.cast::<ExchangeSlot>())
}

/// Ends the running operation, if any (its connection's state is then
/// unknown: close it). The session is kept.
///
/// # Safety
/// `ex` is NULL or an `ll_exchange`.
#[no_mangle]
pub unsafe extern "C" fn ll_exchange_cancel(ex: *mut ll_exchange) -> i32 {
    handle::enter(ex.cast::<ExchangeSlot>(), |s| {
        *field!(s, running) = Running::Idle;
        *field!(s, owed) = Owed::Nothing;
        field!(s, link).disconnected();
        LL_OK
    })
}

/// Makes the slot ready for a new operation: refused while one runs.
fn begin(s: *mut ExchangeSlot) -> Result<(), i32> {
    if !matches!(field!(s, running), Running::Idle) {
        return Err(LL_ERR_STATE);
    }
    // Nothing borrows the request's storage while idle.
    *field!(s, owed) = Owed::Nothing;
    *field!(s, by_name) = None;
    *field!(s, template) = None;
    *field!(s, flow) = None;
    *field!(s, page) = None;
    *field!(s, cursor) = core::ptr::null_mut();
    *field!(s, entry) = None;
    *field!(s, failure) = None;
    field!(s, answer).clear();
    field!(s, param_text).clear();
    Ok(())
}

/// What every exchange borrows from the slot: the settings, the session
/// link and the buffer (taken anew for each operation, once the previous
/// one no longer holds them).
fn borrowed<'a>(s: *mut ExchangeSlot) -> (&'a Settings<'static>, &'a mut Link, &'a mut [u8]) {
    (
        &*field!(s, settings),
        field!(s, link),
        &mut field!(s, buf)[..],
    )
}

/// Records a failure found before anything was sent.
fn refuse(s: *mut ExchangeSlot, error: Error) -> i32 {
    let code = code_of(&error);
    *field!(s, failure) = Some(Failure {
        error,
        attempts: 0,
        status: None,
        message: None,
    });
    code
}

/// Starts a call of method `method` (`LL_METHOD_*`) with `n_params`
/// parameters, answered in `format` (`LL_FORMAT_*`). Every parameter is
/// checked against the method table first: an unknown method or
/// parameter, a parameter given twice or a value with control characters
/// is refused (`LL_ERR_INVALID_PARAM`, explained by `ll_exchange_error`)
/// and nothing is sent. A method that answers with a file, or a format
/// other than JSON, is a download (`LL_STEP_DATA`).
///
/// A JSON answer's lists come entry by entry (`LL_STEP_ENTRY`, each at
/// most `LL_ENTRY_MAX` bytes) and the rest of its `data` at `DONE` (at
/// most `LL_ANSWER_MAX`); a member or entry larger than that ends the call
/// in `LL_ERR_CAPACITY`, never cut. For an answer that large (a full
/// report in `get_results`), ask for it as XML, PDF or RTF: downloads
/// stream whatever their size. The JSON is the server's bytes: its
/// strings may hold DEL and C1 characters unescaped, so escape it before
/// it reaches a terminal.
///
/// # Safety
/// `ex` is NULL or an `ll_exchange`; `params` is NULL (with `n_params`
/// 0) or `n_params` `ll_param`s whose strings are NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ll_exchange_call(
    ex: *mut ll_exchange,
    method: u32,
    params: *const ll_param,
    n_params: usize,
    format: u32,
) -> i32 {
    handle::enter(ex.cast::<ExchangeSlot>(), |s| {
        if let Err(code) = begin(s) {
            return code;
        }
        let mut req = match named(s, method, params, n_params) {
            Ok(req) => req,
            Err(code) => return code,
        };
        let format = match format {
            LL_FORMAT_JSON => None,
            LL_FORMAT_XML => Some(Format::Xml),
            LL_FORMAT_PDF => Some(Format::Pdf),
            LL_FORMAT_RTF => Some(Format::Rtf),
            _ => {
                return refuse(
                    s,
                    Error::InvalidParam {
                        param: "format",
                        reason: "not an LL_FORMAT_* value",
                    },
                )
            }
        };
        if let Some(f) = format {
            if let Err(e) = req.set_format(f) {
                return refuse(s, e);
            }
        }
        let raw = req.answers_raw();
        let req: &'static ByName<'static> = field!(s, by_name).insert(req);
        let (settings, link, buf) = borrowed(s);
        *field!(s, running) = if raw {
            Running::Download(Exchange::download_by_name(req, settings, link, buf))
        } else {
            Running::Call(Exchange::call_by_name(req, settings, link, buf))
        };
        LL_OK
    })
}

/// The request of `method` with the caller's parameters, each checked
/// against the method table and its value kept in the handle: the one
/// place C parameters become a request. A refusal is recorded for
/// `ll_exchange_error` and its code returned.
fn named(
    s: *mut ExchangeSlot,
    method: u32,
    params: *const ll_param,
    n_params: usize,
) -> Result<ByName<'static>, i32> {
    if params.is_null() && n_params > 0 {
        return Err(LL_ERR_NULL);
    }
    let Some(mut req) = usize::try_from(method).ok().and_then(ByName::new) else {
        return Err(refuse(
            s,
            Error::InvalidParam {
                param: "method",
                reason: "not a method of the table",
            },
        ));
    };
    let list = if n_params == 0 {
        &[][..]
    } else {
        // SAFETY: the caller promised `n_params` parameters.
        unsafe { core::slice::from_raw_parts(params, n_params) }
    };
    for p in list {
        // SAFETY: the caller promised NUL-terminated strings.
        let (name, value) = unsafe {
            (
                handle::c_text(p.name, 64),
                handle::c_text(p.value, TEXT_PARAM_CAPACITY),
            )
        };
        let (Ok(Some(name)), Ok(Some(value))) = (name, value) else {
            return Err(refuse(
                s,
                Error::InvalidParam {
                    param: "params",
                    reason: "a name or value is NULL, not UTF-8, or too long",
                },
            ));
        };
        if let Err(e) = keep_param(s, &mut req, name, value) {
            return Err(refuse(s, e));
        }
    }
    Ok(req)
}

/// Adds `name` = `value` to `req`, the value kept in the handle.
fn keep_param(
    s: *mut ExchangeSlot,
    req: &mut ByName<'static>,
    name: &str,
    value: &str,
) -> Result<(), Error> {
    let value = field!(s, param_text)
        .keep(value)
        .ok_or(Error::InvalidParam {
            param: "params",
            reason: "the values exceed LL_PARAMS_TEXT bytes",
        })?;
    req.param(name, value)
}

/// Starts a hash-first submission of a sample with `digests` (from an
/// `ll_hasher`; none set: the sample is uploaded at once) and the
/// `submit_file` parameters in `params` (`filename`, `analysis_env`,
/// `push_to_portal_account`...; the digests and the upload are the flow's
/// own): by hash first, and only if the server does not have the file
/// (101), its content, asked for as `LL_STEP_SEND_SAMPLE`. `DONE` carries
/// the task's UUID. Unless given, `full_report_score` is -1.
///
/// # Safety
/// `ex` is NULL or an `ll_exchange`; `digests` is NULL or an
/// `ll_digests`; `params` is NULL (with `n_params` 0) or `n_params`
/// `ll_param`s whose strings are NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ll_exchange_submit(
    ex: *mut ll_exchange,
    digests: *const ll_digests,
    params: *const ll_param,
    n_params: usize,
) -> i32 {
    handle::enter(ex.cast::<ExchangeSlot>(), |s| {
        if digests.is_null() {
            return LL_ERR_NULL;
        }
        // SAFETY: non-null, as the caller promised an `ll_digests`.
        let digests = unsafe { digests.read() }.to_core();
        if let Err(code) = begin(s) {
            return code;
        }
        let template = match named(s, LL_METHOD_SUBMIT_FILE, params, n_params) {
            Ok(req) => req,
            Err(code) => return code,
        };
        *field!(s, template) = Some(template);
        *field!(s, flow) = Some(HashFirst::new(digests, SubmitFile::default()));
        start_submission(s)
    })
}

/// Starts the request the hash-first flow asks for now: the caller's
/// parameters, and what the flow's own request sets (the digests, or the
/// upload; `full_report_score` unless the caller gave one).
fn start_submission(s: *mut ExchangeSlot) -> i32 {
    let (Some(flow), Some(mut req)) = (field!(s, flow).as_ref(), field!(s, template).clone())
    else {
        return LL_ERR_STATE;
    };
    let Some(typed) = flow.request() else {
        return LL_ERR_STATE;
    };
    let mut hex = [0u8; 64];
    let mut added = Ok(());
    if let Some(d) = typed.md5 {
        added = added.and_then(|()| keep_param(s, &mut req, "md5", d.encode(&mut hex)));
    }
    if let Some(d) = typed.sha1 {
        added = added.and_then(|()| keep_param(s, &mut req, "sha1", d.encode(&mut hex)));
    }
    if let Some(d) = typed.sha256 {
        added = added.and_then(|()| keep_param(s, &mut req, "sha256", d.encode(&mut hex)));
    }
    if let Some(score) = typed.full_report_score {
        if !req
            .params()
            .iter()
            .any(|p| p.info.name == "full_report_score")
        {
            let mut text: heapless::String<12> = heapless::String::new();
            let _ = core::fmt::Write::write_fmt(&mut text, format_args!("{score}"));
            added = added.and_then(|()| keep_param(s, &mut req, "full_report_score", &text));
        }
    }
    if let Some(len) = typed.upload {
        added = added.and_then(|()| req.set_upload(len));
    }
    if let Err(e) = added {
        return refuse(s, e);
    }
    let req: &'static ByName<'static> = field!(s, by_name).insert(req);
    let (settings, link, buf) = borrowed(s);
    *field!(s, running) = Running::Submit(Exchange::call_by_name(req, settings, link, buf));
    LL_OK
}

/// Starts reading one page of completions after `cursor`: each task
/// completed since, once, as `LL_STEP_ENTRY`; at `DONE` the cursor has
/// moved on (save it) and `more` says whether to ask again at once.
/// `now_unix` is the caller's clock (seconds since 1970, UTC), or 0 when
/// it has none: a page that would move the cursor more than a day past it
/// is refused. The cursor must not be used elsewhere until `DONE`.
///
/// # Safety
/// `ex` is NULL or an `ll_exchange`; `cursor` is NULL or an `ll_cursor`
/// that stays where it is until `DONE`.
#[no_mangle]
pub unsafe extern "C" fn ll_exchange_completed(
    ex: *mut ll_exchange,
    cursor: *mut ll_cursor,
    now_unix: i64,
) -> i32 {
    handle::enter(ex.cast::<ExchangeSlot>(), |s| {
        let c = match handle::live(cursor.cast::<CursorSlot>()) {
            Ok(c) => c,
            Err(code) => return code,
        };
        if let Err(code) = begin(s) {
            return code;
        }
        *field!(s, cursor) = c;
        *field!(s, now) = match now_unix {
            0 => None,
            t => match Timestamp::from_unix(t) {
                Ok(t) => Some(t),
                Err(_) => return LL_ERR_INVALID_PARAM,
            },
        };
        // SAFETY: a live cursor (checked above).
        let req = unsafe { (*addr_of!((*c).cursor)).request() };
        let req: &'static GetCompleted = field!(s, page).insert(req);
        let (settings, link, buf) = borrowed(s);
        *field!(s, running) = Running::Page(Exchange::call(req, settings, link, buf));
        LL_OK
    })
}

/// Answers the next step of the running operation in `*step`. `now_ms` is
/// any monotonic clock in milliseconds (the one `LL_STEP_SLEEP` refers
/// to). Calling it again without the report a step asks for repeats the
/// step.
///
/// # Safety
/// `ex` is NULL or an `ll_exchange`; `step` is NULL or an `ll_step`.
#[no_mangle]
pub unsafe extern "C" fn ll_exchange_next(
    ex: *mut ll_exchange,
    now_ms: u64,
    step: *mut ll_step,
) -> i32 {
    handle::enter(ex.cast::<ExchangeSlot>(), |s| {
        if step.is_null() {
            return LL_ERR_NULL;
        }
        match next(s, now_ms) {
            Ok(answer) => {
                // SAFETY: non-null, as the caller promised an `ll_step`.
                unsafe { step.write(answer) };
                LL_OK
            }
            Err(code) => code,
        }
    })
}

fn next(s: *mut ExchangeSlot, now_ms: u64) -> Result<ll_step, i32> {
    match *field!(s, owed) {
        Owed::Write { at, left } => {
            let mut st = ll_step::of(LL_STEP_WRITE);
            st.data = at;
            st.data_len = left;
            return Ok(st);
        }
        Owed::Sample {
            sent,
            total,
            scratch,
            scratch_len,
        } => return Ok(sample_step(sent, total, scratch, scratch_len)),
        Owed::Read { space, len } => {
            let mut st = ll_step::of(LL_STEP_READ);
            st.space = space;
            st.space_len = len;
            return Ok(st);
        }
        Owed::Connect | Owed::Restart | Owed::Nothing => *field!(s, owed) = Owed::Nothing,
    }
    loop {
        let random = {
            // xorshift32: jitter and boundaries need variety, not secrecy.
            let r = field!(s, rng);
            *r ^= *r << 13;
            *r ^= *r >> 17;
            *r ^= *r << 5;
            *r
        };
        let polled = match field!(s, running) {
            Running::Idle => return Err(LL_ERR_STATE),
            Running::Call(ex) => match ex.poll(now_ms, random) {
                Step::Item(entry) => {
                    let e = field!(s, entry).insert(entry);
                    let mut st = ll_step::of(LL_STEP_ENTRY);
                    st.data = e.json.as_ptr();
                    st.data_len = e.json.len();
                    st.name = e.member.as_ptr();
                    st.name_len = e.member.len();
                    if let Some(k) = &e.key {
                        st.key = k.as_ptr();
                        st.key_len = k.len();
                    }
                    Polled::Step(st)
                }
                Step::Done(Ok(out)) => {
                    *field!(s, answer) = out;
                    let a = &*field!(s, answer);
                    let mut st = ll_step::of(LL_STEP_DONE);
                    st.data = a.as_ptr();
                    st.data_len = a.len();
                    Polled::Done(Ok(st))
                }
                Step::Done(Err(f)) => Polled::Done(Err(f)),
                other => Polled::Step(common(s, other)),
            },
            Running::Download(ex) => match ex.poll(now_ms, random) {
                Step::Done(Ok(())) => Polled::Done(Ok(ll_step::of(LL_STEP_DONE))),
                Step::Done(Err(f)) => Polled::Done(Err(f)),
                Step::Item(never) => match never {},
                other => Polled::Step(common(s, other)),
            },
            Running::Submit(ex) => match ex.poll(now_ms, random) {
                Step::Done(answer) => {
                    let Some(flow) = field!(s, flow).as_mut() else {
                        return Err(LL_ERR_STATE);
                    };
                    match flow.on_response(answer) {
                        Ok(Some(outcome)) => {
                            let mut st = ll_step::of(LL_STEP_DONE);
                            st.set_uuid(&outcome.submission.task_uuid);
                            st.uploaded = u32::from(outcome.uploaded);
                            Polled::Done(Ok(st))
                        }
                        Ok(None) => {
                            // 101: the same slot now uploads.
                            *field!(s, running) = Running::Idle;
                            let code = start_submission(s);
                            if code != LL_OK {
                                return Err(code);
                            }
                            let mut st = ll_step::of(LL_STEP_EVENT);
                            st.event = LL_EVENT_UPLOAD;
                            Polled::Step(st)
                        }
                        Err(f) => Polled::Done(Err(f)),
                    }
                }
                Step::Item(never) => match never {},
                other => Polled::Step(common(s, other)),
            },
            Running::Page(ex) => match ex.poll(now_ms, random) {
                Step::Item(task) => {
                    let Some(cursor) = page_cursor(s) else {
                        return Ok(end(s, Err(cursor_gone())));
                    };
                    if !cursor.accept(task.task_uuid) {
                        continue;
                    }
                    let mut st = ll_step::of(LL_STEP_ENTRY);
                    st.set_uuid(&task.task_uuid);
                    if let Some(score) = task.score {
                        st.has_score = 1;
                        st.score = score;
                    }
                    Polled::Step(st)
                }
                Step::Done(Ok(page)) => {
                    let Some(cursor) = page_cursor(s) else {
                        return Ok(end(s, Err(cursor_gone())));
                    };
                    match cursor.page_done(&page, *field!(s, now)) {
                        Ok(next) => {
                            let mut st = ll_step::of(LL_STEP_DONE);
                            st.more = u32::from(next == NextPoll::Now);
                            Polled::Done(Ok(st))
                        }
                        Err(e) => Polled::Done(Err(Failure {
                            error: e,
                            attempts: 1,
                            status: Some(200),
                            message: None,
                        })),
                    }
                }
                Step::Done(Err(f)) => Polled::Done(Err(f)),
                other => Polled::Step(common(s, other)),
            },
        };
        return Ok(match polled {
            Polled::Step(st) => st,
            Polled::Done(outcome) => end(s, outcome),
        });
    }
}

/// The operation is over: the slot idle, the `DONE` step to hand over.
fn end(s: *mut ExchangeSlot, outcome: Result<ll_step, Failure>) -> ll_step {
    *field!(s, running) = Running::Idle;
    *field!(s, owed) = Owed::Nothing;
    let mut st = match outcome {
        Ok(st) => st,
        Err(f) => {
            let mut st = ll_step::of(LL_STEP_DONE);
            st.result = code_of_failure(&f);
            *field!(s, failure) = Some(f);
            st
        }
    };
    st.keep_connection = u32::from(field!(s, link).connection_open());
    st
}

/// The cursor of the running page, if the caller left it alive and in
/// place as `ll_exchange_completed` asks (checked again at each use).
fn page_cursor<'a>(s: *mut ExchangeSlot) -> Option<&'a mut Cursor> {
    let c = handle::live(*field!(s, cursor)).ok()?;
    // SAFETY: a live cursor slot at the address it was initialised at; the
    // exchange is the only one using it until DONE.
    Some(unsafe { &mut *addr_of_mut!((*c).cursor) })
}

fn cursor_gone() -> Failure {
    Failure::from(Error::WorkflowMisuse(
        "the cursor was dropped or moved while its page was read",
    ))
}

/// A step to hand over, or the end of the operation.
enum Polled {
    Step(ll_step),
    Done(Result<ll_step, Failure>),
}

fn sample_step(sent: u64, total: u64, scratch: *mut u8, scratch_len: usize) -> ll_step {
    let mut st = ll_step::of(LL_STEP_SEND_SAMPLE);
    st.sample_offset = sent;
    st.sample_len = total.saturating_sub(sent);
    st.space = scratch;
    st.space_len = scratch_len;
    st
}

/// The steps every operation answers alike (not entries, not the end).
fn common<I, O>(s: *mut ExchangeSlot, step: Step<'_, I, O>) -> ll_step {
    match step {
        Step::Connect(origin) => {
            let host = field!(s, host);
            host.fill(0);
            let mut st = ll_step::of(LL_STEP_CONNECT);
            // The core's hosts come from the configuration or a followed
            // redirect, bounded by the Location capacity, so one always
            // fits with its NUL; were it not so, the connection would be
            // refused rather than the name cut.
            match host.get_mut(..origin.host.len()) {
                Some(dst) if origin.host.len() <= LOCATION_CAPACITY => {
                    dst.copy_from_slice(origin.host.as_bytes())
                }
                _ => {
                    with_exchange!(field!(s, running), ex => ex.failed(Transport::Refused), idle => ());
                    return ll_step::of(LL_STEP_SLEEP);
                }
            }
            st.host = host.as_ptr().cast::<c_char>();
            st.port = origin.port;
            st.tls = u32::from(origin.https);
            *field!(s, owed) = Owed::Connect;
            st
        }
        Step::Write(bytes) => {
            *field!(s, owed) = Owed::Write {
                at: bytes.as_ptr(),
                left: bytes.len(),
            };
            let mut st = ll_step::of(LL_STEP_WRITE);
            st.data = bytes.as_ptr();
            st.data_len = bytes.len();
            st
        }
        Step::SendSample { len, scratch } => {
            let (p, n) = (scratch.as_mut_ptr(), scratch.len());
            *field!(s, owed) = Owed::Sample {
                sent: 0,
                total: len,
                scratch: p,
                scratch_len: n,
            };
            if len == 0 {
                *field!(s, owed) = Owed::Nothing;
            }
            sample_step(0, len, p, n)
        }
        Step::Read(space) => {
            let (p, n) = (space.as_mut_ptr(), space.len());
            *field!(s, owed) = Owed::Read { space: p, len: n };
            let mut st = ll_step::of(LL_STEP_READ);
            st.space = p;
            st.space_len = n;
            st
        }
        Step::Sleep { until_ms } => {
            let mut st = ll_step::of(LL_STEP_SLEEP);
            st.until_ms = until_ms;
            st
        }
        Step::Data(d) => {
            let mut st = ll_step::of(LL_STEP_DATA);
            st.data = d.as_ptr();
            st.data_len = d.len();
            st
        }
        Step::RestartSink => {
            *field!(s, owed) = Owed::Restart;
            ll_step::of(LL_STEP_RESTART)
        }
        Step::Event(e) => {
            let mut st = ll_step::of(LL_STEP_EVENT);
            match e {
                Event::Retry {
                    attempt, delay_ms, ..
                } => {
                    st.event = LL_EVENT_RETRY;
                    st.attempt = attempt;
                    st.until_ms = delay_ms;
                }
                Event::Reconnect => st.event = LL_EVENT_RECONNECT,
                Event::Relogin => st.event = LL_EVENT_RELOGIN,
                Event::Redirect { status, .. } => {
                    st.event = LL_EVENT_REDIRECT;
                    st.attempt = u32::from(status);
                }
            }
            st
        }
        // Entries and the end are each operation's own.
        Step::Item(_) | Step::Done(_) => ll_step::of(LL_STEP_SLEEP),
    }
}

/// Reports `n` bytes written of a `WRITE` or `SEND_SAMPLE` step (fewer
/// than asked is fine: the rest is asked for again).
///
/// # Safety
/// `ex` is NULL or an `ll_exchange`.
#[no_mangle]
pub unsafe extern "C" fn ll_exchange_wrote(ex: *mut ll_exchange, n: usize) -> i32 {
    handle::enter(ex.cast::<ExchangeSlot>(), |s| {
        let owed = field!(s, owed);
        match *owed {
            Owed::Write { at, left } => {
                if n > left {
                    return LL_ERR_INVALID_PARAM;
                }
                *owed = if n == left {
                    Owed::Nothing
                } else {
                    Owed::Write {
                        // SAFETY: `n < left`: still inside the bytes to write.
                        at: unsafe { at.add(n) },
                        left: left - n,
                    }
                };
                LL_OK
            }
            Owed::Sample {
                sent,
                total,
                scratch,
                scratch_len,
            } => {
                let Some(now) = sent.checked_add(n as u64).filter(|&t| t <= total) else {
                    return LL_ERR_INVALID_PARAM;
                };
                *owed = if now == total {
                    Owed::Nothing
                } else {
                    Owed::Sample {
                        sent: now,
                        total,
                        scratch,
                        scratch_len,
                    }
                };
                LL_OK
            }
            _ => LL_ERR_STATE,
        }
    })
}

/// Reports `n` bytes read into a `READ` step's space; 0: the peer closed
/// the connection.
///
/// # Safety
/// `ex` is NULL or an `ll_exchange`.
#[no_mangle]
pub unsafe extern "C" fn ll_exchange_read(ex: *mut ll_exchange, n: usize) -> i32 {
    handle::enter(ex.cast::<ExchangeSlot>(), |s| {
        let Owed::Read { len, .. } = *field!(s, owed) else {
            return LL_ERR_STATE;
        };
        if n > len {
            return LL_ERR_INVALID_PARAM;
        }
        *field!(s, owed) = Owed::Nothing;
        with_exchange!(field!(s, running), ex => ex.received(n), idle => return LL_ERR_STATE);
        LL_OK
    })
}

/// Reports that the connection of a `CONNECT`, `WRITE`, `SEND_SAMPLE` or
/// `READ` step failed (`LL_TRANSPORT_*`): the exchange retries or ends.
///
/// # Safety
/// `ex` is NULL or an `ll_exchange`.
#[no_mangle]
pub unsafe extern "C" fn ll_exchange_failed(ex: *mut ll_exchange, how: u32) -> i32 {
    handle::enter(ex.cast::<ExchangeSlot>(), |s| {
        let how = match how {
            LL_TRANSPORT_CONNECT => Transport::Connect,
            LL_TRANSPORT_CLOSED => Transport::Closed,
            LL_TRANSPORT_IO => Transport::Io,
            LL_TRANSPORT_TIMEOUT => Transport::TimedOut,
            LL_TRANSPORT_REFUSED => Transport::Refused,
            _ => return LL_ERR_INVALID_PARAM,
        };
        match *field!(s, owed) {
            Owed::Connect | Owed::Write { .. } | Owed::Sample { .. } | Owed::Read { .. } => {}
            Owed::Nothing | Owed::Restart => return LL_ERR_STATE,
        }
        *field!(s, owed) = Owed::Nothing;
        with_exchange!(field!(s, running), ex => ex.failed(how), idle => return LL_ERR_STATE);
        LL_OK
    })
}

/// Reports that the download's sink cannot start over (after
/// `LL_STEP_RESTART`): the download ends in `LL_ERR_RESTART`.
///
/// # Safety
/// `ex` is NULL or an `ll_exchange`.
#[no_mangle]
pub unsafe extern "C" fn ll_exchange_cannot_restart(ex: *mut ll_exchange) -> i32 {
    handle::enter(ex.cast::<ExchangeSlot>(), |s| {
        if !matches!(*field!(s, owed), Owed::Restart) {
            return LL_ERR_STATE;
        }
        *field!(s, owed) = Owed::Nothing;
        with_exchange!(field!(s, running), ex => ex.cannot_restart(), idle => return LL_ERR_STATE);
        LL_OK
    })
}

/// The last failure of the handle (an operation's, or a refused start).
pub(crate) fn last_failure<'a>(s: *mut ExchangeSlot) -> Option<&'a Failure> {
    field!(s, failure).as_ref()
}
