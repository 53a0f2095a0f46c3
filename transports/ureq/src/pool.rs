//! Many samples over several connections at once: a small pool of
//! clients sharing one configuration, each on its own connection, fed
//! from one queue. Over a link with a round trip of tens of milliseconds,
//! `N` connections cut the wall time of a long run of hash-first
//! submissions about `N`-fold, and a worker hashing its next file
//! overlaps the others' waits for the network.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

use crate::{Client, Config, Error, FileSubmitted, Quiet};
use lastline_core::request::SubmitFile;

/// Submits many files over `connections` connections at once.
///
/// ```no_run
/// use lastline_ureq::{core::request::SubmitFile, Config, Pool};
///
/// let pool = Pool::new(Config::new("https://analysis.lastline.com", "key", "token"), 8)?;
/// let files = std::fs::read_dir("quarantine")?.filter_map(|e| Some(e.ok()?.path()));
/// pool.submit_files(files, SubmitFile::default(), &mut |s| {
///     match s.outcome {
///         Ok(done) => println!("{}: {}", s.path.display(), done.submission.task_uuid),
///         Err(e) => eprintln!("{}: {e}", s.path.display()),
///     }
///     std::ops::ControlFlow::Continue(())
/// })?;
/// # Ok::<(), lastline_ureq::Error>(())
/// ```
#[derive(Clone)]
pub struct Pool {
    config: Config,
    connections: usize,
}

/// One file's outcome, as [`Client::submit_file`] gives it.
#[derive(Debug)]
pub struct Submitted {
    /// Its place among the files given (outcomes come as they complete).
    pub index: usize,
    /// The file.
    pub path: PathBuf,
    /// What became of it: its task, or why it was not submitted (a failed
    /// file never stops the others).
    pub outcome: Result<FileSubmitted, Error>,
}

impl Pool {
    /// A pool of `connections` (at least one) clients for `config`,
    /// checked now; nothing is connected until files are submitted.
    pub fn new(config: Config, connections: usize) -> Result<Self, Error> {
        Client::new(config.clone())?;
        Ok(Self {
            config,
            connections: connections.max(1),
        })
    }

    /// The number of connections.
    pub fn connections(&self) -> usize {
        self.connections
    }

    /// Submits every file hash-first (as [`Client::submit_file`]: hashed
    /// once, uploaded only on 101, the file name sent from the path), on
    /// the pool's connections at once. `each` hears every file's outcome
    /// on the calling thread as soon as it is known, in completion order;
    /// the files are read from `files` as connections come free. When
    /// `each` answers `Break` (the server is unreachable, say), no further
    /// file is started; those under way finish and are heard. Returns once
    /// every started file has its outcome.
    pub fn submit_files<I>(
        &self,
        files: I,
        options: SubmitFile<'_>,
        each: &mut dyn FnMut(Submitted) -> ControlFlow<()>,
    ) -> Result<(), Error>
    where
        I: IntoIterator<Item = PathBuf>,
        I::IntoIter: Send,
    {
        let clients = (0..self.connections)
            .map(|_| Client::new(self.config.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let queue = Mutex::new(files.into_iter().enumerate());
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|scope| {
            for mut client in clients {
                let (tx, queue, stop) = (tx.clone(), &queue, &stop);
                scope.spawn(move || loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    // A worker that panicked leaves the queue usable.
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some((index, path)) = next else { break };
                    let outcome = client.submit_file(&path, options, &mut Quiet);
                    if tx
                        .send(Submitted {
                            index,
                            path,
                            outcome,
                        })
                        .is_err()
                    {
                        break;
                    }
                });
            }
            drop(tx);
            for submitted in rx {
                if each(submitted).is_break() {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        });
        Ok(())
    }
}
