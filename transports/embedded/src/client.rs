//! The client, written once and instantiated as a blocking and an async
//! flavor by [`flavor!`]: `$asyncness` is empty or `async`, `$await` is
//! empty or `.await`, `$io` the embedded-io crate of the flavor.

/// Generates a client module for one flavor.
macro_rules! flavor {
    ($io:ident, [$($asyncness:tt)*], [$($await:tt)*]) => {
        use embedded_io::Error as _;
        use lastline_core::auth::SessionCookie;
        use lastline_core::envelope::DataDecoder;
        use lastline_core::http::{ClientConfig, EncodeStep, RequestEncoder};
        use lastline_core::request::{Login, Request, SubmitFile};
        use lastline_core::response::{EnvelopeResponse, Progress, RawEvent, RawResponse};
        use lastline_core::responses::{CompletedDecoder, CompletedTask, StringData, SubmitDecoder};
        use lastline_core::workflow::{
            CompletionCursor, HashFirst, HashFirstOutcome, NextPoll, RetryDecision, RetryState, Session, SessionAction,
        };
        use lastline_core::{ApiMessage, Auth};

        use crate::{AuthMode, Error, Options, OptionsSource, SampleSource};

        /// Opens connections to the server (TCP, then TLS): the client
        /// calls it at first use and again after the server closes.
        pub trait Connector {
            /// A connected stream.
            type Connection: $io::Read + $io::Write;
            /// Connects.
            $($asyncness)* fn connect(&mut self) -> Result<Self::Connection, Error>;
        }

        /// The caller's clock, randomness and sleep, for the retry schedule.
        pub trait Timer {
            /// Milliseconds on a monotonic clock.
            fn now_ms(&mut self) -> u64;
            /// Any random 32 bits (jitter).
            fn random(&mut self) -> u32;
            /// Sleeps for `ms` milliseconds.
            $($asyncness)* fn delay_ms(&mut self, ms: u64);
            /// Whether failed calls may be retried at all (see [`NoRetry`]).
            fn retries(&self) -> bool {
                true
            }
        }

        /// A timer for clients that never retry.
        #[derive(Clone, Copy, Debug, Default)]
        pub struct NoRetry;

        impl Timer for NoRetry {
            fn now_ms(&mut self) -> u64 {
                0
            }
            fn random(&mut self) -> u32 {
                0
            }
            $($asyncness)* fn delay_ms(&mut self, _: u64) {}
            fn retries(&self) -> bool {
                false
            }
        }

        /// The Analyst API over a caller-supplied stream. `RX` is the receive
        /// buffer, `UNITS` the largest JSON member or list entry decoded,
        /// `O` where the [`Options`] come from (themselves, by default).
        pub struct Client<
            'a,
            C: Connector,
            T: Timer,
            const RX: usize = 2048,
            const UNITS: usize = 512,
            O: OptionsSource = Options<'a>,
        > {
            connector: C,
            timer: T,
            conn: Option<C::Connection>,
            reused: bool,
            opts: O,
            _borrows: core::marker::PhantomData<Options<'a>>,
            session: Session,
            rx: [u8; RX],
            filled: usize,
            nonce: u32,
            api_message: Option<ApiMessage>,
        }

        /// Whether to send a request again.
        enum Settled {
            Retry,
            Done,
        }

        /// Writes all of `buf`; a write of 0 bytes means the peer closed
        /// (embedded-io 0.7's `write_all` would panic on it).
        $($asyncness)* fn write_all<W: $io::Write>(w: &mut W, mut buf: &[u8]) -> Result<(), Error> {
            while !buf.is_empty() {
                match w.write(buf)$($await)* {
                    Ok(0) => return Err(Error::Closed),
                    Ok(n) => buf = buf.get(n..).unwrap_or(&[]),
                    Err(e) => return Err(Error::Io(e.kind())),
                }
            }
            Ok(())
        }

        /// Sends a request; the sample is streamed from its source where the
        /// encoder asks for it.
        $($asyncness)* fn send<W: $io::Write>(
            w: &mut W,
            enc: &mut RequestEncoder<'_>,
            mut sample: Option<&mut (dyn SampleSource + '_)>,
            out: &mut [u8],
        ) -> Result<(), Error> {
            if out.is_empty() {
                return Err(lastline_core::Error::BufferTooSmall { capacity: 0 }.into());
            }
            loop {
                match enc.poll(out) {
                    EncodeStep::Write(n) => write_all(w, out.get(..n).unwrap_or(&[]))$($await)*?,
                    EncodeStep::SendFile { len } => {
                        let src = sample.as_deref_mut().ok_or(Error::SampleChanged)?;
                        if src.len() != len {
                            return Err(Error::SampleChanged);
                        }
                        let mut at = 0u64;
                        while at < len {
                            let n = src.read_at(at, out).map_err(Error::Sample)?;
                            if n == 0 {
                                return Err(Error::SampleChanged);
                            }
                            write_all(w, out.get(..n).unwrap_or(&[]))$($await)*?;
                            at = at.saturating_add(n as u64);
                        }
                        enc.file_sent();
                    }
                    EncodeStep::Done => break,
                }
            }
            w.flush()$($await)*.map_err(|e| Error::Io(e.kind()))
        }

        /// Reads bytes into `rx[filled..]`; false when the peer closed.
        $($asyncness)* fn fill<Rd: $io::Read>(r: &mut Rd, rx: &mut [u8], filled: &mut usize) -> Result<bool, Error> {
            let Some(space) = rx.get_mut(*filled..) else { return Ok(false) };
            if space.is_empty() {
                return Err(lastline_core::Error::Http(lastline_core::HttpError::HeadTooLarge).into());
            }
            match r.read(space)$($await)* {
                Ok(0) => Ok(false),
                Ok(n) => {
                    *filled = filled.saturating_add(n);
                    Ok(true)
                }
                Err(e) => Err(Error::Io(e.kind())),
            }
        }

        fn consume(rx: &mut [u8], filled: &mut usize, n: usize) {
            // Not `copy_within`: its memmove costs firmware 1.5 KiB.
            *filled = lastline_core::envelope::move_to_front(rx, n.min(*filled), *filled);
        }

        /// Reads one envelope response.
        $($asyncness)* fn recv<Rd: $io::Read, D: DataDecoder + Default, const U: usize>(
            r: &mut Rd,
            rx: &mut [u8],
            filled: &mut usize,
            each: &mut dyn FnMut(D::Item),
            answered: &mut bool,
            keep: &mut bool,
            keeps: crate::client::Keeps<'_>,
        ) -> Result<D::Output, Error> {
            let mut resp = EnvelopeResponse::<D, U>::default();
            loop {
                let (n, p) = resp.feed(rx.get(..*filled).unwrap_or(&[]))?;
                consume(rx, filled, n);
                match p {
                    Progress::Item(i) => each(i),
                    Progress::Head => {}
                    Progress::Done => break,
                    Progress::NeedMore => {
                        if !fill(r, rx, filled)$($await)*? {
                            // Closed before a whole head: the connection
                            // failed (the caller decides whether to resend);
                            // after it, the core judges the framing.
                            if resp.head().is_none() {
                                return Err(Error::Closed);
                            }
                            if matches!(resp.close()?, Progress::Done) {
                                break;
                            }
                            return Err(Error::Closed);
                        }
                        *answered = true;
                    }
                }
            }
            // Read whole: even a failure envelope leaves the connection
            // usable if the server said so.
            *keep = resp.keep_alive();
            Ok(crate::client::finish_response(&mut resp, keeps)?)
        }

        /// The core's configuration for one request: the session cookie when
        /// the client uses sessions and has one, else the credentials.
        fn client_config<'c>(opts: Options<'c>, cookie: Option<&'c SessionCookie>) -> ClientConfig<'c> {
            let auth = match (opts.auth, cookie) {
                (AuthMode::Session, Some(c)) => Auth::Session(c),
                (AuthMode::BodyFields, _) => Auth::BodyFields(opts.credentials),
                _ => Auth::Basic(opts.credentials),
            };
            ClientConfig {
                host: opts.host,
                base_path: opts.base_path,
                user_agent: opts.user_agent,
                auth,
                no_session: opts.auth != AuthMode::Session,
                keep_alive: true,
            }
        }

        /// Reads a raw response, passing its body to `sink`; returns whether
        /// the connection can be kept.
        $($asyncness)* fn recv_raw<Rd: $io::Read>(
            conn: &mut Rd,
            rx: &mut [u8],
            filled: &mut usize,
            sink: &mut dyn FnMut(&[u8]) -> Result<(), Error>,
            answered: &mut bool,
        ) -> Result<bool, Error> {
            let mut raw = RawResponse::new();
            loop {
                let (n, ev) = raw.feed(rx.get(..*filled).unwrap_or(&[]))?;
                let (mut need, mut done) = (false, false);
                match ev {
                    RawEvent::Data(d) => sink(d)?,
                    RawEvent::Head => {}
                    RawEvent::Done => done = true,
                    RawEvent::NeedMore => need = true,
                }
                consume(rx, filled, n);
                if done {
                    return Ok(raw.keep_alive());
                }
                if need {
                    if !fill(conn, rx, filled)$($await)*? {
                        if raw.head().is_none() {
                            return Err(Error::Closed);
                        }
                        raw.close()?;
                        return Ok(false);
                    }
                    *answered = true;
                }
            }
        }

        impl<C: Connector, T: Timer, const RX: usize, const UNITS: usize, O: OptionsSource> Client<'_, C, T, RX, UNITS, O> {
            /// A client that connects through `connector` and retries with
            /// `timer` ([`NoRetry`] for none).
            pub fn new(connector: C, timer: T, opts: O) -> Self {
                Self {
                    connector,
                    timer,
                    conn: None,
                    reused: false,
                    opts,
                    _borrows: core::marker::PhantomData,
                    session: Session::new(),
                    rx: [0; RX],
                    filled: 0,
                    nonce: 0,
                    api_message: None,
                }
            }

            /// A client whose first connection is already open (a TLS
            /// session the caller has just set up, say): `connector` is
            /// asked for a new one only once the server closes it. Saves
            /// holding a second connection inside the connector.
            pub fn with_connection(connector: C, connection: C::Connection, timer: T, opts: O) -> Self {
                let mut client = Self::new(connector, timer, opts);
                client.conn = Some(connection);
                client
            }

            /// The message of the last call's failure envelope, for people
            /// (the error returned holds its code); `None` when the last
            /// call did not end in one.
            pub fn api_message(&self) -> Option<&ApiMessage> {
                self.api_message.as_ref()
            }

            /// Closes the connection (the next call opens a new one).
            pub fn disconnect(&mut self) {
                self.conn = None;
                self.filled = 0;
            }

            fn entropy(&mut self) -> [u8; 16] {
                // The boundary must only be unlikely in the sample; mixing a
                // counter with the caller's randomness is enough.
                self.nonce = self.nonce.wrapping_add(1);
                let r = self.timer.random();
                let mut e = [0u8; 16];
                for (i, b) in e.iter_mut().enumerate() {
                    let word = if i < 8 { r } else { self.nonce };
                    *b = (word >> ((i % 4) * 8)) as u8 ^ (i as u8).wrapping_mul(0x9d);
                }
                e
            }

            $($asyncness)* fn ensure_connected(&mut self, _method: &'static str) -> Result<(), Error> {
                if self.conn.is_none() {
                    crate::log!(debug, "lastline: connecting for {=str}", _method);
                    self.conn = Some(self.connector.connect()$($await)*?);
                    self.reused = false;
                    self.filled = 0;
                }
                Ok(())
            }

            /// After an exchange: keep or drop the connection, and say whether
            /// to send again. A kept-alive connection that the server had
            /// closed before answering is reopened once; nothing was
            /// answered, so sending again is safe.
            fn settle(&mut self, outcome: Result<bool, &Error>, attempt: u32, answered: bool) -> Settled {
                match outcome {
                    Ok(keep_alive) => {
                        self.reused = keep_alive;
                        if !keep_alive {
                            self.conn = None;
                        }
                        Settled::Done
                    }
                    Err(Error::Closed | Error::Io(_)) if self.reused && attempt == 0 && !answered => {
                        crate::log!(debug, "lastline: kept-alive connection was closed; reconnecting");
                        self.conn = None;
                        Settled::Retry
                    }
                    Err(_) => {
                        self.conn = None;
                        Settled::Done
                    }
                }
            }

            /// One exchange on the current connection, reconnecting once if
            /// a kept-alive connection turned out to be closed.
            $($asyncness)* fn exchange<R: Request, D: DataDecoder + Default>(
                &mut self,
                req: &R,
                with_session: bool,
                mut cookie_out: Option<&mut Option<SessionCookie>>,
                mut sample: Option<&mut (dyn SampleSource + '_)>,
                each: &mut dyn FnMut(D::Item),
            ) -> Result<D::Output, Error> {
                self.api_message = None;
                for attempt in 0..2 {
                    self.ensure_connected(R::NAME)$($await)*?;
                    let entropy = self.entropy();
                    let cookie = if with_session { self.session.cookie() } else { None };
                    let cfg = client_config(self.opts.options(), cookie);
                    let Some(conn) = self.conn.as_mut() else { return Err(Error::Closed) };
                    // The receive buffer's free part doubles as the send
                    // buffer: nothing is received while a request goes out.
                    let scratch = self.rx.get_mut(self.filled..).unwrap_or(&mut []);
                    let sent = match RequestEncoder::new(req, &cfg, entropy) {
                        Ok(mut enc) => send(conn, &mut enc, sample.as_deref_mut(), scratch)$($await)*,
                        Err(e) => Err(e.into()),
                    };
                    let (mut answered, mut keep) = (false, false);
                    let result = match sent {
                        Ok(()) => recv::<_, D, UNITS>(conn, &mut self.rx, &mut self.filled, each, &mut answered, &mut keep, crate::client::Keeps { cookie: cookie_out.as_deref_mut(), message: &mut self.api_message })$($await)*,
                        // A server may answer before reading the whole
                        // request (413 for an upload over its limit) and
                        // close: if its answer is there, it is the outcome.
                        Err(e @ (Error::Io(_) | Error::Closed)) => {
                            let early = recv::<_, D, UNITS>(conn, &mut self.rx, &mut self.filled, each, &mut answered, &mut keep, crate::client::Keeps { cookie: cookie_out.as_deref_mut(), message: &mut self.api_message })$($await)*;
                            // The request did not go out whole: never reuse.
                            keep = false;
                            match early {
                                Err(Error::Core(c)) if answered => Err(Error::Core(c)),
                                Err(_) => Err(e),
                                done => done,
                            }
                        }
                        Err(e) => Err(e),
                    };
                    let outcome = match &result {
                        // An answer read whole, success or failure envelope:
                        // the connection is as the server said.
                        Ok(_) | Err(Error::Core(lastline_core::Error::Api(_))) => Ok(keep),
                        Err(e) => Err(e),
                    };
                    match self.settle(outcome, attempt, answered) {
                        Settled::Retry => {}
                        Settled::Done => return result,
                    }
                }
                Err(Error::Closed)
            }

            $($asyncness)* fn login(&mut self) -> Result<(), Error> {
                let mut cookie = None;
                let x = self.exchange::<_, StringData>(&Login, false, Some(&mut cookie), None, &mut |_| {})$($await)*;
                let (answer, cookie) = match x {
                    Ok(_) => (Ok(()), cookie),
                    Err(Error::Core(e)) => (Err(e), None),
                    Err(e) => return Err(e),
                };
                self.session.on_login(answer, cookie)?;
                Ok(())
            }

            /// One call with the session handled (login first, once more on
            /// 122), no retries.
            $($asyncness)* fn call_once<R: Request, D: DataDecoder + Default>(
                &mut self,
                req: &R,
                mut sample: Option<&mut (dyn SampleSource + '_)>,
                each: &mut dyn FnMut(D::Item),
            ) -> Result<D::Output, Error> {
                loop {
                    if !O::SESSIONS || self.opts.options().auth != AuthMode::Session {
                        return self.exchange::<R, D>(req, false, None, sample, each)$($await)*;
                    }
                    if self.session.cookie().is_none() {
                        self.login()$($await)*?;
                    }
                    let result = self.exchange::<R, D>(req, true, None, sample.as_deref_mut(), each)$($await)*;
                    match self.session.on_error_code(result.as_ref().err().and_then(Error::api_code))? {
                        SessionAction::Continue => return result,
                        SessionAction::ReloginAndRetry => {
                            crate::log!(info, "lastline: session expired; logging in again");
                            continue;
                        }
                    }
                }
            }

            /// Calls a method and decodes its answer with `D` (the method's
            /// decoder, or a lighter one), handing list entries to `each`.
            /// Retries 107, 5xx and connection failures on the schedule
            /// (entries of a failed attempt may be seen again).
            pub $($asyncness)* fn call_with<R: Request, D: DataDecoder + Default>(
                &mut self,
                req: &R,
                mut sample: Option<&mut (dyn SampleSource + '_)>,
                each: &mut dyn FnMut(D::Item),
            ) -> Result<D::Output, Error> {
                let mut retry = RetryState::new(self.opts.options().retry);
                loop {
                    match self.call_once::<R, D>(req, sample.as_deref_mut(), each)$($await)* {
                        Ok(out) => return Ok(out),
                        Err(e) => {
                            let now = self.timer.now_ms();
                            let random = self.timer.random();
                            let retryable = e.is_retryable() && self.timer.retries();
                            match retry.on_failure(now, retryable, random, None) {
                                RetryDecision::RetryAt(at) => {
                                    crate::log!(warn, "lastline: {} failed ({}); retrying in {=u64} ms", R::NAME, e, at.saturating_sub(now));
                                    self.timer.delay_ms(at.saturating_sub(now))$($await)*
                                }
                                RetryDecision::GiveUp => {
                                    crate::log!(error, "lastline: {} failed: {}", R::NAME, e);
                                    return Err(e);
                                }
                            }
                        }
                    }
                }
            }

            /// Calls a method with its own decoder.
            pub $($asyncness)* fn call<R: Request>(
                &mut self,
                req: &R,
                mut each: impl FnMut(<R::Response as DataDecoder>::Item),
            ) -> Result<<R::Response as DataDecoder>::Output, Error> {
                self.call_with::<R, R::Response>(req, None, &mut each)$($await)*
            }

            /// Downloads a raw response (artifact, PDF report, exported
            /// report, IOC report) into `sink`, piece by piece. Documented
            /// failure statuses become errors; a sink that cannot store a
            /// piece returns [`Error::Sink`], which ends the download. No
            /// retries: a sink may not be able to take the start again.
            pub $($asyncness)* fn download<R: Request>(
                &mut self,
                req: &R,
                sink: &mut dyn FnMut(&[u8]) -> Result<(), Error>,
            ) -> Result<(), Error> {
                for attempt in 0..2 {
                    self.ensure_connected(R::NAME)$($await)*?;
                    let entropy = self.entropy();
                    let cfg = client_config(self.opts.options(), self.session.cookie());
                    let Some(conn) = self.conn.as_mut() else { return Err(Error::Closed) };
                    let mut answered = false;
                    let scratch = self.rx.get_mut(self.filled..).unwrap_or(&mut []);
                    let mut enc = RequestEncoder::new(req, &cfg, entropy)?;
                    let result = match send(conn, &mut enc, None, scratch)$($await)* {
                        Ok(()) => recv_raw(conn, &mut self.rx, &mut self.filled, sink, &mut answered)$($await)*,
                        Err(e) => Err(e),
                    };
                    match self.settle(result.as_ref().map(|k| *k), attempt, answered) {
                        Settled::Retry => {}
                        Settled::Done => return result.map(|_| ()),
                    }
                }
                Err(Error::Closed)
            }

            /// Submits a sample hash-first: one hashing pass, submission by
            /// hash, and an upload streamed from the source only when the
            /// server asks (101).
            pub $($asyncness)* fn submit_hash_first<S: SampleSource>(
                &mut self,
                sample: &mut S,
                options: SubmitFile<'_>,
            ) -> Result<HashFirstOutcome, Error> {
                let digests = crate::sample::hash_sample(sample)?;
                self.submit_hashed(digests, sample, options)$($await)*
            }

            /// Hash-first with digests computed elsewhere (a host hashing on
            /// several threads, a sensor that hashed while capturing): submit
            /// by hash, upload from `sample` only on 101. The sample's length
            /// must equal `digests.len`.
            pub $($asyncness)* fn submit_hashed<S: SampleSource>(
                &mut self,
                digests: lastline_core::hashing::Digests,
                sample: &mut S,
                options: SubmitFile<'_>,
            ) -> Result<HashFirstOutcome, Error> {
                if sample.len() != digests.len {
                    return Err(Error::SampleChanged);
                }
                let mut flow = HashFirst::new(digests, options);
                loop {
                    let Some(req) = flow.request() else {
                        return Err(lastline_core::Error::WorkflowMisuse("hash-first finished").into());
                    };
                    let answer = match self.call_with::<_, SubmitDecoder>(&req, Some(sample), &mut |_| {})$($await)* {
                        Ok(s) => Ok(s),
                        Err(Error::Core(e)) => Err(e),
                        Err(e) => return Err(e),
                    };
                    if let Some(done) = flow.on_response(answer)? {
                        return Ok(done);
                    }
                }
            }

            /// Reads one page of completions after the cursor, handing each
            /// new task to `each`, and moves the cursor on. Persist the cursor
            /// (`save`) after it returns.
            pub $($asyncness)* fn completions<const K: usize>(
                &mut self,
                cursor: &mut CompletionCursor<K>,
                each: &mut dyn FnMut(&CompletedTask),
            ) -> Result<NextPoll, Error> {
                let req = cursor.request();
                let page = self
                    .call_with::<_, CompletedDecoder>(&req, None, &mut |t| {
                        if cursor.accept(t.task_uuid) {
                            each(&t);
                        }
                    })$($await)*?;
                Ok(cursor.page_done(&page))
            }
        }
    };
}

pub(crate) use flavor;

/// What the client keeps from an envelope answer besides its data.
pub(crate) struct Keeps<'k> {
    /// Where login's session cookie goes (only login asks).
    pub cookie: Option<&'k mut Option<lastline_core::SessionCookie>>,
    /// Where a failure envelope's message goes.
    pub message: &'k mut Option<lastline_core::ApiMessage>,
}

/// The end of an envelope exchange: the decoded data, the session cookie
/// (only login asks, and it is written in place: 260 bytes that other
/// exchanges need not carry), and a failure envelope's message (the error
/// carries the code; the text for people is kept once, in the client).
/// Not inlined: its temporaries then live in a frame beside the decoder's
/// deepest calls, not in the read loop's frame above them.
#[inline(never)]
pub(crate) fn finish_response<D: lastline_core::envelope::DataDecoder, const U: usize>(
    resp: &mut lastline_core::response::EnvelopeResponse<D, U>,
    keeps: Keeps<'_>,
) -> Result<D::Output, lastline_core::Error> {
    if let Some(slot) = keeps.cookie {
        *slot = resp.head().and_then(|h| h.session_cookie());
    }
    let output = resp.finish();
    *keeps.message = match output {
        Err(lastline_core::Error::Api(_)) => resp.api_message(),
        _ => None,
    };
    output
}
