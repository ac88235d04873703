//! libphonenumber's metadata patterns, matched the way libphonenumber (Java) matches them.
//!
//! Why not the `phonenumber` crate's own regexes: its descriptors test a pattern with
//! `find(..).start() == 0` — a *prefix* match where libphonenumber requires the whole national
//! number to match (`Matcher.matches()`); that is what makes it accept invalid CN and PH
//! examples. Its regexes also live in one LRU cache of 100 entries behind a global mutex, so a
//! run over many regions recompiles them and threads queue on the lock. The patterns are a tiny
//! language over digits (`[2-9]`, `\d`, `(?:…)`, `(…)`, `|`, `?`, `{n}`, `{n,m}`, `$`), so we
//! read them once into a tree and match with a backtracking matcher that follows Java's
//! priorities (greedy quantifiers, first alternative first), which also gives the same capture
//! groups for the national-prefix rules.
//!
//! Never used on anything but ASCII digit strings.

/// Bit `d` set: digit `d` matches.
pub(crate) type Digits = u16;
pub(crate) const ANY_DIGIT: Digits = 0b11_1111_1111;

#[derive(Debug, Clone)]
enum Node {
    Class(Digits),
    Concat(Vec<Node>),
    /// Alternatives, each with the digits it can start with and whether it can match empty,
    /// so that the matcher skips the ones that cannot start here.
    Alt(Vec<(Digits, bool, Node)>),
    Group(Box<Node>, Option<usize>),
    Repeat(Box<Node>, u32, u32),
    End,
}

/// One compiled metadata pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    root: Node,
    groups: usize,
}

/// Where a [`Pattern::looking_at`] match ended and what each group captured.
pub(crate) struct Captures {
    pub(crate) end: usize,
    /// Index 0 is the whole match; `None` for a group that took no part.
    pub(crate) groups: Vec<Option<(usize, usize)>>,
}

/// One way through a pattern: the digits allowed at each position, and whether it ends with
/// `$` (so the input must end there too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Path {
    pub(crate) classes: Vec<Digits>,
    pub(crate) anchored: bool,
}

type Caps = Vec<Option<(usize, usize)>>;
type Next<'k> = &'k mut dyn FnMut(usize, &mut Caps) -> bool;

impl Pattern {
    /// Reads a metadata pattern; whitespace is ignored, as in the metadata's XML.
    pub(crate) fn parse(source: &str) -> Result<Pattern, String> {
        let chars: Vec<char> = source.chars().filter(|c| !c.is_whitespace()).collect();
        let mut parser = Parser {
            chars: &chars,
            at: 0,
            groups: 0,
        };
        let root = parser.alternation()?;
        if parser.at != chars.len() {
            return Err(format!(
                "unexpected `{}` in pattern {source}",
                chars[parser.at]
            ));
        }
        Ok(Pattern {
            root,
            groups: parser.groups,
        })
    }

    /// The number of capture groups.
    pub(crate) fn groups(&self) -> usize {
        self.groups
    }

    /// Java's `matcher(s).matches()`: the whole of `s` matches.
    pub(crate) fn full_match(&self, s: &[u8]) -> bool {
        let mut caps = vec![None; self.groups + 1];
        walk(&self.root, s, 0, &mut caps, &mut |end, _| end == s.len())
    }

    /// Java's `matcher(s).lookingAt()`: a match starting at the first digit, with its groups.
    pub(crate) fn looking_at(&self, s: &[u8]) -> Option<Captures> {
        let mut caps = vec![None; self.groups + 1];
        let mut found = None;
        walk(&self.root, s, 0, &mut caps, &mut |end, caps| {
            found = Some((end, caps.clone()));
            true
        });
        found.map(|(end, mut groups)| {
            groups[0] = Some((0, end));
            Captures { end, groups }
        })
    }

    /// Every way through the pattern that is at most `max_len` digits long, or `None` when
    /// there are more than `limit` of them (used only to analyse the NANP patterns).
    pub(crate) fn paths(&self, max_len: usize, limit: usize) -> Option<Vec<Path>> {
        expand(&self.root, max_len, limit)
    }
}

fn walk(node: &Node, s: &[u8], at: usize, caps: &mut Caps, next: Next<'_>) -> bool {
    match node {
        Node::Class(digits) => at < s.len() && digit_in(*digits, s[at]) && next(at + 1, caps),
        Node::End => at == s.len() && next(at, caps),
        Node::Concat(items) => sequence(items, s, at, caps, next),
        Node::Alt(alternatives) => {
            let here = s.get(at).copied();
            for (first, nullable, alternative) in alternatives {
                let may_start = *nullable || here.is_some_and(|d| digit_in(*first, d));
                if may_start && walk(alternative, s, at, caps, next) {
                    return true;
                }
            }
            false
        }
        Node::Group(inner, None) => walk(inner, s, at, caps, next),
        Node::Group(inner, Some(group)) => {
            let group = *group;
            walk(inner, s, at, caps, &mut |end, caps| {
                let before = caps[group];
                caps[group] = Some((at, end));
                next(end, caps) || {
                    caps[group] = before;
                    false
                }
            })
        }
        Node::Repeat(inner, min, max) => repeat(inner, *min, *max, 0, s, at, caps, next),
    }
}

fn sequence(items: &[Node], s: &[u8], at: usize, caps: &mut Caps, next: Next<'_>) -> bool {
    match items.split_first() {
        None => next(at, caps),
        Some((first, rest)) => walk(first, s, at, caps, &mut |end, caps| {
            sequence(rest, s, end, caps, next)
        }),
    }
}

/// Greedy repetition: one more round first, then stop (once `min` rounds are done). A round
/// that consumed nothing ends the repetition, as in Java.
fn repeat(
    inner: &Node,
    min: u32,
    max: u32,
    done: u32,
    s: &[u8],
    at: usize,
    caps: &mut Caps,
    next: Next<'_>,
) -> bool {
    if done < max
        && walk(inner, s, at, caps, &mut |end, caps| {
            (end != at || done < min) && repeat(inner, min, max, done + 1, s, end, caps, next)
        })
    {
        return true;
    }
    done >= min && next(at, caps)
}

fn digit_in(digits: Digits, byte: u8) -> bool {
    let d = byte.wrapping_sub(b'0');
    d < 10 && digits & (1 << d) != 0
}

/// The digits a node can start with, and whether it can match nothing.
fn first(node: &Node) -> (Digits, bool) {
    match node {
        Node::Class(digits) => (*digits, false),
        Node::End => (0, true),
        Node::Group(inner, _) => first(inner),
        Node::Repeat(inner, min, _) => {
            let (digits, nullable) = first(inner);
            (digits, nullable || *min == 0)
        }
        Node::Alt(alternatives) => alternatives
            .iter()
            .fold((0, false), |(d, n), (fd, fnull, _)| (d | fd, n || *fnull)),
        Node::Concat(items) => {
            let mut digits = 0;
            for item in items {
                let (d, nullable) = first(item);
                digits |= d;
                if !nullable {
                    return (digits, false);
                }
            }
            (digits, true)
        }
    }
}

fn expand(node: &Node, max_len: usize, limit: usize) -> Option<Vec<Path>> {
    let empty = || Path {
        classes: Vec::new(),
        anchored: false,
    };
    let paths = match node {
        Node::Class(digits) => vec![Path {
            classes: vec![*digits],
            anchored: false,
        }],
        Node::End => vec![Path {
            classes: Vec::new(),
            anchored: true,
        }],
        Node::Group(inner, _) => expand(inner, max_len, limit)?,
        Node::Alt(alternatives) => {
            let mut all = Vec::new();
            for (_, _, alternative) in alternatives {
                all.extend(expand(alternative, max_len, limit)?);
                if all.len() > limit {
                    return None;
                }
            }
            all
        }
        Node::Concat(items) => {
            let mut all = vec![empty()];
            for item in items {
                all = join(&all, &expand(item, max_len, limit)?, max_len, limit)?;
            }
            all
        }
        Node::Repeat(inner, min, max) => {
            let once = expand(inner, max_len, limit)?;
            let mut all = Vec::new();
            let mut rounds = vec![empty()];
            let mut done = 0;
            loop {
                if done >= *min {
                    all.extend(rounds.iter().cloned());
                }
                if done >= *max || rounds.is_empty() || done > max_len as u32 {
                    break;
                }
                rounds = join(&rounds, &once, max_len, limit)?;
                done += 1;
                if all.len() + rounds.len() > limit {
                    return None;
                }
            }
            all.dedup();
            all
        }
    };
    (paths.len() <= limit).then_some(paths)
}

fn join(left: &[Path], right: &[Path], max_len: usize, limit: usize) -> Option<Vec<Path>> {
    let mut all = Vec::new();
    for l in left {
        for r in right {
            // Nothing can follow an anchor but another anchor or nothing.
            if l.anchored && !r.classes.is_empty() {
                continue;
            }
            if l.classes.len() + r.classes.len() > max_len {
                continue;
            }
            let mut classes = l.classes.clone();
            classes.extend_from_slice(&r.classes);
            all.push(Path {
                classes,
                anchored: l.anchored || r.anchored,
            });
            if all.len() > limit {
                return None;
            }
        }
    }
    Some(all)
}

struct Parser<'a> {
    chars: &'a [char],
    at: usize,
    groups: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.at += 1;
        }
        found
    }

    fn alternation(&mut self) -> Result<Node, String> {
        let mut alternatives = vec![self.concatenation()?];
        while self.eat('|') {
            alternatives.push(self.concatenation()?);
        }
        Ok(if alternatives.len() == 1 {
            alternatives.pop().expect("one alternative")
        } else {
            Node::Alt(
                alternatives
                    .into_iter()
                    .map(|node| {
                        let (digits, nullable) = first(&node);
                        (digits, nullable, node)
                    })
                    .collect(),
            )
        })
    }

    fn concatenation(&mut self) -> Result<Node, String> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            items.push(self.quantified(atom)?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Node::Concat(items)
        })
    }

    fn atom(&mut self) -> Result<Node, String> {
        let c = self.peek().ok_or("pattern ends early")?;
        self.at += 1;
        match c {
            '0'..='9' => Ok(Node::Class(1 << (c as u8 - b'0'))),
            '\\' if self.eat('d') => Ok(Node::Class(ANY_DIGIT)),
            '.' => Ok(Node::Class(ANY_DIGIT)),
            '$' => Ok(Node::End),
            '[' => self.class(),
            '(' => {
                let group = if self.eat('?') {
                    if !self.eat(':') {
                        return Err("only (?:…) groups are supported".into());
                    }
                    None
                } else {
                    self.groups += 1;
                    Some(self.groups)
                };
                let inner = self.alternation()?;
                if !self.eat(')') {
                    return Err("unclosed group".into());
                }
                Ok(Node::Group(Box::new(inner), group))
            }
            other => Err(format!("unsupported `{other}`")),
        }
    }

    fn class(&mut self) -> Result<Node, String> {
        let negated = self.eat('^');
        let mut digits: Digits = 0;
        loop {
            let c = self.peek().ok_or("unclosed class")?;
            self.at += 1;
            match c {
                ']' => break,
                '\\' if self.eat('d') => digits |= ANY_DIGIT,
                '0'..='9' => {
                    let low = c as u8 - b'0';
                    let mut high = low;
                    if self.peek() == Some('-')
                        && self
                            .chars
                            .get(self.at + 1)
                            .is_some_and(|c| c.is_ascii_digit())
                    {
                        high = self.chars[self.at + 1] as u8 - b'0';
                        self.at += 2;
                    }
                    for d in low..=high {
                        digits |= 1 << d;
                    }
                }
                other => return Err(format!("unsupported `{other}` in a class")),
            }
        }
        Ok(Node::Class(if negated {
            !digits & ANY_DIGIT
        } else {
            digits
        }))
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, String> {
        let (min, max) = match self.peek() {
            Some('?') => (0, 1),
            Some('*') => (0, u32::MAX),
            Some('+') => (1, u32::MAX),
            Some('{') => {
                self.at += 1;
                let min = self.number()?;
                let max = if self.eat(',') {
                    if self.peek() == Some('}') {
                        u32::MAX
                    } else {
                        self.number()?
                    }
                } else {
                    min
                };
                if self.peek() != Some('}') {
                    return Err("unclosed {…}".into());
                }
                (min, max)
            }
            _ => return Ok(atom),
        };
        self.at += 1;
        if matches!(self.peek(), Some('?' | '+')) {
            return Err("lazy or possessive quantifiers are not supported".into());
        }
        Ok(Node::Repeat(Box::new(atom), min, max))
    }

    fn number(&mut self) -> Result<u32, String> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        self.chars[start..self.at]
            .iter()
            .collect::<String>()
            .parse()
            .map_err(|_| "bad repetition count".to_string())
    }
}
