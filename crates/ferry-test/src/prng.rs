//! A tiny seeded PRNG (SplitMix64) for reproducible "random" test data.
//!
//! Not cryptographic; it only has to be deterministic and incompressible enough that
//! gzip cannot shrink it.

use std::io::{self, Read};

/// SplitMix64: 64 bits of state, good statistical quality, trivially reproducible.
#[derive(Debug, Clone)]
pub struct Prng {
    state: u64,
}

impl Prng {
    pub fn new(seed: u64) -> Prng {
        Prng { state: seed }
    }

    /// A PRNG seeded from a string (so fixtures can name their seeds).
    pub fn from_label(label: &str) -> Prng {
        // FNV-1a over the label.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in label.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Prng::new(h)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0; slight modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let v = self.next_u64().to_le_bytes();
            let n = rest.len();
            rest.copy_from_slice(&v[..n]);
        }
    }
}

/// A reader yielding `len` pseudo-random bytes from a seed, without buffering them all.
/// The byte stream depends only on the seed, never on the caller's buffer sizes.
#[derive(Debug, Clone)]
pub struct RandomReader {
    prng: Prng,
    remaining: u64,
    /// Unused bytes of the last generated word.
    pending: [u8; 8],
    pending_len: usize,
}

impl RandomReader {
    pub fn new(seed: u64, len: u64) -> RandomReader {
        RandomReader {
            prng: Prng::new(seed),
            remaining: len,
            pending: [0; 8],
            pending_len: 0,
        }
    }
}

impl Read for RandomReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let mut n = 0;
        // Drain the leftover of the previous word first.
        if self.pending_len > 0 {
            let start = 8 - self.pending_len;
            let k = self.pending_len.min(want);
            buf[..k].copy_from_slice(&self.pending[start..start + k]);
            self.pending_len -= k;
            n = k;
        }
        let words = (want - n) / 8;
        self.prng.fill(&mut buf[n..n + words * 8]);
        n += words * 8;
        if n < want {
            self.pending = self.prng.next_u64().to_le_bytes();
            let k = want - n;
            buf[n..want].copy_from_slice(&self.pending[..k]);
            self.pending_len = 8 - k;
            n = want;
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_seed_dependent() {
        let mut a = [0u8; 37];
        let mut b = [0u8; 37];
        Prng::new(7).fill(&mut a);
        Prng::new(7).fill(&mut b);
        assert_eq!(a, b);
        Prng::new(8).fill(&mut b);
        assert_ne!(a, b);
    }

    #[test]
    fn reader_independent_of_buffer_size() {
        let mut small = Vec::new();
        let mut r = RandomReader::new(3, 1001);
        let mut buf = [0u8; 13];
        loop {
            let n = r.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            small.extend_from_slice(&buf[..n]);
        }
        let mut big = Vec::new();
        RandomReader::new(3, 1001)
            .read_to_end(&mut big)
            .unwrap_or(0);
        assert_eq!(small.len(), 1001);
        assert_eq!(small, big);
    }
}
