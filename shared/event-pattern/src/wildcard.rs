//! `wildcard` values: `*` stands for any run of characters (the empty one too), `\*` for a star and `\\` for a
//! backslash. Parsed once into the literal pieces between stars, so matching is a prefix check, a suffix check
//! and an in-order search for the middle pieces — no backtracking, since `*` is the only operator.

/// At most this many `*` in one wildcard value. EventBridge refuses wildcards whose automaton could be in many
/// states at once ("Rule is too complex"); a run of stars is the measure here: each star, once reached, stays
/// live for the rest of the value, so the count of stars is the count of states a worst-case value keeps alive.
/// AWS's own example of a too-complex value, `*:*:*:*:*:event-bus/*`, has six.
pub const MAX_WILDCARDS_PER_VALUE: usize = 5;

pub(crate) const TOO_COMPLEX: &str = "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wildcard {
    /// Literal pieces; there is a star between each two consecutive pieces.
    pieces: Vec<Box<str>>,
}

impl Wildcard {
    /// Parses with event-ruler's checks. Positions in messages count bytes of the value with its opening quote,
    /// as event-ruler reports them.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let bytes = text.as_bytes();
        let mut pieces = Vec::new();
        let mut current: Vec<u8> = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'*' => {
                    if bytes.get(i + 1) == Some(&b'*') {
                        return Err(format!("Consecutive wildcard characters at pos {}", i + 1));
                    }
                    pieces.push(std::mem::take(&mut current));
                }
                b'\\' => match bytes.get(i + 1) {
                    Some(&next @ (b'*' | b'\\')) => {
                        current.push(next);
                        i += 1;
                    }
                    _ => return Err(format!("Invalid escape character at pos {}", i + 1)),
                },
                b => current.push(b),
            }
            i += 1;
        }
        pieces.push(current);
        let pieces = pieces
            .into_iter()
            // Splitting valid UTF-8 at ASCII bytes leaves valid UTF-8.
            .map(|p| String::from_utf8(p).expect("pieces split at ASCII bytes").into_boxed_str())
            .collect();
        Ok(Self { pieces })
    }

    pub(crate) fn stars(&self) -> usize {
        self.pieces.len() - 1
    }

    pub(crate) fn matches(&self, value: &str) -> bool {
        let (first, rest) = self.pieces.split_first().expect("at least one piece");
        let Some((last, middle)) = rest.split_last() else { return value == &**first };
        if value.len() < first.len() + last.len() || !value.starts_with(&**first) || !value.ends_with(&**last) {
            return false;
        }
        let mut window = &value[first.len()..value.len() - last.len()];
        for piece in middle {
            match window.find(&**piece) {
                Some(at) => window = &window[at + piece.len()..],
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, value: &str) -> bool {
        Wildcard::parse(pattern).unwrap().matches(value)
    }

    #[test]
    fn stars_match_any_run_including_the_empty_one() {
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("a*", "a"));
        assert!(m("*a*", "bab"));
        assert!(m("Simple*Service", "SimpleService"));
        assert!(m("Simple*Service", "Simple Notification Service"));
        assert!(!m("Simple*Service", "Simple Notification Services"));
        assert!(m("a*b*c", "abbc"));
        assert!(!m("a*b*c", "ac"));
        assert!(!m("ab*ba", "aba"));
        assert!(m("", ""));
        assert!(!m("", "x"));
    }

    #[test]
    fn escapes_stand_for_literal_stars_and_backslashes() {
        assert!(m(r"a\*b", "a*b"));
        assert!(!m(r"a\*b", "axb"));
        assert!(m(r"a\\*", r"a\anything"));
        assert_eq!(Wildcard::parse(r"a\b").unwrap_err(), "Invalid escape character at pos 2");
        assert_eq!(Wildcard::parse("ab**").unwrap_err(), "Consecutive wildcard characters at pos 3");
        assert_eq!(Wildcard::parse(r"\**").unwrap().stars(), 1);
    }
}
