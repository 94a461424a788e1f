//! A fast path for kube-apiserver's own lines, with serde as the fallback.
//!
//! Why by hand: with serde_json, reading the ten fields the engine needs and
//! checking the rest of the line took about 40% of the engine's time (string
//! scanning one byte at a time, field matching, `IgnoredAny` recursion).
//! kube-apiserver writes its lines with Go's `encoding/json`: no whitespace,
//! keys without escapes, no raw control characters. For such a line this
//! scanner makes one forward pass: a string's end is found eight bytes at a
//! time (plain `u64` arithmetic, so the krew binary needs no `-C target-cpu`
//! flag), keys are compared as bytes, and every value the
//! engine does not need is checked against the JSON grammar exactly as
//! serde_json's `IgnoredAny` checks it, then skipped. `sonic-rs` was not
//! taken: its SIMD paths are compiled in only with `target-cpu=native`
//! (AVX2 and PCLMULQDQ as compile-time features), which a binary built for
//! any x86_64 machine cannot have.
//!
//! The scanner never decides that a line is bad. On anything it does not
//! expect (a control character, a key with an escape, a duplicate key, `null`
//! or a number where a string is read, a code that is not a plain integer, a
//! lone surrogate, nesting deeper than [`MAX_DEPTH`], a missing required field,
//! trailing bytes) it returns `None` and the line goes to serde, which reads
//! it or names what is wrong. So its only possible faults are accepting a
//! line serde refuses, or reading a field otherwise; the tests compare both
//! readings on every fixture line and on mangled lines, and
//! [`fuzzing::event_line`](crate::fuzzing::event_line) is that check for
//! cargo-fuzz. Field order is not assumed: it costs nothing, and AKS or a
//! log shipper may re-encode the events.

use std::borrow::Cow;

use crate::event::{AuditEvent, ObjectRef, RawGroups, ResponseStatus, User};

/// Deeper nesting goes to serde (whose limit is 128), so that the scanner
/// never accepts what serde refuses for depth.
const MAX_DEPTH: u32 = 100;

/// Serde's whitespace, the only one JSON allows.
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// `str::trim_matches` with a char set is a search per char; this is two loops
/// that stop at the first byte of a line, `{`, and its last, `}`.
fn trim(line: &str) -> &str {
    let b = line.as_bytes();
    let start = b.iter().position(|&c| !is_ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !is_ws(c)).map_or(start, |i| i + 1);
    // Whitespace is ASCII, so both ends are character boundaries.
    line.get(start..end).unwrap_or_default()
}

/// The event of a line, or `None` to let serde read it.
pub(crate) fn scan(line: &str) -> Option<AuditEvent<'_>> {
    let line = trim(line);
    // After trimming, any byte below 0x20 is either inside a string (which
    // JSON forbids) or whitespace between tokens (which Go never writes).
    // Refusing both once here lets strings be scanned for `"` and `\` only.
    if has_control(line.as_bytes()) {
        return None;
    }
    let mut c = Cursor { s: line, i: 0 };
    let event = c.event()?;
    (c.i == line.len()).then_some(event)
}

/// Branch-free so that it vectorises: most lines have no control byte at all.
fn has_control(b: &[u8]) -> bool {
    b.iter().fold(false, |any, &x| any | (x < 0x20))
}

/// Which fields were seen: serde refuses a duplicate field of a struct.
#[derive(Default)]
struct Seen(u32);

impl Seen {
    fn first(&mut self, bit: u32) -> Option<()> {
        let mask = 1 << bit;
        (self.0 & mask == 0).then(|| self.0 |= mask)
    }
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.i).copied()
    }

    /// Only ASCII spaces can be left: control bytes were refused up front.
    fn ws(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.ws();
        (self.peek() == Some(byte)).then(|| self.i += 1)
    }

    /// Walks the members of an object: `f` reads one value given its key.
    fn object(&mut self, f: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.members(Self::key, f)
    }

    /// The members of an object whose keys are read by `key`: [`Self::key`]
    /// where a key is matched, a skip (escapes allowed) where none is.
    fn members(
        &mut self,
        key: fn(&mut Self) -> Option<&'a [u8]>,
        mut f: impl FnMut(&mut Self, &'a [u8]) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            let key = key(self)?;
            self.eat(b':')?;
            self.ws();
            f(self, key)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn event(&mut self) -> Option<AuditEvent<'a>> {
        let (mut kind, mut stage, mut uri, mut verb, mut agent) = (None, None, None, None, None);
        let (mut user, mut object, mut status) = (None, None, None);
        let (mut received, mut staged) = (None, None);
        let mut seen = Seen::default();
        self.object(|c, key| match key {
            b"kind" => put(&mut kind, c.string()?, seen.first(0)),
            b"stage" => put(&mut stage, c.string()?, seen.first(1)),
            b"requestURI" => put(&mut uri, c.string()?, seen.first(2)),
            b"verb" => put(&mut verb, c.string()?, seen.first(3)),
            b"user" => put(&mut user, c.user()?, seen.first(4)),
            b"userAgent" => put(&mut agent, c.string()?, seen.first(5)),
            b"objectRef" => put(&mut object, c.object_ref()?, seen.first(6)),
            b"responseStatus" => put(&mut status, c.status()?, seen.first(7)),
            b"requestReceivedTimestamp" => put(&mut received, c.string()?, seen.first(8)),
            b"stageTimestamp" => put(&mut staged, c.string()?, seen.first(9)),
            _ => c.skip_value(1),
        })?;
        Some(AuditEvent {
            kind,
            stage: stage?,
            request_uri: uri.unwrap_or_default(),
            verb: verb?,
            user: user.unwrap_or_default(),
            user_agent: agent,
            object_ref: object,
            response_status: status,
            request_received_timestamp: received?,
            stage_timestamp: staged?,
        })
    }

    fn user(&mut self) -> Option<User<'a>> {
        let (mut username, mut groups) = (None, None);
        let mut seen = Seen::default();
        self.object(|c, key| match key {
            b"username" => put(&mut username, c.string()?, seen.first(0)),
            b"groups" => {
                // `null` would be `None` for serde; rare enough to leave to it.
                if c.peek() == Some(b'n') {
                    return None;
                }
                let start = c.i;
                c.skip_value(2)?;
                put(&mut groups, RawGroups(&c.s[start..c.i]), seen.first(1))
            }
            _ => c.skip_value(2),
        })?;
        Some(User {
            username: username.unwrap_or_default(),
            groups,
        })
    }

    fn object_ref(&mut self) -> Option<ObjectRef<'a>> {
        let mut fields: [Option<Cow<'a, str>>; 5] = Default::default();
        let mut seen = Seen::default();
        self.object(|c, key| {
            let at = match key {
                b"resource" => 0,
                b"subresource" => 1,
                b"namespace" => 2,
                b"name" => 3,
                b"apiGroup" => 4,
                _ => return c.skip_value(2),
            };
            put(&mut fields[at], c.string()?, seen.first(at as u32))
        })?;
        let [resource, subresource, namespace, name, api_group] =
            fields.map(Option::unwrap_or_default);
        Some(ObjectRef {
            resource,
            subresource,
            namespace,
            name,
            api_group,
        })
    }

    fn status(&mut self) -> Option<ResponseStatus> {
        let mut code = None;
        let mut seen = Seen::default();
        self.object(|c, key| match key {
            b"code" => put(&mut code, c.code()?, seen.first(0)),
            _ => c.skip_value(2),
        })?;
        Some(ResponseStatus { code })
    }

    /// An HTTP code: a plain integer that fits `u16`; anything else to serde.
    fn code(&mut self) -> Option<u16> {
        let b = self.bytes();
        let start = self.i;
        let digits = b[start..].iter().take_while(|d| d.is_ascii_digit()).count();
        if digits == 0 || digits > 5 || (digits > 1 && b[start] == b'0') {
            return None;
        }
        self.i += digits;
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.s[start..self.i].parse().ok()
    }

    /// A key, which must have no escape (serde would unescape it first).
    fn key(&mut self) -> Option<&'a [u8]> {
        let b = self.bytes();
        if b.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i + 1;
        let end = quote_or_escape(b, start)?;
        if b[end] != b'"' {
            return None;
        }
        self.i = end + 1;
        Some(&b[start..end])
    }

    /// A string value, borrowed unless it has escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let b = self.bytes();
        if b.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i + 1;
        let end = quote_or_escape(b, start)?;
        if b[end] == b'"' {
            self.i = end + 1;
            return Some(Cow::Borrowed(&self.s[start..end]));
        }
        let mut text = String::with_capacity(end - start + 16);
        let mut at = start;
        loop {
            let stop = quote_or_escape(b, at)?;
            text.push_str(&self.s[at..stop]);
            if b[stop] == b'"' {
                self.i = stop + 1;
                return Some(Cow::Owned(text));
            }
            at = self.unescape(stop + 1, &mut text)?;
        }
    }

    /// Decodes the escape after the `\` at `at - 1`; returns where the string goes on.
    fn unescape(&self, at: usize, text: &mut String) -> Option<usize> {
        let b = self.bytes();
        let plain = match *b.get(at)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = hex4(b.get(at + 1..at + 5)?)?;
                let (c, next) = match unit {
                    0xD800..=0xDBFF => {
                        // A high surrogate must be followed by an escaped low one.
                        if b.get(at + 5..at + 7)? != b"\\u" {
                            return None;
                        }
                        let low = hex4(b.get(at + 7..at + 11)?)?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return None;
                        }
                        let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        (char::from_u32(code)?, at + 11)
                    }
                    0xDC00..=0xDFFF => return None,
                    _ => (char::from_u32(unit)?, at + 5),
                };
                text.push(c);
                return Some(next);
            }
            _ => return None,
        };
        text.push(plain);
        Some(at + 1)
    }

    /// A key of an object no field is read from: any string will do.
    fn skip_key(&mut self) -> Option<&'a [u8]> {
        (self.peek() == Some(b'"')).then_some(())?;
        self.skip_string().map(|()| &b""[..])
    }

    /// Skips a string, checking its escapes as serde's `ignore_str` does.
    fn skip_string(&mut self) -> Option<()> {
        let b = self.bytes();
        let mut at = self.i + 1;
        loop {
            let stop = quote_or_escape(b, at)?;
            if b[stop] == b'"' {
                self.i = stop + 1;
                return Some(());
            }
            at = match *b.get(stop + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => stop + 2,
                b'u' => {
                    hex4(b.get(stop + 2..stop + 6)?)?;
                    stop + 6
                }
                _ => return None,
            };
        }
    }

    /// Skips any value, checking it against the JSON grammar.
    fn skip_value(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' => self.members(Self::skip_key, |c, _| c.skip_value(depth + 1)),
            b'[' => self.skip_array(depth),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.skip_number(),
            _ => None,
        }
    }

    fn skip_array(&mut self, depth: u32) -> Option<()> {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            self.skip_value(depth + 1)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.bytes()[self.i..]
            .starts_with(word)
            .then(|| self.i += word.len())
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, serde's `ignore_number`.
    fn skip_number(&mut self) -> Option<()> {
        let b = self.bytes();
        let digits = |from: usize| b[from..].iter().take_while(|d| d.is_ascii_digit()).count();
        let mut at = self.i + usize::from(b[self.i] == b'-');
        match b.get(at)? {
            b'0' => at += 1,
            b'1'..=b'9' => at += digits(at),
            _ => return None,
        }
        if b.get(at) == Some(&b'.') {
            let n = digits(at + 1);
            if n == 0 {
                return None;
            }
            at += 1 + n;
        }
        if matches!(b.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(b.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            let n = digits(at);
            if n == 0 {
                return None;
            }
            at += n;
        }
        // `01` is refused by serde: a digit cannot follow a leading zero.
        if b.get(at).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        self.i = at;
        Some(())
    }
}

/// Stores a field read once; `first` is `None` on a duplicate.
fn put<T>(slot: &mut Option<T>, value: T, first: Option<()>) -> Option<()> {
    first?;
    *slot = Some(value);
    Some(())
}

/// The first `"` or `\` at or after `from`, eight bytes at a time. Not
/// `memchr2`: a line's strings are mostly shorter than 32 bytes, where its
/// call and set-up cost more than the search (a third of the scanner's time).
fn quote_or_escape(b: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const SLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    let mut at = from;
    while let Some(word) = b.get(at..at + 8) {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        // A byte of `x` is zero iff the same byte of the result has its high
        // bit set, counting from the lowest byte (the classic "has zero byte").
        let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
        let hits = zero(w ^ QUOTES) | zero(w ^ SLASHES);
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    b[at.min(b.len())..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|i| at + i)
}

fn hex4(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &d| {
        let v = char::from(d).to_digit(16)?;
        Some(n << 4 | v)
    })
}

#[cfg(test)]
#[path = "event_scan_tests.rs"]
mod tests;
