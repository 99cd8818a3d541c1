//! BIRD's control-socket reply framing (pure: no I/O).
//!
//! Every line ends in `\n` and is one of:
//! - `DDDD-text`: a line with code `DDDD`, more lines follow;
//! - ` text`: a continuation, same code as the line before (BIRD drops the `DDDD-` and writes one space);
//! - `DDDD text`: the last line of the reply;
//! - `+text`: an asynchronous printout, not part of any reply (skipped).
//!
//! Codes: 0xxx OK/final, 1xxx data, 2xxx table header, 8xxx run-time error, 9xxx parse error. The
//! greeting `0001 BIRD 1.6.8 ready.` is a complete reply of its own. [`Decoder`] takes bytes as they
//! arrive; [`parse_reply`] reads one whole reply. Bytes that are not UTF-8 are replaced (lossy).

/// Cap on the size of one reply, async lines included.
pub const MAX_REPLY_BYTES: usize = 64 << 20;
/// Cap on the length of one line (BIRD's own lines are under 1 KiB).
pub const MAX_LINE_BYTES: usize = 64 << 10;
/// How much of a bad line an error message quotes, in characters.
const QUOTE_CHARS: usize = 80;

/// One complete reply: its lines' codes and texts (prefixes removed), the final line included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply as received (lossy UTF-8); `lines` slices the texts out of it.
    text: String,
    lines: Vec<Span>,
    last: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    code: u16,
    line_no: u32,
    start: u32,
    end: u32,
}

/// One line of a [`Reply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLine<'a> {
    pub code: u16,
    /// 1-based line number within the reply as received (async `+` lines count too).
    pub line_no: usize,
    /// The text after `DDDD-`, `DDDD ` or the continuation's single space.
    pub text: &'a str,
}

impl Reply {
    /// The lines, in order, the final one last (there is always at least the final line).
    pub fn lines(&self) -> impl DoubleEndedIterator<Item = ReplyLine<'_>> + ExactSizeIterator + '_ {
        self.lines.iter().map(|s| self.line_of(s))
    }
    /// The line at `index` (0-based), if there is one.
    pub fn line(&self, index: usize) -> Option<ReplyLine<'_>> {
        self.lines.get(index).map(|s| self.line_of(s))
    }
    pub fn len(&self) -> usize {
        self.lines.len()
    }
    /// Always false: a reply has at least its final line.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
    /// The final line (`DDDD text`).
    pub fn final_line(&self) -> ReplyLine<'_> {
        self.line_of(&self.last)
    }
    /// The final line's code: 0 for a table's end, 1 for the greeting, 8xxx/9xxx for errors.
    pub fn code(&self) -> u16 {
        self.last.code
    }
    /// BIRD's error, if the final line is a run-time (8xxx) or parse (9xxx) error.
    pub fn error(&self) -> Option<ReplyError> {
        let last = self.final_line();
        (8000..=9999)
            .contains(&last.code)
            .then(|| ReplyError::Bird { code: last.code, message: last.text.trim().to_string() })
    }
    /// The reply itself, or BIRD's error if it is one.
    pub fn check(self) -> Result<Reply, ReplyError> {
        match self.error() {
            Some(e) => Err(e),
            None => Ok(self),
        }
    }
    fn line_of(&self, s: &Span) -> ReplyLine<'_> {
        let text = self.text.get(s.start as usize..s.end as usize).unwrap_or("");
        ReplyLine { code: s.code, line_no: s.line_no as usize, text }
    }
}

/// Why a reply could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("line {line_no} of BIRD's reply is not in BIRD's reply format ({why}): {quoted}")]
    Malformed {
        line_no: usize,
        why: &'static str,
        /// The line, lossy UTF-8, cut to about 80 characters, in Rust string quotes.
        quoted: String,
    },
    #[error("BIRD answered {message:?} ({code:04}){}", bird_hint(*.code))]
    Bird { code: u16, message: String },
    #[error("BIRD's reply stopped before its last line (after {lines} complete lines)")]
    Truncated { lines: usize },
    #[error("BIRD's reply is longer than {}; this program stops reading there", size(*.limit))]
    TooLong { limit: usize },
    #[error("line {line_no} of BIRD's reply is longer than {limit} bytes; this program stops reading there")]
    LineTooLong { line_no: usize, limit: usize },
}

fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 { format!("{} MiB", bytes >> 20) } else { format!("{bytes} bytes") }
}

fn bird_hint(code: u16) -> &'static str {
    match code {
        8003 => ": no protocol has that name or matches that pattern",
        8000..=8999 => ": BIRD could not do it (a run-time error)",
        9000..=9999 => ": BIRD did not understand the command",
        _ => "",
    }
}

/// What [`Decoder::feed`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// No final line yet: feed more bytes.
    NeedMore,
    /// A reply is complete. `used`: how many bytes of this feed's input belong to it; the rest
    /// starts the next reply (feed it again).
    Done { reply: Reply, used: usize },
}

/// Incremental reply decoder: feed bytes as they arrive, get each reply when its final line is in.
/// After an error, drop it: its state is not meaningful any more.
#[derive(Debug)]
pub struct Decoder {
    /// Every byte of this reply so far, prefixes and `\n`s included; line texts are spans of it
    /// (checked for UTF-8 once, at the end).
    buf: Vec<u8>,
    /// Where the line being read starts in `buf`.
    line_start: usize,
    lines: Vec<Span>,
    /// Lines read in this reply (async ones too), and the code of the line before.
    line_no: u32,
    prev_code: Option<u16>,
    max_reply: usize,
    max_line: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder with [`MAX_REPLY_BYTES`] and [`MAX_LINE_BYTES`].
    pub fn new() -> Self {
        Decoder::with_limits(MAX_REPLY_BYTES, MAX_LINE_BYTES)
    }

    /// A decoder with other caps (a reply is at most 4 GiB whatever is asked).
    pub fn with_limits(max_reply_bytes: usize, max_line_bytes: usize) -> Self {
        Decoder {
            buf: Vec::new(),
            line_start: 0,
            lines: Vec::new(),
            line_no: 0,
            prev_code: None,
            max_reply: max_reply_bytes.min(u32::MAX as usize - 1),
            max_line: max_line_bytes,
        }
    }

    /// True once any byte of the current reply has been fed.
    pub fn in_progress(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Complete lines read so far in the current reply.
    pub fn lines_read(&self) -> usize {
        self.line_no as usize
    }

    /// The error to give when the input ends now: the reply is cut short.
    pub fn truncated(&self) -> ReplyError {
        ReplyError::Truncated { lines: self.lines_read() }
    }

    /// Reads `input`; stops at the end of the first reply completed in it.
    pub fn feed(&mut self, input: &[u8]) -> Result<Progress, ReplyError> {
        let before = self.buf.len();
        // One byte past the cap is enough to tell that the reply is too long.
        let room = (self.max_reply + 1).saturating_sub(before);
        let input = input.get(..room).unwrap_or(input);
        self.buf.extend_from_slice(input);
        self.lines.reserve(input.len() / 64);
        let mut scan = self.line_start.max(before);
        while let Some(nl) = self.buf.get(scan..).and_then(find_newline) {
            let end = scan + nl;
            self.check_size(end - self.line_start, end + 1, true)?;
            let done = self.take_line(end)?;
            self.line_start = end + 1;
            scan = end + 1;
            if done {
                self.buf.truncate(end + 1);
                return Ok(Progress::Done { reply: self.finish_reply(), used: end + 1 - before });
            }
        }
        self.check_size(self.buf.len() - self.line_start, self.buf.len(), false)?;
        Ok(Progress::NeedMore)
    }

    /// Line and reply length so far (the reply's counting the `\n` if the line is complete). When
    /// both caps are passed, the one passed at the earlier byte wins, so that the error does not
    /// depend on how the bytes were split into reads.
    fn check_size(&self, line_len: usize, reply_len: usize, newline: bool) -> Result<(), ReplyError> {
        let line_over = line_len > self.max_line;
        let reply_over = reply_len > self.max_reply;
        let line_start = reply_len - line_len - usize::from(newline);
        if line_over && (!reply_over || line_start + self.max_line < self.max_reply) {
            return Err(ReplyError::LineTooLong { line_no: self.lines_read() + 1, limit: self.max_line });
        }
        if reply_over {
            return Err(ReplyError::TooLong { limit: self.max_reply });
        }
        Ok(())
    }

    /// The line from `line_start` to `end` (its `\n`); true if it was the final line.
    fn take_line(&mut self, end: usize) -> Result<bool, ReplyError> {
        self.line_no = self.line_no.saturating_add(1);
        let line = self.buf.get(self.line_start..end).unwrap_or_default();
        let (code, skip, last) = match line {
            [b'+', ..] => return Ok(false),
            [b' ', ..] => match self.prev_code {
                Some(code) => (code, 1, false),
                None => return Err(self.malformed("a continuation line with no code before it", line)),
            },
            [a, b, c, d, sep @ (b'-' | b' '), ..] if [a, b, c, d].iter().all(|x| x.is_ascii_digit()) => {
                let code = [a, b, c, d].iter().fold(0u16, |n, x| n * 10 + u16::from(**x - b'0'));
                (code, 5, *sep == b' ')
            }
            _ => return Err(self.malformed("expected a 4-digit code then '-' or ' ', or a leading space", line)),
        };
        let start = clamp_u32(self.line_start + skip);
        self.lines.push(Span { code, line_no: self.line_no, start, end: clamp_u32(end) });
        self.prev_code = Some(code);
        Ok(last)
    }

    fn finish_reply(&mut self) -> Reply {
        let mut lines = std::mem::take(&mut self.lines);
        // Spans start after an ASCII prefix and end at a `\n`: in valid UTF-8 they are char
        // boundaries. Checked anyway, it is cheap.
        let on_boundaries = |t: &String| {
            lines.iter().all(|s| t.is_char_boundary(s.start as usize) && t.is_char_boundary(s.end as usize))
        };
        let text = match String::from_utf8(std::mem::take(&mut self.buf)) {
            Ok(text) if on_boundaries(&text) => text,
            Ok(text) => lossy(text.as_bytes(), &mut lines),
            Err(e) => lossy(&e.into_bytes(), &mut lines),
        };
        self.line_start = 0;
        self.line_no = 0;
        self.prev_code = None;
        // take_line pushed the final line just before this call.
        let last = lines.last().copied().unwrap_or(Span { code: 0, line_no: 0, start: 0, end: 0 });
        Reply { text, lines, last }
    }

    fn malformed(&self, why: &'static str, line: &[u8]) -> ReplyError {
        ReplyError::Malformed { line_no: self.lines_read(), why, quoted: quote(line) }
    }
}

/// Reads exactly one whole reply, e.g. a capture; BIRD's 8xxx/9xxx answers are errors.
pub fn parse_reply(input: &str) -> Result<Reply, ReplyError> {
    parse_reply_bytes(input.as_bytes())
}

/// [`parse_reply`] for raw bytes (not UTF-8 parts are replaced).
pub fn parse_reply_bytes(input: &[u8]) -> Result<Reply, ReplyError> {
    let mut decoder = Decoder::new();
    match decoder.feed(input)? {
        Progress::NeedMore => Err(decoder.truncated()),
        Progress::Done { reply, used } => {
            let rest = input.get(used..).unwrap_or_default();
            if !rest.is_empty() {
                let line = rest.split(|b| *b == b'\n').next().unwrap_or_default();
                return Err(ReplyError::Malformed {
                    line_no: reply.final_line().line_no + 1,
                    why: "more text after the reply's last line",
                    quoted: quote(line),
                });
            }
            reply.check()
        }
    }
}

/// The texts with every part that is not UTF-8 replaced (U+FFFD), line by line, spans moved to
/// match.
fn lossy(bytes: &[u8], lines: &mut [Span]) -> String {
    let mut text = String::with_capacity(bytes.len() + 16);
    for span in lines {
        let part = bytes.get(span.start as usize..span.end as usize).unwrap_or_default();
        span.start = clamp_u32(text.len());
        text.push_str(&String::from_utf8_lossy(part));
        span.end = clamp_u32(text.len());
    }
    text
}

/// The line as a quoted string, cut to [`QUOTE_CHARS`] characters.
fn quote(line: &[u8]) -> String {
    let head = line.get(..QUOTE_CHARS * 4).unwrap_or(line);
    let lossy = String::from_utf8_lossy(head);
    let cut: String = lossy.chars().take(QUOTE_CHARS).collect();
    if cut.len() < lossy.len() || head.len() < line.len() { format!("{cut:?} (cut)") } else { format!("{cut:?}") }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Index of the first `\n`, eight bytes at a time (replies can be megabytes). In `m`, the lowest
/// set high bit marks the first `\n` exactly (false hits can only come after a true one).
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = ONES * b'\n' as u64;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ NL;
        let m = x.wrapping_sub(ONES) & !x & HIGHS;
        if m != 0 {
            return Some(offset + (m.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|b| *b == b'\n').map(|i| offset + i)
}
