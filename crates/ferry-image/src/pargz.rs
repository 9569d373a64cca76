//! Parallel gzip compression (pigz's scheme) as a `Read` adapter: the input is cut into
//! 1 MiB blocks, each compressed as raw deflate on its own thread with the previous 32 KiB
//! as dictionary (so the ratio stays close to a single stream), ended with a sync flush so
//! blocks concatenate; a final empty block closes the stream, then the CRC-32 and size.
//! Output is a standard single-member gzip file that any gunzip reads.
//!
//! The input is read on the caller's thread (so it may borrow), only owned blocks cross to
//! worker threads; at most `MAX_IN_FLIGHT` blocks are held, so memory stays bounded.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::mpsc::{Receiver, sync_channel};

use flate2::{Compress, Compression, Crc, FlushCompress};

const BLOCK: usize = 1 << 20;
const DICT: usize = 32 * 1024;
const MAX_IN_FLIGHT: usize = 4;

/// gzip header: magic, deflate, no flags, mtime 0, no extra flags, OS "unknown".
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

pub struct ParGzEncoder<R> {
    inner: R,
    level: u32,
    pending: VecDeque<Receiver<io::Result<Vec<u8>>>>,
    out: Vec<u8>,
    out_pos: usize,
    crc: Crc,
    dict: Vec<u8>,
    input_done: bool,
    finished: bool,
}

impl<R: Read> ParGzEncoder<R> {
    pub fn new(inner: R, level: u32) -> Self {
        ParGzEncoder {
            inner,
            level,
            pending: VecDeque::new(),
            out: HEADER.to_vec(),
            out_pos: 0,
            crc: Crc::new(),
            dict: Vec::new(),
            input_done: false,
            finished: false,
        }
    }

    /// Reads up to one block from the input (short only at EOF).
    fn read_block(&mut self) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; BLOCK];
        let mut filled = 0;
        while filled < BLOCK {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(filled);
        Ok(buf)
    }

    fn spawn(&mut self, data: Vec<u8>, last: bool) {
        let dict = std::mem::take(&mut self.dict);
        if data.len() >= DICT {
            self.dict = data[data.len() - DICT..].to_vec();
        } else {
            let mut d = dict.clone();
            d.extend_from_slice(&data);
            let cut = d.len().saturating_sub(DICT);
            self.dict = d[cut..].to_vec();
        }
        let level = self.level;
        let (tx, rx) = sync_channel(1);
        std::thread::spawn(move || {
            let _ = tx.send(deflate_block(&data, &dict, level, last));
        });
        self.pending.push_back(rx);
    }

    /// Refills `out` with the next piece of output; false when everything was produced.
    fn refill(&mut self) -> io::Result<bool> {
        loop {
            // Keep the pipeline full while input remains.
            while !self.input_done && self.pending.len() < MAX_IN_FLIGHT {
                let block = self.read_block()?;
                if block.is_empty() {
                    self.input_done = true;
                    self.spawn(Vec::new(), true);
                } else {
                    self.crc.update(&block);
                    self.spawn(block, false);
                }
            }
            if let Some(rx) = self.pending.pop_front() {
                let chunk = rx
                    .recv()
                    .map_err(|_| io::Error::other("gzip worker thread died"))??;
                self.out = chunk;
                self.out_pos = 0;
                if !self.out.is_empty() {
                    return Ok(true);
                }
                continue;
            }
            if !self.finished {
                self.finished = true;
                let mut t = Vec::with_capacity(8);
                t.extend_from_slice(&self.crc.sum().to_le_bytes());
                t.extend_from_slice(&self.crc.amount().to_le_bytes());
                self.out = t;
                self.out_pos = 0;
                return Ok(true);
            }
            return Ok(false);
        }
    }
}

fn deflate_block(data: &[u8], dict: &[u8], level: u32, last: bool) -> io::Result<Vec<u8>> {
    let mut c = Compress::new(Compression::new(level), false);
    if !dict.is_empty() {
        c.set_dictionary(dict)
            .map_err(|e| io::Error::other(format!("gzip dictionary: {e}")))?;
    }
    let mut out = Vec::with_capacity(data.len() / 2 + 1024);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut input = data;
    loop {
        if out.capacity() - out.len() < 64 * 1024 {
            out.reserve(256 * 1024);
        }
        let before_in = c.total_in();
        let status = c
            .compress_vec(input, &mut out, flush)
            .map_err(|e| io::Error::other(format!("gzip: {e}")))?;
        let used = (c.total_in() - before_in) as usize;
        input = &input[used..];
        let done = match status {
            flate2::Status::StreamEnd => true,
            _ => input.is_empty() && out.capacity() > out.len(),
        };
        if done {
            return Ok(out);
        }
    }
}

impl<R: Read> Read for ParGzEncoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.out_pos >= self.out.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn roundtrip(data: &[u8]) {
        let mut gz = Vec::new();
        ParGzEncoder::new(Cursor::new(data.to_vec()), 6)
            .read_to_end(&mut gz)
            .unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(Cursor::new(gz))
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn round_trips_all_sizes() {
        roundtrip(b"");
        roundtrip(b"hello");
        let text: Vec<u8> = (0..3_000_000u32)
            .flat_map(|i| format!("{i} ").into_bytes())
            .take(BLOCK * 3 + 12345)
            .collect();
        roundtrip(&text);
        let mut x = 1u64;
        let random: Vec<u8> = (0..BLOCK * 2 + 7)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        roundtrip(&random);
    }

    #[test]
    fn ratio_close_to_single_stream() {
        let text: Vec<u8> = (0..2_000_000u32)
            .flat_map(|i| format!("line {} of text\n", i % 5000).into_bytes())
            .collect();
        let mut par = Vec::new();
        ParGzEncoder::new(Cursor::new(text.clone()), 6)
            .read_to_end(&mut par)
            .unwrap();
        let mut single = Vec::new();
        flate2::read::GzEncoder::new(Cursor::new(text), Compression::new(6))
            .read_to_end(&mut single)
            .unwrap();
        assert!(
            par.len() < single.len() * 102 / 100 + 1024,
            "{} vs {}",
            par.len(),
            single.len()
        );
    }
}
