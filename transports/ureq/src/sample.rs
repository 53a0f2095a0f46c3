//! Samples from files or any `Read + Seek`: hashed once on two threads,
//! then (only on 101) read again for the upload through a fixed buffer.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread;

use lastline_core::hashing::{Algorithms, Digests, MultiHasher};
use lastline_core::workflow::{SampleSource, SampleUnreadable};

/// Bytes read per block while hashing and uploading.
const BLOCK: usize = 1 << 20;
/// Blocks in flight between the reader and the hashing threads.
const IN_FLIGHT: usize = 3;

/// Fills `buf` from `r` as far as it goes; returns how much.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn worker(
    algorithms: Algorithms,
    rx: Receiver<Arc<Vec<u8>>>,
    back: SyncSender<Arc<Vec<u8>>>,
) -> Digests {
    let mut h = MultiHasher::new(algorithms);
    for block in rx {
        h.update(&block);
        // The reader may have gone (an error): then the block is just freed.
        let _ = back.send(block);
    }
    h.finish()
}

/// MD5, SHA-1 and SHA-256 of everything `reader` yields, in one read:
/// MD5 (a single dependency chain, the slowest) on one thread, SHA-1 and
/// SHA-256 on another, this thread reading. Memory: a few 1 MiB blocks.
/// `progress` gets the bytes hashed so far.
pub fn hash_reader(reader: &mut dyn Read, progress: &mut dyn FnMut(u64)) -> io::Result<Digests> {
    let md5_only = Algorithms {
        md5: true,
        sha1: false,
        sha256: false,
    };
    let shas = Algorithms {
        md5: false,
        sha1: true,
        sha256: true,
    };
    thread::scope(|s| {
        let (tx_a, rx_a) = sync_channel::<Arc<Vec<u8>>>(IN_FLIGHT);
        let (tx_b, rx_b) = sync_channel::<Arc<Vec<u8>>>(IN_FLIGHT);
        let (back_tx, back_rx) = sync_channel::<Arc<Vec<u8>>>(2 * IN_FLIGHT + 2);
        let back_b = back_tx.clone();
        let a = s.spawn(move || worker(md5_only, rx_a, back_tx));
        let b = s.spawn(move || worker(shas, rx_b, back_b));
        let mut allocated = 0;
        let mut total = 0u64;
        let result = loop {
            // A block comes back twice (once per worker); the second return
            // makes it reusable.
            let mut buf = if allocated < IN_FLIGHT + 1 {
                allocated += 1;
                vec![0u8; BLOCK]
            } else {
                let mut reused = None;
                while reused.is_none() {
                    match back_rx.recv() {
                        Ok(arc) => reused = Arc::try_unwrap(arc).ok(),
                        Err(_) => break,
                    }
                }
                match reused {
                    Some(v) => v,
                    None => break Err(io::Error::other("a hashing thread stopped")),
                }
            };
            buf.resize(BLOCK, 0);
            let n = match read_full(reader, &mut buf) {
                Ok(n) => n,
                Err(e) => break Err(e),
            };
            if n == 0 {
                break Ok(());
            }
            buf.truncate(n);
            total += n as u64;
            let block = Arc::new(buf);
            if tx_a.send(block.clone()).is_err() || tx_b.send(block).is_err() {
                break Err(io::Error::other("a hashing thread stopped"));
            }
            progress(total);
        };
        drop((tx_a, tx_b));
        // Keep draining returns so no worker blocks on a full channel.
        let drain = s.spawn(move || for _ in back_rx {});
        let (da, db) = (a.join(), b.join());
        let _ = drain.join();
        result?;
        match (da, db) {
            (Ok(da), Ok(db)) => Ok(Digests {
                md5: da.md5,
                sha1: db.sha1,
                sha256: db.sha256,
                len: total,
            }),
            _ => Err(io::Error::other("a hashing thread panicked")),
        }
    })
}

/// Below this size, starting threads costs more than it saves: one pass
/// on the calling thread.
const THREADS_FROM: u64 = 512 * 1024;

/// Hashes a sample of `len` bytes the fastest way for its size.
pub(crate) fn hash_sample(
    reader: &mut dyn Read,
    len: u64,
    progress: &mut dyn FnMut(u64),
) -> io::Result<Digests> {
    if len >= THREADS_FROM {
        return hash_reader(reader, progress);
    }
    let mut h = MultiHasher::new(Algorithms::ALL);
    let mut buf = vec![0u8; len.clamp(1, THREADS_FROM) as usize];
    loop {
        let n = read_full(reader, &mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        progress(h.len());
    }
    Ok(h.finish())
}

/// A `Read + Seek` as the core's [`SampleSource`], read through
/// a 1 MiB buffer; `progress` sees how far the upload got.
pub(crate) struct ReaderSample<'p, R> {
    reader: R,
    len: u64,
    buf: Vec<u8>,
    buf_at: u64,
    pos: u64,
    progress: &'p mut dyn FnMut(u64, u64),
    pub(crate) failure: Option<io::Error>,
}

impl<'p, R: Read + Seek> ReaderSample<'p, R> {
    pub(crate) fn new(
        mut reader: R,
        len: u64,
        progress: &'p mut dyn FnMut(u64, u64),
    ) -> io::Result<Self> {
        reader.seek(SeekFrom::Start(0))?;
        Ok(Self {
            reader,
            len,
            buf: Vec::new(),
            buf_at: 0,
            pos: 0,
            progress,
            failure: None,
        })
    }

    fn refill(&mut self, offset: u64) -> io::Result<()> {
        if self.pos != offset {
            self.reader.seek(SeekFrom::Start(offset))?;
            self.pos = offset;
        }
        let want = usize::try_from(self.len.saturating_sub(offset))
            .unwrap_or(BLOCK)
            .clamp(1, BLOCK);
        self.buf.resize(want, 0);
        let n = read_full(&mut self.reader, &mut self.buf)?;
        self.buf.truncate(n);
        self.buf_at = offset;
        self.pos = offset + n as u64;
        Ok(())
    }
}

impl<R: Read + Seek> SampleSource for ReaderSample<'_, R> {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&mut self, offset: u64, out: &mut [u8]) -> Result<usize, SampleUnreadable> {
        let end = self.buf_at + self.buf.len() as u64;
        if offset < self.buf_at || offset >= end {
            if let Err(e) = self.refill(offset) {
                self.failure = Some(e);
                return Err(SampleUnreadable);
            }
        }
        let start = (offset - self.buf_at) as usize;
        let avail = self.buf.get(start..).unwrap_or_default();
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        (self.progress)(offset + n as u64, self.len);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn threaded_hashes_equal_one_pass() {
        for len in [
            0usize,
            1,
            63,
            64,
            BLOCK - 1,
            BLOCK,
            3 * BLOCK + 17,
            9 * BLOCK + 5,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let mut seen = 0;
            let d = hash_reader(&mut Cursor::new(&data), &mut |n| seen = n).unwrap();
            let one = lastline_core::hashing::digest(Algorithms::ALL, &data);
            assert_eq!(
                (d.md5, d.sha1, d.sha256, d.len),
                (one.md5, one.sha1, one.sha256, one.len),
                "{len}"
            );
            assert_eq!(seen, len as u64);
        }
    }

    #[test]
    fn small_samples_hash_on_one_thread_with_the_same_result() {
        for len in [
            0usize,
            5,
            1000,
            THREADS_FROM as usize - 1,
            THREADS_FROM as usize + 1,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i % 241) as u8).collect();
            let mut seen = 0;
            let d = hash_sample(&mut Cursor::new(&data), len as u64, &mut |n| seen = n).unwrap();
            let one = lastline_core::hashing::digest(Algorithms::ALL, &data);
            assert_eq!(
                (d.md5, d.sha1, d.sha256, d.len),
                (one.md5, one.sha1, one.sha256, one.len)
            );
            assert_eq!(seen, len as u64);
        }
    }

    #[test]
    fn read_errors_surface() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk on fire"));
                }
                let n = b.len().min(self.0);
                self.0 -= n;
                Ok(n)
            }
        }
        let e = hash_reader(&mut Failing(5 * BLOCK + 3), &mut |_| {}).unwrap_err();
        assert_eq!(e.to_string(), "disk on fire");
    }

    #[test]
    fn reader_sample_serves_any_offset() {
        let data: Vec<u8> = (0..(2 * BLOCK + 100)).map(|i| (i % 253) as u8).collect();
        let mut last = 0;
        let mut p = |done: u64, _| last = done;
        let mut s = ReaderSample::new(Cursor::new(&data), data.len() as u64, &mut p).unwrap();
        let mut out = [0u8; 300];
        for at in [0u64, 5, BLOCK as u64 - 10, 2 * BLOCK as u64 + 50, 7] {
            let n = s.read_at(at, &mut out).unwrap();
            assert!(n > 0);
            assert_eq!(&out[..n], &data[at as usize..at as usize + n]);
        }
        assert_eq!(s.read_at(data.len() as u64, &mut out).unwrap(), 0);
        drop(s);
        assert_eq!(last, data.len() as u64);
    }
}
