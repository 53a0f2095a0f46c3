//! The client both flavors share: everything but the I/O loop — the
//! client's state, its construction, and each method as a call of the
//! exchange — written once and instantiated by [`client!`] in
//! [`crate::blocking`] (plain functions) and [`crate::asynch`] (`async`
//! ones awaiting the same calls). Each flavor keeps only its I/O: its
//! `Connector` and `Timer` traits and the `run` loop that drives an
//! exchange over its streams.

/// Defines `Client` and its methods in the invoking module, which brings
/// `Connector`, `Timer` and `run` (and the names the methods use) into
/// scope: `client!(,)` for the blocking flavor, `client!(async, .await)`
/// for the async one.
macro_rules! client {
    ($($async:ident)?, $(.$await:ident)?) => {
        /// The Analyst API over a caller-supplied stream. `RX` is the send and
        /// receive buffer, `UNITS` the largest JSON member or list entry decoded,
        /// `SESSIONS` false leaves the login out of the image (a session mode is
        /// then sent as Basic: about 2 KiB less flash for firmware that never
        /// logs in).
        pub struct Client<
            'a,
            C: Connector,
            T: Timer,
            const RX: usize = 2048,
            const UNITS: usize = 512,
            const SESSIONS: bool = true,
        > {
            connector: C,
            timer: T,
            conn: Option<C::Connection>,
            settings: Settings<'a>,
            link: Link,
            rx: [u8; RX],
            on_event: Option<fn(&Event)>,
        }

        impl<'a, C: Connector, T: Timer, const RX: usize, const UNITS: usize, const SESSIONS: bool>
            Client<'a, C, T, RX, UNITS, SESSIONS>
        {
            /// A client that connects through `connector` and retries with
            /// `timer` ([`NoRetry`] for none).
            pub fn new(connector: C, timer: T, settings: Settings<'a>) -> Self {
                Self {
                    connector,
                    timer,
                    conn: None,
                    settings,
                    link: Link::new(),
                    rx: [0; RX],
                    on_event: None,
                }
            }

            /// A client whose first connection is already open (a TLS session the
            /// caller has just set up, say): `connector` is asked for a new one
            /// only once the server closes it.
            pub fn with_connection(
                connector: C,
                connection: C::Connection,
                timer: T,
                settings: Settings<'a>,
            ) -> Self {
                let mut client = Self::new(connector, timer, settings);
                client.conn = Some(connection);
                client.link.adopt_connection();
                client
            }

            /// Calls `hook` with every retry, reconnect, re-login and redirect the
            /// client makes on its own (they are also logged with `defmt` when the
            /// `defmt` feature is on).
            pub fn set_event_hook(&mut self, hook: fn(&Event)) {
                self.on_event = Some(hook);
            }

            /// Closes the connection (the next call opens a new one).
            pub fn disconnect(&mut self) {
                self.conn = None;
                self.link.disconnected();
            }

            // Not inlined: each exchange's machine then lives in a frame of its own,
            // and the frames of a caller's several exchanges share the stack.
            #[inline(never)]
            $($async)? fn exchange<R: Request, D: DataDecoder + Default, const N: usize>(
                &mut self,
                req: &R,
                download: Option<&mut (dyn DownloadSink + '_)>,
                sample: Option<&mut (dyn SampleSource + '_)>,
                each: &mut dyn FnMut(D::Item),
            ) -> Result<D::Output, Error> {
                // The caller's settings; a timer that cannot wait allows one
                // attempt only.
                let mut s = self.settings;
                if !self.timer.retries() {
                    s.retry.max_attempts = 1;
                }
                let result = if let Some(sink) = download {
                    let ex =
                        Exchange::<R, NoData, 0, SESSIONS>::download(req, &s, &mut self.link, &mut self.rx);
                    let mut none = |_| {};
                    let mut d = Driven::new(ex, &mut none);
                    let c = (&mut self.connector, &mut self.conn, &mut self.timer);
                    run(&mut d, c.0, c.1, c.2, sample, Some(sink), self.on_event)$(.$await)?
                        .map(|()| None)
                } else {
                    let ex = Exchange::<R, D, N, SESSIONS>::call(req, &s, &mut self.link, &mut self.rx);
                    let mut d = Driven::new(ex, each);
                    let c = (&mut self.connector, &mut self.conn, &mut self.timer);
                    run(&mut d, c.0, c.1, c.2, sample, None, self.on_event)$(.$await)?
                        .map(|()| d.output())
                };
                if result.is_err() && self.conn.is_none() {
                    self.link.disconnected();
                }
                match result? {
                    Some(out) => Ok(out),
                    None => D::default().finish().map_err(Error::Core),
                }
            }

            /// Calls a method and decodes its answer with `D` (the method's
            /// decoder, or a lighter one), handing list entries to `each`; the
            /// sample, for an upload, is read from `sample` (from its start on
            /// every attempt). Entries of a failed attempt may be seen again.
            pub $($async)? fn call_with<R: Request, D: DataDecoder + Default>(
                &mut self,
                req: &R,
                sample: Option<&mut (dyn SampleSource + '_)>,
                each: &mut dyn FnMut(D::Item),
            ) -> Result<D::Output, Error> {
                self.exchange::<R, D, UNITS>(req, None, sample, each)$(.$await)?
            }

            /// Calls a method with its own decoder.
            pub $($async)? fn call<R: Request>(
                &mut self,
                req: &R,
                mut each: impl FnMut(<R::Response as DataDecoder>::Item),
            ) -> Result<<R::Response as DataDecoder>::Output, Error> {
                self.call_with::<R, R::Response>(req, None, &mut each)$(.$await)?
            }

            /// Downloads a raw response (artifact, PDF report, exported report,
            /// IOC report) into `sink`, piece by piece, with the same policy as
            /// calls; a download cut off half-way is retried if the sink can start
            /// over. Documented failure statuses become errors.
            pub $($async)? fn download<R: Request>(
                &mut self,
                req: &R,
                sink: &mut dyn DownloadSink,
            ) -> Result<(), Error> {
                self.exchange::<R, NoData, 0>(req, Some(sink), None, &mut |_| {})$(.$await)?
            }

            /// Submits a sample hash-first: one hashing pass, submission by
            /// hash, and an upload streamed from the source only when the server
            /// asks (101).
            pub $($async)? fn submit_hash_first<S: SampleSource>(
                &mut self,
                sample: &mut S,
                options: SubmitFile<'_>,
            ) -> Result<HashFirstOutcome, Error> {
                let digests = crate::sample::hash_sample(sample)?;
                self.submit_hashed(digests, sample, options)$(.$await)?
            }

            /// Hash-first with digests computed elsewhere: submit by hash, upload
            /// from `sample` only on 101. The sample's length must equal
            /// `digests.len`.
            pub $($async)? fn submit_hashed<S: SampleSource>(
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
                    let answer = self
                        .call_with::<_, SubmitDecoder>(&req, Some(sample), &mut |_| {})$(.$await)?;
                    if let Some(done) = flow.on_response(answer)? {
                        return Ok(done);
                    }
                }
            }

            /// Reads one page of completions after the cursor, handing each new
            /// task to `each`, and moves the cursor on. Persist the cursor
            /// (`save`) after it returns.
            pub $($async)? fn completions<const K: usize>(
                &mut self,
                cursor: &mut CompletionCursor<K>,
                each: &mut dyn FnMut(&CompletedTask),
            ) -> Result<NextPoll, Error> {
                let req = cursor.request();
                let page = self.call_with::<_, CompletedDecoder>(&req, None, &mut |t| {
                    if cursor.accept(t.task_uuid) {
                        each(&t);
                    }
                })$(.$await)??;
                Ok(cursor.page_done(&page, None)?)
            }
        }
    };
}
pub(crate) use client;
