//! Case-name filters for `--filter`: a small regular-expression subset, enough for patterns
//! such as `^test_(add|sub)`, `relu$` or `gemm.*bias`, without a regex dependency.
//!
//! Supported: literals, `.`, `*`, `+`, `?` (on one atom: a literal, `.` or a group), `^`, `$`,
//! alternation `|` and groups `( )`; `\` escapes the next character. A pattern that does not
//! parse is matched as a plain substring. Matching is unanchored, as with `grep -E`.

#[derive(Clone, Debug)]
enum Node {
    Char(char),
    Any,
    Start,
    End,
    Group(Vec<Vec<Piece>>),
}

#[derive(Clone, Debug)]
struct Piece {
    node: Node,
    min: usize,
    max: usize,
}

/// A compiled filter.
#[derive(Clone, Debug)]
pub struct Filter {
    alternatives: Option<Vec<Vec<Piece>>>,
    text: String,
}

impl Filter {
    pub fn new(pattern: &str) -> Filter {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let alternatives = parse_alt(&chars, &mut pos).filter(|_| pos == chars.len());
        Filter {
            alternatives,
            text: pattern.to_string(),
        }
    }

    pub fn matches(&self, s: &str) -> bool {
        let Some(alts) = &self.alternatives else {
            return s.contains(&self.text);
        };
        let chars: Vec<char> = s.chars().collect();
        let seq = [Piece {
            node: Node::Group(alts.clone()),
            min: 1,
            max: 1,
        }];
        (0..=chars.len()).any(|start| match_seq(&seq, &chars, start, &mut |_| true))
    }
}

fn parse_alt(c: &[char], pos: &mut usize) -> Option<Vec<Vec<Piece>>> {
    let mut alts = vec![Vec::new()];
    while *pos < c.len() {
        let ch = c[*pos];
        let node = match ch {
            '|' => {
                *pos += 1;
                alts.push(Vec::new());
                continue;
            }
            ')' => break,
            '(' => {
                *pos += 1;
                let inner = parse_alt(c, pos)?;
                if c.get(*pos) != Some(&')') {
                    return None;
                }
                Node::Group(inner)
            }
            '.' => Node::Any,
            '^' => Node::Start,
            '$' => Node::End,
            '\\' => {
                *pos += 1;
                Node::Char(*c.get(*pos)?)
            }
            '*' | '+' | '?' => return None,
            _ => Node::Char(ch),
        };
        *pos += 1;
        let (min, max) = match c.get(*pos) {
            Some('*') => (0, usize::MAX),
            Some('+') => (1, usize::MAX),
            Some('?') => (0, 1),
            _ => (1, 1),
        };
        if (min, max) != (1, 1) {
            *pos += 1;
        }
        alts.last_mut()?.push(Piece { node, min, max });
    }
    Some(alts)
}

/// Whether `seq` matches `s` from `i`, with `k` called on each end position (continuation).
fn match_seq(seq: &[Piece], s: &[char], i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
    let Some((p, rest)) = seq.split_first() else {
        return k(i);
    };
    match_rep(p, 0, rest, s, i, k)
}

fn match_rep(
    p: &Piece,
    count: usize,
    rest: &[Piece],
    s: &[char],
    i: usize,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    // Greedy: try one more repetition first, then stop.
    if count < p.max
        && match_one(&p.node, s, i, &mut |j| {
            (j != i || count < p.min) && match_rep(p, count + 1, rest, s, j, k)
        })
    {
        return true;
    }
    count >= p.min && match_seq(rest, s, i, k)
}

fn match_one(n: &Node, s: &[char], i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
    match n {
        Node::Char(c) => s.get(i) == Some(c) && k(i + 1),
        Node::Any => i < s.len() && k(i + 1),
        Node::Start => i == 0 && k(i),
        Node::End => i == s.len() && k(i),
        Node::Group(alts) => alts.iter().any(|a| match_seq(a, s, i, k)),
    }
}

#[cfg(test)]
mod tests {
    use super::Filter;

    #[test]
    fn subset_of_regex() {
        let f = Filter::new("^test_(add|sub)");
        assert!(f.matches("test_add_bcast") && f.matches("test_sub"));
        assert!(!f.matches("test_mul") && !f.matches("xtest_add"));
        assert!(Filter::new("relu$").matches("test_leakyrelu"));
        assert!(!Filter::new("relu$").matches("test_relu_x"));
        assert!(Filter::new("gemm.*bias").matches("test_gemm_default_zero_bias"));
        assert!(Filter::new("^test_a+bs?$").matches("test_aab"));
        assert!(Filter::new("clip").matches("test_clip_default_min"));
        assert!(Filter::new("(a|b").matches("x(a|b"), "malformed: substring");
        assert!(Filter::new("x(ab)*y").matches("xababy") && Filter::new("x(ab)*y").matches("xy"));
    }
}
