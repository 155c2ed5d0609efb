//! A small streaming DEFLATE (RFC 1951) decoder, after Mark Adler's `puff`.
//!
//! Used only to look inside XLSX parts before calamine opens them (see `zip_guard`); the output is
//! handed to a sink in chunks so that memory stays at a 32 KiB window plus one chunk.

/// How decoding ended. Whatever was decoded before the end has been handed to the sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InflateEnd {
    /// The last block ended.
    Done,
    /// `limit` bytes were produced and decoding stopped there.
    Limit,
    /// The data is not valid DEFLATE (or is cut short).
    Corrupt,
}

const WINDOW: usize = 32 * 1024;
const CHUNK: usize = 128 * 1024;

const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// Order of the code length code lengths in a dynamic block header.
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Decode raw DEFLATE `input`, producing at most `limit` bytes, each chunk passed to `sink`.
pub(crate) fn inflate(input: &[u8], limit: u64, sink: &mut dyn FnMut(&[u8])) -> InflateEnd {
    let mut state = State {
        bits: Bits {
            data: input,
            pos: 0,
            buf: 0,
            count: 0,
        },
        out: Out {
            buf: Vec::with_capacity(WINDOW),
            flushed: 0,
            total: 0,
            limit,
            sink,
        },
    };
    let end = match state.blocks() {
        Ok(()) => InflateEnd::Done,
        Err(stop) => stop,
    };
    state.out.finish();
    end
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u32,
    count: u32,
}

impl Bits<'_> {
    /// The next `n` (at most 16) bits, least significant first.
    fn take(&mut self, n: u32) -> Result<u32, InflateEnd> {
        while self.count < n {
            let byte = *self.data.get(self.pos).ok_or(InflateEnd::Corrupt)?;
            self.pos += 1;
            self.buf |= u32::from(byte) << self.count;
            self.count += 8;
        }
        let value = self.buf & ((1u32 << n) - 1);
        self.buf >>= n;
        self.count -= n;
        Ok(value)
    }

    /// Drop the bits left in the current byte (at most 7 are ever buffered).
    fn align(&mut self) {
        self.buf = 0;
        self.count = 0;
    }

    fn bytes(&mut self, n: usize) -> Result<&[u8], InflateEnd> {
        let end = self.pos.checked_add(n).ok_or(InflateEnd::Corrupt)?;
        let slice = self.data.get(self.pos..end).ok_or(InflateEnd::Corrupt)?;
        self.pos = end;
        Ok(slice)
    }
}

struct Out<'s> {
    buf: Vec<u8>,
    /// `buf[..flushed]` has been handed to the sink (and is kept only as the window).
    flushed: usize,
    total: u64,
    limit: u64,
    sink: &'s mut dyn FnMut(&[u8]),
}

impl Out<'_> {
    fn push(&mut self, byte: u8) -> Result<(), InflateEnd> {
        if self.total >= self.limit {
            return Err(InflateEnd::Limit);
        }
        self.buf.push(byte);
        self.total += 1;
        if self.buf.len() >= CHUNK + WINDOW {
            (self.sink)(&self.buf[self.flushed..]);
            let drop = self.buf.len() - WINDOW;
            self.buf.drain(..drop);
            self.flushed = self.buf.len();
        }
        Ok(())
    }

    fn copy(&mut self, distance: usize, length: usize) -> Result<(), InflateEnd> {
        if distance == 0 || distance > self.buf.len() {
            return Err(InflateEnd::Corrupt);
        }
        for _ in 0..length {
            let byte = self.buf[self.buf.len() - distance];
            self.push(byte)?;
        }
        Ok(())
    }

    fn finish(&mut self) {
        if self.flushed < self.buf.len() {
            (self.sink)(&self.buf[self.flushed..]);
            self.flushed = self.buf.len();
        }
    }
}

/// A canonical Huffman code: how many codes of each length, and the symbols in code order.
struct Huffman {
    counts: [u16; 16],
    symbols: Vec<u16>,
}

impl Huffman {
    /// `None` when the lengths are over-subscribed. Incomplete codes are accepted; decoding a
    /// missing code fails.
    fn new(lengths: &[u8]) -> Option<Huffman> {
        let mut counts = [0u16; 16];
        for &length in lengths {
            counts[usize::from(length & 15)] += 1;
        }
        let mut left: i32 = 1;
        for count in &counts[1..] {
            left = (left << 1) - i32::from(*count);
            if left < 0 {
                return None;
            }
        }
        let mut offsets = [0u16; 16];
        for length in 1..15 {
            offsets[length + 1] = offsets[length] + counts[length];
        }
        let mut symbols = vec![0u16; lengths.len()];
        for (symbol, &length) in lengths.iter().enumerate() {
            let length = usize::from(length & 15);
            if length != 0 {
                let slot = symbols.get_mut(usize::from(offsets[length]))?;
                *slot = symbol as u16;
                offsets[length] += 1;
            }
        }
        Some(Huffman { counts, symbols })
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Result<u16, InflateEnd> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for count in &self.counts[1..] {
            code |= bits.take(1)? as i32;
            let count = i32::from(*count);
            if code - count < first {
                return usize::try_from(index + (code - first))
                    .ok()
                    .and_then(|i| self.symbols.get(i).copied())
                    .ok_or(InflateEnd::Corrupt);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err(InflateEnd::Corrupt)
    }
}

struct State<'a, 's> {
    bits: Bits<'a>,
    out: Out<'s>,
}

impl State<'_, '_> {
    fn blocks(&mut self) -> Result<(), InflateEnd> {
        loop {
            let last = self.bits.take(1)? == 1;
            match self.bits.take(2)? {
                0 => self.stored()?,
                1 => self.fixed()?,
                2 => self.dynamic()?,
                _ => return Err(InflateEnd::Corrupt),
            }
            if last {
                return Ok(());
            }
        }
    }

    fn stored(&mut self) -> Result<(), InflateEnd> {
        self.bits.align();
        let header = self.bits.bytes(4)?;
        let length = u16::from_le_bytes([header[0], header[1]]);
        let check = u16::from_le_bytes([header[2], header[3]]);
        if length != !check {
            return Err(InflateEnd::Corrupt);
        }
        let data = self.bits.bytes(usize::from(length))?;
        for &byte in data {
            self.out.push(byte)?;
        }
        Ok(())
    }

    fn fixed(&mut self) -> Result<(), InflateEnd> {
        let mut lengths = [0u8; 288];
        for (symbol, length) in lengths.iter_mut().enumerate() {
            *length = match symbol {
                0..=143 => 8,
                144..=255 => 9,
                256..=279 => 7,
                _ => 8,
            };
        }
        let literal = Huffman::new(&lengths).ok_or(InflateEnd::Corrupt)?;
        let distance = Huffman::new(&[5u8; 30]).ok_or(InflateEnd::Corrupt)?;
        self.codes(&literal, &distance)
    }

    fn dynamic(&mut self) -> Result<(), InflateEnd> {
        let literals = self.bits.take(5)? as usize + 257;
        let distances = self.bits.take(5)? as usize + 1;
        let code_lengths = self.bits.take(4)? as usize + 4;
        if literals > 286 || distances > 30 {
            return Err(InflateEnd::Corrupt);
        }
        let mut lengths = [0u8; 320];
        for &slot in CODE_LENGTH_ORDER.iter().take(code_lengths) {
            lengths[slot] = self.bits.take(3)? as u8;
        }
        let code_length_code = Huffman::new(&lengths[..19]).ok_or(InflateEnd::Corrupt)?;
        let total = literals + distances;
        let mut index = 0usize;
        while index < total {
            let symbol = code_length_code.decode(&mut self.bits)?;
            if symbol < 16 {
                lengths[index] = symbol as u8;
                index += 1;
                continue;
            }
            let (length, repeat) = match symbol {
                16 => {
                    let previous = index.checked_sub(1).ok_or(InflateEnd::Corrupt)?;
                    (lengths[previous], 3 + self.bits.take(2)? as usize)
                }
                17 => (0, 3 + self.bits.take(3)? as usize),
                _ => (0, 11 + self.bits.take(7)? as usize),
            };
            if index + repeat > total {
                return Err(InflateEnd::Corrupt);
            }
            lengths[index..index + repeat].fill(length);
            index += repeat;
        }
        if lengths[256] == 0 {
            return Err(InflateEnd::Corrupt);
        }
        let literal = Huffman::new(&lengths[..literals]).ok_or(InflateEnd::Corrupt)?;
        let distance = Huffman::new(&lengths[literals..total]).ok_or(InflateEnd::Corrupt)?;
        self.codes(&literal, &distance)
    }

    fn codes(&mut self, literal: &Huffman, distance: &Huffman) -> Result<(), InflateEnd> {
        loop {
            let symbol = usize::from(literal.decode(&mut self.bits)?);
            if symbol < 256 {
                self.out.push(symbol as u8)?;
                continue;
            }
            if symbol == 256 {
                return Ok(());
            }
            let symbol = symbol - 257;
            let (Some(base), Some(extra)) = (LENGTH_BASE.get(symbol), LENGTH_EXTRA.get(symbol))
            else {
                return Err(InflateEnd::Corrupt);
            };
            let length = usize::from(*base) + self.bits.take(u32::from(*extra))? as usize;
            let symbol = usize::from(distance.decode(&mut self.bits)?);
            let (Some(base), Some(extra)) = (DIST_BASE.get(symbol), DIST_EXTRA.get(symbol)) else {
                return Err(InflateEnd::Corrupt);
            };
            let dist = usize::from(*base) + self.bits.take(u32::from(*extra))? as usize;
            self.out.copy(dist, length)?;
        }
    }
}
