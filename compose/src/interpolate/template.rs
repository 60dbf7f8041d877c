//! The string level of interpolation: parse a value into text and
//! expressions, then evaluate it against a lookup function. Shared by the
//! tree walk, `.env` parsing and `env_file` reading.

use std::fmt;

/// How deeply `${A:-${B:-...}}` may nest; far beyond any real file, but it keeps
/// a hostile value from exhausting the stack.
const MAX_NESTING: usize = 64;

/// The result of substituting one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Substituted {
    pub text: String,
    /// Variables referenced as `$VAR` or `${VAR}` that were unset and became
    /// empty (Compose warns about these), in order of appearance, each once.
    pub unset: Vec<String>,
}

/// Why a string could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubstitutionError {
    /// `${` without its `}`, a bad variable name or an unsupported operator.
    InvalidFormat {
        /// Byte offset of the `$` that starts the expression.
        offset: usize,
        /// The expression as written, from its `$` to its `}` (or the end).
        expression: String,
        reason: String,
    },
    /// `${VAR:?message}` or `${VAR?message}` with `VAR` missing.
    MissingRequired {
        offset: usize,
        name: String,
        /// The (already substituted) message; may be empty.
        message: String,
    },
}

impl SubstitutionError {
    /// Byte offset, in the substituted text, of the `$` that failed.
    pub fn offset(&self) -> usize {
        match self {
            SubstitutionError::InvalidFormat { offset, .. }
            | SubstitutionError::MissingRequired { offset, .. } => *offset,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            SubstitutionError::InvalidFormat { .. } => {
                "write a literal $ as $$; supported forms are $VAR, ${VAR}, ${VAR:-default}, \
                 ${VAR-default}, ${VAR:?message}, ${VAR?message}, ${VAR:+alt}, ${VAR+alt}"
                    .to_string()
            }
            SubstitutionError::MissingRequired { name, .. } => {
                format!("set {name} in the environment or in the .env file")
            }
        }
    }
}

impl fmt::Display for SubstitutionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubstitutionError::InvalidFormat {
                expression, reason, ..
            } => write!(
                f,
                "invalid interpolation format in {expression:?}: {reason}"
            ),
            SubstitutionError::MissingRequired { name, message, .. } => {
                write!(f, "required variable {name} is missing a value")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SubstitutionError {}

/// Substitutes every expression in `text`. `lookup` returns a variable's
/// value, or `None` when it is unset (which is not the same as empty for the
/// operators without `:`).
pub fn substitute(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Substituted, SubstitutionError> {
    let pieces = Parser { text, pos: 0 }.word(None, 0)?;
    let mut out = Substituted {
        text: String::with_capacity(text.len()),
        unset: Vec::new(),
    };
    evaluate(&pieces, lookup, &mut out)?;
    Ok(out)
}

/// One part of a parsed template.
#[derive(Debug)]
enum Piece<'a> {
    Literal(&'a str),
    /// `$VAR` or `${VAR}`.
    Var {
        name: &'a str,
    },
    /// `${VAR<op>word}`.
    Op {
        offset: usize,
        name: &'a str,
        op: Op,
        word: Vec<Piece<'a>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `:-` (`colon`: empty counts as unset) or `-`.
    Default { colon: bool },
    /// `:?` or `?`.
    Required { colon: bool },
    /// `:+` or `+`.
    Alternative { colon: bool },
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    /// Parses text up to the end, or, inside `${NAME<op>`, up to the `}` that
    /// closes the expression opened at byte `open` (which is consumed). Plain
    /// `{`/`}` pairs inside a default are kept, as in `${X:-{"a":1}}`.
    fn word(
        &mut self,
        open: Option<usize>,
        depth: usize,
    ) -> Result<Vec<Piece<'a>>, SubstitutionError> {
        let mut pieces = Vec::new();
        let mut literal_start = self.pos;
        let mut braces = 0usize;
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len() {
            match bytes[self.pos] {
                b'$' => {
                    push_literal(&mut pieces, &self.text[literal_start..self.pos]);
                    self.dollar(&mut pieces, depth)?;
                    literal_start = self.pos;
                }
                b'{' if open.is_some() => {
                    braces += 1;
                    self.pos += 1;
                }
                b'}' if open.is_some() => {
                    if braces == 0 {
                        push_literal(&mut pieces, &self.text[literal_start..self.pos]);
                        self.pos += 1;
                        return Ok(pieces);
                    }
                    braces -= 1;
                    self.pos += 1;
                }
                _ => self.pos += 1,
            }
        }
        if let Some(open) = open {
            return Err(self.invalid(open, "the \"${\" is never closed by \"}\""));
        }
        push_literal(&mut pieces, &self.text[literal_start..]);
        Ok(pieces)
    }

    /// Handles the `$` at `self.pos`.
    fn dollar(
        &mut self,
        pieces: &mut Vec<Piece<'a>>,
        depth: usize,
    ) -> Result<(), SubstitutionError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        match bytes.get(start + 1) {
            Some(b'$') => {
                pieces.push(Piece::Literal("$"));
                self.pos += 2;
            }
            Some(b'{') => {
                self.pos += 2;
                pieces.push(self.braced(start, depth)?);
            }
            Some(&c) if is_name_start(c) => {
                self.pos += 1;
                let name = self.name();
                pieces.push(Piece::Var { name });
            }
            _ => {
                pieces.push(Piece::Literal("$"));
                self.pos += 1;
            }
        }
        Ok(())
    }

    /// Parses what follows `${` (opened at byte `open`).
    fn braced(&mut self, open: usize, depth: usize) -> Result<Piece<'a>, SubstitutionError> {
        let bytes = self.text.as_bytes();
        match bytes.get(self.pos) {
            None => return Err(self.invalid(open, "the \"${\" is never closed by \"}\"")),
            Some(b'}') => {
                self.pos += 1;
                return Err(self.invalid(open, "the variable name is empty"));
            }
            Some(&c) if !is_name_start(c) => {
                let bad = self.char_at(self.pos);
                self.skip_to_close();
                return Err(self.invalid(
                    open,
                    &format!("a variable name must start with a letter or _, not {bad:?}"),
                ));
            }
            Some(_) => {}
        }
        let name = self.name();
        let rest = &bytes[self.pos..];
        let (op, len) = match rest {
            [b'}', ..] => {
                self.pos += 1;
                return Ok(Piece::Var { name });
            }
            [b':', b'-', ..] => (Op::Default { colon: true }, 2),
            [b':', b'?', ..] => (Op::Required { colon: true }, 2),
            [b':', b'+', ..] => (Op::Alternative { colon: true }, 2),
            [b'-', ..] => (Op::Default { colon: false }, 1),
            [b'?', ..] => (Op::Required { colon: false }, 1),
            [b'+', ..] => (Op::Alternative { colon: false }, 1),
            [] => return Err(self.invalid(open, "the \"${\" is never closed by \"}\"")),
            _ => {
                let bad = self.char_at(self.pos);
                self.skip_to_close();
                return Err(self.invalid(
                    open,
                    &format!(
                        "unexpected {bad:?} after the variable name {name}; \
                         expected }}, :-, -, :?, ?, :+ or +"
                    ),
                ));
            }
        };
        if depth + 1 >= MAX_NESTING {
            return Err(self.invalid(
                open,
                &format!("expressions are nested more than {MAX_NESTING} deep"),
            ));
        }
        self.pos += len;
        let word = self.word(Some(open), depth + 1)?;
        Ok(Piece::Op {
            offset: open,
            name,
            op,
            word,
        })
    }

    /// Reads `[A-Za-z0-9_]*` from the current position.
    fn name(&mut self) -> &'a str {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len()
            && (bytes[self.pos].is_ascii_alphanumeric() || bytes[self.pos] == b'_')
        {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    fn char_at(&self, pos: usize) -> char {
        self.text[pos..].chars().next().unwrap_or('}')
    }

    /// After a syntax error, moves to just past the next `}` so that the
    /// error quotes the whole expression.
    fn skip_to_close(&mut self) {
        match self.text[self.pos..].find('}') {
            Some(i) => self.pos += i + 1,
            None => self.pos = self.text.len(),
        }
    }

    fn invalid(&self, open: usize, reason: &str) -> SubstitutionError {
        SubstitutionError::InvalidFormat {
            offset: open,
            expression: self.text[open..self.pos].to_string(),
            reason: reason.to_string(),
        }
    }
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn push_literal<'a>(pieces: &mut Vec<Piece<'a>>, text: &'a str) {
    if !text.is_empty() {
        pieces.push(Piece::Literal(text));
    }
}

/// Evaluates parsed pieces; defaults, messages and alternatives are only
/// evaluated when they are used, so a `:?` inside an unused default is silent.
fn evaluate(
    pieces: &[Piece<'_>],
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Substituted,
) -> Result<(), SubstitutionError> {
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.text.push_str(text),
            Piece::Var { name } => match lookup(name) {
                Some(value) => out.text.push_str(&value),
                None => {
                    if !out.unset.iter().any(|n| n == name) {
                        out.unset.push((*name).to_string());
                    }
                }
            },
            Piece::Op {
                offset,
                name,
                op,
                word,
            } => {
                let value = lookup(name);
                let missing = |colon: bool| match &value {
                    None => true,
                    Some(v) => colon && v.is_empty(),
                };
                match *op {
                    Op::Default { colon } => {
                        if missing(colon) {
                            evaluate(word, lookup, out)?;
                        } else {
                            out.text.push_str(value.as_deref().unwrap_or_default());
                        }
                    }
                    Op::Required { colon } => {
                        if missing(colon) {
                            let mut message = Substituted {
                                text: String::new(),
                                unset: Vec::new(),
                            };
                            evaluate(word, lookup, &mut message)?;
                            return Err(SubstitutionError::MissingRequired {
                                offset: *offset,
                                name: (*name).to_string(),
                                message: message.text,
                            });
                        }
                        out.text.push_str(value.as_deref().unwrap_or_default());
                    }
                    Op::Alternative { colon } => {
                        if !missing(colon) {
                            evaluate(word, lookup, out)?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `FOO=first`, `BAR=` (set but empty), `JSON`, `DOLLAR`; nothing else.
    fn lookup(name: &str) -> Option<String> {
        match name {
            "FOO" => Some("first".into()),
            "BAR" => Some(String::new()),
            "JSON" => Some(r#"{"json":2}"#.into()),
            "DOLLAR" => Some("$HOME".into()),
            _ => None,
        }
    }

    fn sub(text: &str) -> String {
        match substitute(text, &lookup) {
            Ok(s) => s.text,
            Err(e) => panic!("{text:?}: unexpected error {e}"),
        }
    }

    fn err(text: &str) -> SubstitutionError {
        match substitute(text, &lookup) {
            Ok(s) => panic!("{text:?}: expected an error, got {:?}", s.text),
            Err(e) => e,
        }
    }

    #[test]
    fn direct_forms() {
        assert_eq!(sub("$FOO"), "first");
        assert_eq!(sub("${FOO}"), "first");
        assert_eq!(sub("This $FOO var"), "This first var");
        assert_eq!(sub("x${FOO}y"), "xfirsty");
        assert_eq!(sub("$FOO-bar"), "first-bar");
        assert_eq!(sub("$FOO.bar"), "first.bar");
        assert_eq!(sub("${FOO}${FOO}"), "firstfirst");
        assert_eq!(sub("no variables"), "no variables");
        assert_eq!(sub(""), "");
    }

    #[test]
    fn names_are_ascii_letters_digits_underscores() {
        assert_eq!(sub("$FOO_X"), "", "FOO_X is one (unset) name");
        assert_eq!(sub("$_"), "");
        assert_eq!(sub("${FOO}_X"), "first_X");
        assert_eq!(
            sub("$FOOé"),
            "firsté",
            "the name stops at the first non-ASCII character"
        );
        assert_eq!(
            sub("$1"),
            "$1",
            "a digit cannot start a name, so the $ is literal"
        );
    }

    #[test]
    fn unset_becomes_empty_and_is_reported_once() {
        let s = substitute("a ${MISSING} b $MISSING ${OTHER}", &lookup).unwrap();
        assert_eq!(s.text, "a  b  ");
        assert_eq!(s.unset, vec!["MISSING".to_string(), "OTHER".to_string()]);
        // Set but empty is not unset.
        let s = substitute("${BAR}", &lookup).unwrap();
        assert_eq!((s.text.as_str(), s.unset.len()), ("", 0));
    }

    #[test]
    fn defaults() {
        assert_eq!(sub("ok ${MISSING:-def}"), "ok def");
        assert_eq!(sub("ok ${MISSING-def}"), "ok def");
        assert_eq!(sub("ok ${BAR:-def}"), "ok def", ":- replaces empty values");
        assert_eq!(sub("ok ${BAR-def}"), "ok ", "- keeps empty values");
        assert_eq!(sub("ok ${FOO:-def}"), "ok first");
        assert_eq!(sub("ok ${FOO-def}"), "ok first");
        assert_eq!(sub("${MISSING:-}"), "");
        assert_eq!(
            sub("ok ${BAR:-/non:-alphanumeric}"),
            "ok /non:-alphanumeric"
        );
        assert_eq!(sub("${MISSING-myerror?msg}"), "myerror?msg");
        assert_eq!(sub("${MISSING:-a b  c}"), "a b  c");
        let s = substitute("${MISSING:-x}", &lookup).unwrap();
        assert!(
            s.unset.is_empty(),
            "a variable with a default is not warned about"
        );
    }

    #[test]
    fn required() {
        assert_eq!(sub("ok ${FOO:?err}"), "ok first");
        assert_eq!(sub("ok ${FOO?err}"), "ok first");
        assert_eq!(sub("ok ${BAR?err}"), "ok ", "? accepts an empty value");
        let e = err("not ok ${MISSING:?Mandatory Variable Unset}");
        assert_eq!(
            e.to_string(),
            "required variable MISSING is missing a value: Mandatory Variable Unset"
        );
        assert_eq!(e.offset(), 7);
        let e = err("not ok ${BAR:?must not be empty}");
        assert_eq!(
            e.to_string(),
            "required variable BAR is missing a value: must not be empty"
        );
        assert_eq!(
            err("${MISSING?}").to_string(),
            "required variable MISSING is missing a value"
        );
        assert_eq!(
            err("${MISSING:?}").to_string(),
            "required variable MISSING is missing a value"
        );
        assert_eq!(
            err("${MISSING?bar-baz}").to_string(),
            "required variable MISSING is missing a value: bar-baz"
        );
        assert!(err("${MISSING?x}").hint().contains("set MISSING"));
    }

    #[test]
    fn required_message_is_interpolated() {
        let e = err("${MISSING:?Mandatory Variable ${FOO}}");
        assert_eq!(
            e.to_string(),
            "required variable MISSING is missing a value: Mandatory Variable first"
        );
        let e = err("${MISSING?see $FOO}");
        assert_eq!(
            e.to_string(),
            "required variable MISSING is missing a value: see first"
        );
    }

    #[test]
    fn alternatives() {
        assert_eq!(sub("ok ${MISSING:+presence}"), "ok ");
        assert_eq!(sub("ok ${MISSING+presence}"), "ok ");
        assert_eq!(sub("ok ${FOO:+presence}"), "ok presence");
        assert_eq!(sub("ok ${FOO+presence}"), "ok presence");
        assert_eq!(
            sub("ok ${BAR+presence}"),
            "ok presence",
            "+ counts empty as set"
        );
        assert_eq!(sub("ok ${BAR:+presence}"), "ok ", ":+ does not");
        assert_eq!(sub("${FOO:+${FOO},}B"), "first,B");
        assert_eq!(sub("${MISSING:+${MISSING},}B"), "B");
    }

    #[test]
    fn nesting() {
        assert_eq!(sub("ok ${MISSING-$FOO}"), "ok first");
        assert_eq!(sub("ok ${MISSING-${FOO}}"), "ok first");
        assert_eq!(sub("ok ${MISSING-${FOO} ${FOO}}"), "ok first first");
        assert_eq!(sub("ok ${BAR:-${FOO}}"), "ok first");
        assert_eq!(sub("${A:-${B:-x}}"), "x");
        assert_eq!(sub("${A:-${B:-${C:-deep}}}"), "deep");
        assert_eq!(sub("${A:-${FOO:-x}}"), "first");
        assert_eq!(sub("ok ${BAR+$FOO ${FOO:+second}}"), "ok first second");
        assert_eq!(sub("+ok ${MISSING:-${BAR-defaultValue}}"), "+ok ");
        assert_eq!(sub("${A:-${B}}"), "");
        let s = substitute("${A:-${B}}", &lookup).unwrap();
        assert_eq!(
            s.unset,
            vec!["B".to_string()],
            "the inner direct reference is warned about"
        );
    }

    #[test]
    fn unused_branches_are_not_evaluated() {
        assert_eq!(sub("${FOO:-${MISSING:?never}}"), "first");
        assert_eq!(sub("${MISSING:+${OTHER:?never}}"), "");
        let s = substitute("${FOO:-$UNSET}", &lookup).unwrap();
        assert!(s.unset.is_empty());
    }

    #[test]
    fn operators_are_not_confused_by_surrounding_text() {
        assert_eq!(sub("-ok ${BAR:-defaultValue}"), "-ok defaultValue");
        assert_eq!(sub(":-ok ${MISSING-defaultValue}"), ":-ok defaultValue");
        assert_eq!(sub(":?ok ${BAR-defaultValue}"), ":?ok ");
        assert_eq!(sub("?ok ${BAR:-defaultValue}"), "?ok defaultValue");
        assert_eq!(sub("${MISSING:-a}-${MISSING-b}:c"), "a-b:c");
    }

    #[test]
    fn braces_inside_defaults() {
        assert_eq!(sub(r#"ok ${missing:-{"json":1}}"#), r#"ok {"json":1}"#);
        assert_eq!(sub(r#"ok ${missing-{"json":1}}"#), r#"ok {"json":1}"#);
        assert_eq!(sub(r#"ok ${JSON:-{"json":1}}"#), r#"ok {"json":2}"#);
        assert_eq!(sub("${MISSING:-{}}"), "{}");
        assert_eq!(
            sub("${MISSING:-a}}"),
            "a}",
            "a closing brace after the expression is text"
        );
    }

    #[test]
    fn dollar_escapes() {
        assert_eq!(sub("$$"), "$");
        assert_eq!(sub("$${foo}"), "${foo}");
        assert_eq!(sub("$$FOO"), "$FOO");
        assert_eq!(sub("$$$FOO"), "$first");
        assert_eq!(sub("$$$$"), "$$");
        assert_eq!(sub("${MISSING:-$$x}"), "$x");
        assert_eq!(sub("$DOLLAR"), "$HOME", "values are not interpolated again");
    }

    #[test]
    fn lone_dollars_stay_literal() {
        for text in [
            "a $ string",
            "^REGEX$",
            "$}",
            "$",
            "$-x",
            "cost: $5",
            "$ {FOO}",
            "$(pwd)",
            "$é",
        ] {
            assert_eq!(sub(text), text);
        }
        assert_eq!(sub("${MISSING:-$}"), "$");
    }

    #[test]
    fn invalid_formats() {
        for (text, reason) in [
            ("${", "never closed"),
            ("${FOO", "never closed"),
            ("${FOO:-x", "never closed"),
            ("${FOO:-${BAR}", "never closed"),
            ("a ${FOO:-{x}", "never closed"),
            ("${}", "name is empty"),
            ("${ }", "must start with a letter or _, not ' '"),
            ("${ foo}", "must start with a letter or _"),
            ("${1abc}", "must start with a letter or _, not '1'"),
            ("${foo }", "unexpected ' ' after the variable name foo"),
            ("${foo!}", "unexpected '!'"),
            ("${foo/a/b}", "unexpected '/'"),
            ("${foo:x}", "unexpected ':'"),
            ("${foo=x}", "unexpected '='"),
            ("${foo#x}", "unexpected '#'"),
            ("${FOO:-${1}}", "must start with a letter"),
            ("${FOO:-${}}", "name is empty"),
        ] {
            let e = err(text);
            assert!(
                matches!(e, SubstitutionError::InvalidFormat { .. }),
                "{text:?}: {e:?}"
            );
            let message = e.to_string();
            assert!(
                message.starts_with("invalid interpolation format in"),
                "{message}"
            );
            assert!(message.contains(reason), "{text:?}: {message}");
            assert!(e.hint().contains("$$"));
        }
    }

    #[test]
    fn invalid_format_quotes_the_expression_and_its_offset() {
        let e = err("^/(sys|proc)(${|/)");
        assert_eq!(e.offset(), 13);
        assert_eq!(
            e.to_string(),
            r#"invalid interpolation format in "${|/)": a variable name must start with a letter or _, not '|'"#
        );
        let e = err("x ${foo bar} y");
        assert_eq!(e.offset(), 2);
        assert!(e.to_string().contains(r#""${foo bar}""#), "{e}");
        let e = err("ok ${FOO:-${}}");
        assert_eq!(e.offset(), 10, "points at the inner expression");
    }

    #[test]
    fn syntax_is_checked_in_unused_defaults() {
        assert!(matches!(
            err("${FOO:-${ bad}}"),
            SubstitutionError::InvalidFormat { .. }
        ));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "${A:-".repeat(200) + &"}".repeat(200);
        let e = err(&deep);
        assert!(e.to_string().contains("nested more than"), "{e}");
        let fine = "${A:-".repeat(10) + "x" + &"}".repeat(10);
        assert_eq!(sub(&fine), "x");
    }
}
