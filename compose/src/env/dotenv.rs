//! `.env` files (also `--env-file` and a service's `env_file`).
//!
//! `.env` files follow Docker Compose's dialect (docs.docker.com, "Syntax for
//! environment files"): `KEY=VALUE` or `export KEY=VALUE` (also `KEY: VALUE`),
//! blank lines and `#` comments; unquoted values are trimmed and lose an inline
//! comment that starts with ` #`; single-quoted values are literal except for
//! `\'`; double-quoted values understand `\n \r \t \a \b \f \v \\ \" \$`
//! and `\0NNN` (octal) and may span lines; unquoted and double-quoted values
//! are interpolated (see `interpolate`). A `KEY` with no `=` takes its value
//! from the environment (or an earlier line) and is left out when unset.

use super::Environment;
use crate::error::{LoadError, Location, Warning};
use crate::interpolate::{substitute, SubstitutionError};
use indexmap::IndexMap;
use std::sync::Arc;

/// Parses a `.env` file. Values are interpolated with variables from `lookup`
/// first and then from earlier lines of the same file, as Compose does.
/// Returns the variables in file order (a key set twice keeps its first place
/// and its last value), or every error found: `file:line:column`, the key
/// when there is one, and a hint. Unset variables that became empty are
/// reported in `warnings`.
pub fn parse_dotenv(
    text: &str,
    file: &Arc<str>,
    lookup: &Environment,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<(String, String)>, Vec<LoadError>> {
    let mut errors = Vec::new();
    let vars = parse_into(IndexMap::new(), text, file, lookup, warnings, &mut errors);
    if errors.is_empty() {
        Ok(vars.into_iter().collect())
    } else {
        Err(errors)
    }
}

/// Parses several `.env` files given in order (`--env-file a --env-file b`)
/// as `(name, text)` pairs, the way Compose chains them: a later file
/// overrides an earlier one and its values can refer to the earlier files'
/// variables (after `lookup`, which still comes first). Errors of every file
/// are collected.
pub fn parse_dotenv_files(
    files: &[(Arc<str>, String)],
    lookup: &Environment,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<(String, String)>, Vec<LoadError>> {
    let mut errors = Vec::new();
    let mut vars = IndexMap::new();
    for (file, text) in files {
        vars = parse_into(vars, text, file, lookup, warnings, &mut errors);
    }
    if errors.is_empty() {
        Ok(vars.into_iter().collect())
    } else {
        Err(errors)
    }
}

/// Parses `text` on top of `vars` (what earlier files defined).
fn parse_into(
    vars: IndexMap<String, String>,
    text: &str,
    file: &Arc<str>,
    lookup: &Environment,
    warnings: &mut Vec<Warning>,
    errors: &mut Vec<LoadError>,
) -> IndexMap<String, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut dotenv = Dotenv {
        scan: Scanner {
            text,
            pos: 0,
            line: 1,
            column: 1,
        },
        file,
        lookup,
        vars,
        errors,
        warnings,
    };
    dotenv.parse();
    dotenv.vars
}

/// A position in the text, with the line and column users see.
#[derive(Debug, Clone, Copy)]
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    column: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn here(&self) -> (usize, usize) {
        (self.line, self.column)
    }

    /// Skips spaces and tabs (and the `\r` of a CRLF), not line breaks.
    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(c) if c != '\n' && c.is_whitespace()) {
            self.bump();
        }
    }

    /// Moves past the next line break (or to the end).
    fn skip_line(&mut self) {
        while let Some(c) = self.bump() {
            if c == '\n' {
                break;
            }
        }
    }
}

/// A value on its way to interpolation: the text (with `\$` already turned
/// into `$$`) and, for every byte of it, the source position it came from, so
/// that an error inside a multi-line double-quoted value still points at the
/// right line and column.
#[derive(Default)]
struct Template {
    text: String,
    positions: Vec<(usize, usize)>,
}

impl Template {
    fn push(&mut self, c: char, at: (usize, usize)) {
        self.text.push(c);
        self.positions.extend(std::iter::repeat_n(at, c.len_utf8()));
    }

    fn truncate(&mut self, len: usize) {
        self.text.truncate(len);
        self.positions.truncate(len);
    }
}

/// Why parsing a statement stopped: a bad line (skip it and go on) or a
/// quote that is never closed (nothing after it can be trusted).
enum Stop {
    Line(LoadError),
    Fatal(LoadError),
}

struct Dotenv<'a, 'w> {
    scan: Scanner<'a>,
    file: &'a Arc<str>,
    lookup: &'a Environment,
    vars: IndexMap<String, String>,
    errors: &'w mut Vec<LoadError>,
    warnings: &'w mut Vec<Warning>,
}

const NAME_HINT: &str = "write NAME=VALUE, one per line; names use letters, digits, _ . - [ ]";

impl Dotenv<'_, '_> {
    fn parse(&mut self) {
        loop {
            while matches!(self.scan.peek(), Some(c) if c.is_whitespace()) {
                self.scan.bump();
            }
            match self.scan.peek() {
                None => return,
                Some('#') => self.scan.skip_line(),
                Some(_) => match self.statement() {
                    Ok(()) => {}
                    Err(Stop::Line(e)) => {
                        self.errors.push(e);
                        self.scan.skip_line();
                    }
                    Err(Stop::Fatal(e)) => {
                        self.errors.push(e);
                        return;
                    }
                },
            }
        }
    }

    fn location(&self, (line, column): (usize, usize)) -> Option<Location> {
        Some(Location::new(self.file.clone(), line, column))
    }

    fn error(&self, at: (usize, usize), key: &str, message: String, hint: &str) -> LoadError {
        LoadError::new(self.location(at), key, message).with_hint(hint)
    }

    /// What `${NAME}` means inside this file: the given environment first,
    /// then earlier lines.
    fn resolve(&self, name: &str) -> Option<String> {
        self.lookup
            .get(name)
            .or_else(|| self.vars.get(name).map(String::as_str))
            .map(str::to_string)
    }

    /// One `[export] KEY[=VALUE]` statement, starting at a non-blank character.
    fn statement(&mut self) -> Result<(), Stop> {
        self.skip_export();
        let key_at = self.scan.here();
        let start = self.scan.pos;
        while matches!(self.scan.peek(), Some(c) if is_name_char(c)) {
            self.scan.bump();
        }
        let key = self.scan.text[start..self.scan.pos].to_string();
        let after_key = self.scan.here();
        self.scan.skip_blanks();
        match self.scan.peek() {
            None | Some('\n' | '#') if !key.is_empty() => {
                if let Some(value) = self.resolve(&key) {
                    self.vars.insert(key, value);
                }
                self.scan.skip_line();
                Ok(())
            }
            Some('=' | ':') if !key.is_empty() => {
                self.scan.bump();
                if let Some(value) = self.value(&key)? {
                    self.vars.insert(key, value);
                }
                Ok(())
            }
            Some('=' | ':') => Err(Stop::Line(self.error(
                key_at,
                "",
                "a variable name is missing before the '='".to_string(),
                NAME_HINT,
            ))),
            Some(c) if !key.is_empty() && is_name_char(c) => Err(Stop::Line(self.error(
                after_key,
                &key,
                format!(
                    "a variable name cannot contain spaces (found {key} followed by more text)"
                ),
                "write NAME=VALUE; put values that contain spaces after the '='",
            ))),
            other => {
                let at = if key.is_empty() {
                    key_at
                } else {
                    self.scan.here()
                };
                let found = other.map_or_else(|| "end of line".to_string(), |c| format!("{c:?}"));
                let line = self.scan.text[start..].lines().next().unwrap_or_default();
                Err(Stop::Line(self.error(
                    at,
                    &key,
                    format!("unexpected {found} in variable name {line:?}"),
                    NAME_HINT,
                )))
            }
        }
    }

    /// Skips a leading `export ` (but a variable may be called `export`, or
    /// start with it, as in `exportFOO=1` or `export=1`).
    fn skip_export(&mut self) {
        let Some(after) = self.scan.rest().strip_prefix("export") else {
            return;
        };
        if !after.starts_with([' ', '\t']) {
            return;
        }
        let saved = self.scan;
        for _ in 0.."export".len() {
            self.scan.bump();
        }
        self.scan.skip_blanks();
        if matches!(self.scan.peek(), None | Some('\n' | '=' | ':' | '#')) {
            self.scan = saved;
        }
    }

    /// The value after `KEY=`, up to and including the end of its last line.
    /// `None` when interpolation failed; the error is already recorded and
    /// the variable stays undefined.
    fn value(&mut self, key: &str) -> Result<Option<String>, Stop> {
        let had_blank = matches!(self.scan.peek(), Some(c) if c != '\n' && c.is_whitespace());
        self.scan.skip_blanks();
        let template = match self.scan.peek() {
            Some('\'') => {
                let value = self.single_quoted(key)?;
                self.after_quote(key)?;
                return Ok(Some(value));
            }
            Some('"') => {
                let template = self.double_quoted(key)?;
                self.after_quote(key)?;
                template
            }
            // `KEY= # note` is an empty value with a comment.
            Some('#') if had_blank => {
                self.scan.skip_line();
                return Ok(Some(String::new()));
            }
            _ => self.unquoted(),
        };
        Ok(self.interpolate(key, &template))
    }

    fn unquoted(&mut self) -> Template {
        let mut template = Template::default();
        while let Some(c) = self.scan.peek() {
            if c == '\n' {
                break;
            }
            let at = self.scan.here();
            self.scan.bump();
            template.push(c, at);
        }
        self.scan.skip_line();
        if let Some(comment) = template.text.find(" #") {
            template.truncate(comment);
        }
        let trimmed = template.text.trim_end().len();
        template.truncate(trimmed);
        template
    }

    fn single_quoted(&mut self, key: &str) -> Result<String, Stop> {
        let open = self.scan.here();
        self.scan.bump();
        let mut value = String::new();
        loop {
            match self.scan.bump() {
                None => return Err(self.unterminated(open, key, '\'')),
                Some('\'') => return Ok(value),
                Some('\\') => match self.scan.bump() {
                    None => return Err(self.unterminated(open, key, '\'')),
                    Some('\'') => value.push('\''),
                    Some(c) => {
                        value.push('\\');
                        value.push(c);
                    }
                },
                Some(c) => value.push(c),
            }
        }
    }

    fn double_quoted(&mut self, key: &str) -> Result<Template, Stop> {
        let open = self.scan.here();
        self.scan.bump();
        let mut template = Template::default();
        loop {
            let at = self.scan.here();
            match self.scan.bump() {
                None => return Err(self.unterminated(open, key, '"')),
                Some('"') => return Ok(template),
                Some('\\') => {
                    let Some(c) = self.scan.bump() else {
                        return Err(self.unterminated(open, key, '"'));
                    };
                    match c {
                        '"' | '\\' => template.push(c, at),
                        'n' => template.push('\n', at),
                        'r' => template.push('\r', at),
                        't' => template.push('\t', at),
                        'a' => template.push('\u{7}', at),
                        'b' => template.push('\u{8}', at),
                        'f' => template.push('\u{c}', at),
                        'v' => template.push('\u{b}', at),
                        // `$$` is interpolation's own escape for a literal `$`.
                        '$' => {
                            template.push('$', at);
                            template.push('$', at);
                        }
                        '0' => match self.octal() {
                            Some(c) => template.push(c, at),
                            None => {
                                template.push('\\', at);
                                template.push('0', at);
                            }
                        },
                        other => {
                            template.push('\\', at);
                            template.push(other, at);
                        }
                    }
                }
                Some(c) => template.push(c, at),
            }
        }
    }

    /// After `\0`: exactly three octal digits, a byte value (`\0101` is `A`).
    fn octal(&mut self) -> Option<char> {
        let digits = self.scan.rest().get(..3)?;
        if !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return None;
        }
        let byte = u8::from_str_radix(digits, 8).ok()?;
        for _ in 0..3 {
            self.scan.bump();
        }
        Some(char::from(byte))
    }

    fn unterminated(&self, open: (usize, usize), key: &str, quote: char) -> Stop {
        Stop::Fatal(self.error(
            open,
            key,
            format!("unterminated quoted value: the {quote} that starts it is never closed"),
            &format!("end the value with {quote}; write a {quote} inside the value as \\{quote}"),
        ))
    }

    /// Only blanks and a `#` comment may follow a closing quote.
    fn after_quote(&mut self, key: &str) -> Result<(), Stop> {
        self.scan.skip_blanks();
        match self.scan.peek() {
            None => Ok(()),
            Some('\n' | '#') => {
                self.scan.skip_line();
                Ok(())
            }
            Some(c) => Err(Stop::Line(self.error(
                self.scan.here(),
                key,
                format!("unexpected {c:?} after the closing quote"),
                "put the whole value inside the quotes, or start a comment with #",
            ))),
        }
    }

    /// Substitutes a value's expressions; an error is recorded (its line is
    /// already consumed, so parsing simply goes on).
    fn interpolate(&mut self, key: &str, template: &Template) -> Option<String> {
        let value_at = template
            .positions
            .first()
            .copied()
            .unwrap_or(self.scan.here());
        let result = substitute(&template.text, &|name| self.resolve(name));
        match result {
            Ok(done) => {
                for name in done.unset {
                    self.warnings.push(Warning {
                        location: self.location(value_at),
                        path: key.to_string(),
                        message: format!(
                            "variable {name} is not set, substituting an empty string \
                             (set it, or give a default with ${{{name}:-default}})"
                        ),
                    });
                }
                Some(done.text)
            }
            Err(e) => {
                let at = template
                    .positions
                    .get(e.offset())
                    .copied()
                    .unwrap_or(value_at);
                self.errors
                    .push(interpolation_error(self.location(at), key, &e));
                None
            }
        }
    }
}

fn interpolation_error(location: Option<Location>, key: &str, e: &SubstitutionError) -> LoadError {
    LoadError::new(location, key, e.to_string()).with_hint(e.hint())
}

/// Compose accepts letters and digits of any script, `_`, `.`, `-`, `[`, `]`.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Arc<str> {
        Arc::from(".env")
    }

    fn parse_with(text: &str, env: &Environment) -> Vec<(String, String)> {
        match parse_dotenv(text, &file(), env, &mut Vec::new()) {
            Ok(vars) => vars,
            Err(errors) => panic!("{text:?}: unexpected errors {errors:#?}"),
        }
    }

    fn parse(text: &str) -> Vec<(String, String)> {
        parse_with(text, &Environment::new())
    }

    /// The value of the only variable `text` defines.
    fn one(text: &str) -> String {
        let vars = parse(text);
        assert_eq!(vars.len(), 1, "{text:?}: {vars:?}");
        vars[0].1.clone()
    }

    fn errors(text: &str) -> Vec<LoadError> {
        match parse_dotenv(text, &file(), &Environment::new(), &mut Vec::new()) {
            Ok(vars) => panic!("{text:?}: expected errors, got {vars:?}"),
            Err(errors) => errors,
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn keys_values_comments_and_blank_lines() {
        let text =
            "# a comment\n\nA=1\n  B = 2\nC= 3\n\tD =4\n   # indented comment\nexport E=5\nF: 6\n";
        assert_eq!(
            parse(text),
            pairs(&[
                ("A", "1"),
                ("B", "2"),
                ("C", "3"),
                ("D", "4"),
                ("E", "5"),
                ("F", "6")
            ])
        );
    }

    #[test]
    fn file_order_is_kept_and_a_repeated_key_keeps_its_last_value() {
        assert_eq!(parse("Z=1\nA=2\nZ=3\n"), pairs(&[("Z", "3"), ("A", "2")]));
    }

    #[test]
    fn names() {
        assert_eq!(
            parse("VAR.WITH.DOTS=a\nVAR-WITH-DASHES=b\na[1]=c\nárvíztűrő=d\n456=e\n"),
            pairs(&[
                ("VAR.WITH.DOTS", "a"),
                ("VAR-WITH-DASHES", "b"),
                ("a[1]", "c"),
                ("árvíztűrő", "d"),
                ("456", "e")
            ])
        );
    }

    #[test]
    fn export_prefix() {
        assert_eq!(one("export OPTION_A=2"), "2");
        assert_eq!(one("export\tOPTION_A=2"), "2");
        assert_eq!(one("  export   OPTION_A=2"), "2");
        assert_eq!(one("export OPTION_A=\"export A\""), "export A");
        assert_eq!(parse("exportFOO=2"), pairs(&[("exportFOO", "2")]));
        assert_eq!(parse("export_FOO =2"), pairs(&[("export_FOO", "2")]));
        assert_eq!(parse("export.FOO= 2"), pairs(&[("export.FOO", "2")]));
        assert_eq!(parse("export=1"), pairs(&[("export", "1")]));
        assert_eq!(parse("export =1"), pairs(&[("export", "1")]));
    }

    #[test]
    fn unquoted_values() {
        assert_eq!(one("FOO=bar"), "bar");
        assert_eq!(one("FOO=bar   "), "bar");
        assert_eq!(one("FOO=bar\r\n"), "bar");
        assert_eq!(one("FOO=foobar="), "foobar=");
        assert_eq!(one("FOO=1:B"), "1:B");
        assert_eq!(one("OPTION_A: Foo=bar"), "Foo=bar");
        assert_eq!(one("FOO=a b  c"), "a b  c");
        assert_eq!(
            one("FOO=postgres://localhost:5432/db?sslmode=disable"),
            "postgres://localhost:5432/db?sslmode=disable"
        );
        assert_eq!(
            one(r"FOO=a\tb"),
            r"a\tb",
            "no escapes outside double quotes"
        );
        assert_eq!(one("FOO=it's"), "it's");
        assert_eq!(one("FOO=say \"hi\""), "say \"hi\"");
    }

    #[test]
    fn inline_comments() {
        assert_eq!(one("FOO=bar # this is foo"), "bar");
        assert_eq!(one("FOO=bar #this is foo"), "bar");
        assert_eq!(one("FOO=bar #"), "bar");
        assert_eq!(one("FOO=123#not-a-comment"), "123#not-a-comment");
        assert_eq!(one("FOO=#not-a-comment"), "#not-a-comment");
        assert_eq!(one("FOO= # only a comment"), "");
        assert_eq!(one("FOO=\"bar#baz\" # comment"), "bar#baz");
        assert_eq!(one("FOO=\"bar#baz\"#"), "bar#baz");
        assert_eq!(one("FOO='bar#baz' # comment"), "bar#baz");
        assert_eq!(one("FOO=\"VAL # not a comment\""), "VAL # not a comment");
    }

    #[test]
    fn empty_values() {
        assert_eq!(
            parse("A=\nB = \nC=''\nD=\"\"\nE="),
            pairs(&[("A", ""), ("B", ""), ("C", ""), ("D", ""), ("E", "")])
        );
    }

    #[test]
    fn single_quotes_are_literal() {
        assert_eq!(one("FOO='bar'"), "bar");
        assert_eq!(one("FOO='$OTHER'"), "$OTHER");
        assert_eq!(one("FOO='${OTHER:?boom}'"), "${OTHER:?boom}");
        assert_eq!(one(r"FOO='some\tvalue'"), r"some\tvalue");
        assert_eq!(one(r"FOO='\n'"), r"\n");
        assert_eq!(one(r"FOO='Let\'s go!'"), "Let's go!");
        assert_eq!(one(r"FOO='a\\b'"), r"a\\b");
        assert_eq!(one("FOO=\"'d'\""), "'d'");
        assert_eq!(
            one("FOO='first line\nsecond line'"),
            "first line\nsecond line"
        );
    }

    #[test]
    fn double_quotes_understand_escapes() {
        assert_eq!(one("FOO=\"bar\""), "bar");
        assert_eq!(one(r#"FOO="bar\nbaz""#), "bar\nbaz");
        assert_eq!(one(r#"FOO="some\tvalue""#), "some\tvalue");
        assert_eq!(one(r#"FOO="escaped\"bar""#), "escaped\"bar");
        assert_eq!(one(r#"FOO="\"quoted\"""#), "\"quoted\"");
        assert_eq!(
            one(r#"FOO="{\"hello\": \"json\"}""#),
            r#"{"hello": "json"}"#
        );
        assert_eq!(
            one(r#"KEY="Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\Z\0123Z""#),
            "Z\u{7}Z\u{8}Z\u{c}Z\nZ\rZ\tZ\u{b}Z\\ZSZ"
        );
        assert_eq!(one(r#"FOO="bar\nbaz\\""#), "bar\nbaz\\");
        assert_eq!(one(r#"FOO="bar\\r\ b""#), "bar\\r\\ b");
        // Unknown escapes stay as written.
        assert_eq!(one(r#"KEY="\x07""#), r"\x07");
        assert_eq!(one(r#"KEY="\u12e4""#), r"\u12e4");
        assert_eq!(
            one(r#"KEY="\012""#),
            r"\012",
            "octal needs three digits after \\0"
        );
        assert_eq!(one(r#"KEY="\0""#), r"\0");
    }

    #[test]
    fn double_quotes_span_lines() {
        let vars = parse("A=\"first\nsecond\n  third\"\nB=after\n");
        assert_eq!(
            vars,
            pairs(&[("A", "first\nsecond\n  third"), ("B", "after")])
        );
    }

    #[test]
    fn key_alone_inherits_or_is_left_out() {
        let env: Environment = [("FROM_ENV", "yes")].into_iter().collect();
        assert_eq!(
            parse_with("FROM_ENV\nNOT_SET\nA=1\nA\nFROM_ENV # comment\n", &env),
            pairs(&[("FROM_ENV", "yes"), ("A", "1")])
        );
    }

    #[test]
    fn interpolation_of_unquoted_and_double_quoted_values() {
        let text = "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=\"${OPTION_A}_${OPTION_B}\"\nOPTION_E=${OPTION_NOT_DEFINED}\nOPTION_F='$OPTION_A'\n";
        assert_eq!(
            parse(text),
            pairs(&[
                ("OPTION_A", "1"),
                ("OPTION_B", "1"),
                ("OPTION_C", "1"),
                ("OPTION_D", "1_1"),
                ("OPTION_E", ""),
                ("OPTION_F", "$OPTION_A")
            ])
        );
    }

    #[test]
    fn the_given_environment_wins_over_earlier_lines() {
        let env: Environment = [("OPTION_A", "5")].into_iter().collect();
        let vars = parse_with(
            "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=${OPTION_A:-x}\n",
            &env,
        );
        assert_eq!(
            vars,
            pairs(&[("OPTION_A", "1"), ("OPTION_B", "5"), ("OPTION_C", "5")])
        );
        let vars = parse_with("OPTION_A=${OPTION_A:-1}\n", &env);
        assert_eq!(vars, pairs(&[("OPTION_A", "5")]));
        assert_eq!(
            parse("OPTION_A=${OPTION_A:-1}\nB=$OPTION_A"),
            pairs(&[("OPTION_A", "1"), ("B", "1")])
        );
    }

    #[test]
    fn later_lines_are_not_visible() {
        assert_eq!(parse("A=$B\nB=1"), pairs(&[("A", ""), ("B", "1")]));
    }

    #[test]
    fn dollar_escapes_in_values() {
        assert_eq!(one(r#"FOO="\$bar""#), "$bar");
        assert_eq!(one("FOO=$$bar"), "$bar");
        assert_eq!(one("FOO=\"$$bar\""), "$bar");
        assert_eq!(one("FOO=cost: $5"), "cost: $5");
        assert_eq!(
            one(r#"FOO="\\$HOME""#),
            "\\",
            "an escaped backslash does not escape the $"
        );
    }

    #[test]
    fn unset_variables_are_warned_about() {
        let mut warnings = Vec::new();
        let vars = parse_dotenv(
            "A=x${NOPE}y\nB=${NOPE:-d}\n",
            &file(),
            &Environment::new(),
            &mut warnings,
        )
        .unwrap();
        assert_eq!(vars, pairs(&[("A", "xy"), ("B", "d")]));
        assert_eq!(warnings.len(), 1);
        assert_eq!(
            warnings[0]
                .to_string()
                .split(": ")
                .take(2)
                .collect::<Vec<_>>(),
            vec![".env:1:3", "A"]
        );
        assert!(warnings[0].message.contains("NOPE is not set"));
    }

    #[test]
    fn utf8_bom_is_ignored() {
        assert_eq!(parse("\u{feff}A=1\n"), pairs(&[("A", "1")]));
    }

    #[test]
    fn invalid_names_are_errors_with_positions() {
        let e = errors("OK=1\nlol$wut\n");
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].to_string(),
            ".env:2:4: lol: unexpected '$' in variable name \"lol$wut\" \
             (write NAME=VALUE, one per line; names use letters, digits, _ . - [ ])"
        );
        let e = errors("INVALID LINE\n");
        assert_eq!(e.len(), 1);
        let at = e[0].location.clone().unwrap();
        assert_eq!((at.line, at.column), (1, 8));
        assert!(e[0].message.contains("cannot contain spaces"), "{}", e[0]);
        let e = errors("%!(EXTRA string)=foo");
        assert_eq!(
            e[0].message,
            "unexpected '%' in variable name \"%!(EXTRA string)=foo\""
        );
        let e = errors("=value");
        assert_eq!(e[0].message, "a variable name is missing before the '='");
        assert_eq!(e[0].location.as_ref().map(|l| l.column), Some(1));
    }

    #[test]
    fn every_bad_line_is_reported() {
        let e = errors("A=1\nbad line\nB=${\n  C=\"ok\" trailing\nD=${X:?needed}\nE=2\n");
        let lines: Vec<usize> = e
            .iter()
            .filter_map(|e| e.location.as_ref().map(|l| l.line))
            .collect();
        assert_eq!(lines, vec![2, 3, 4, 5], "{e:#?}");
        assert_eq!(
            e[1].to_string(),
            ".env:3:3: B: invalid interpolation format in \"${\": the \"${\" is never closed by \"}\" \
             (write a literal $ as $$; supported forms are $VAR, ${VAR}, ${VAR:-default}, \
             ${VAR-default}, ${VAR:?message}, ${VAR?message}, ${VAR:+alt}, ${VAR+alt})"
        );
        assert_eq!(
            e[2].to_string(),
            ".env:4:10: C: unexpected 't' after the closing quote \
             (put the whole value inside the quotes, or start a comment with #)"
        );
        assert_eq!(
            e[3].to_string(),
            ".env:5:3: D: required variable X is missing a value: needed \
             (set X in the environment or in the .env file)"
        );
    }

    #[test]
    fn errors_inside_multiline_values_point_at_the_expression() {
        let e = errors("A=\"line one\n  two \\t ${NEED:?}\"\n");
        let at = e[0].location.clone().unwrap();
        assert_eq!((at.line, at.column), (2, 10));
        assert_eq!(e[0].path, "A");
    }

    #[test]
    fn unterminated_quotes_stop_parsing() {
        let e = errors("A=1\nB=\"never closed\nC=2\n");
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].to_string(),
            ".env:2:3: B: unterminated quoted value: the \" that starts it is never closed \
             (end the value with \"; write a \" inside the value as \\\")"
        );
        let e = errors("A='x\\'");
        assert_eq!(e.len(), 1);
        assert!(e[0].message.starts_with("unterminated quoted value: the '"));
        assert_eq!(
            errors("A=\"x\\")[0].location.as_ref().map(|l| l.column),
            Some(3)
        );
    }

    #[test]
    fn several_files_chain_like_compose() {
        let files = [
            (Arc::from(".env"), "WHO=world\nA=1\n".to_string()),
            (
                Arc::from("dev.env"),
                "WHO=mars\nGREETING=hello $WHO\nB=$A\n".to_string(),
            ),
        ];
        let vars = parse_dotenv_files(&files, &Environment::new(), &mut Vec::new()).unwrap();
        assert_eq!(
            vars,
            pairs(&[
                ("WHO", "mars"),
                ("A", "1"),
                ("GREETING", "hello mars"),
                ("B", "1")
            ])
        );
        let process: Environment = [("WHO", "shell")].into_iter().collect();
        let vars = parse_dotenv_files(&files, &process, &mut Vec::new()).unwrap();
        assert_eq!(vars[2], ("GREETING".to_string(), "hello shell".to_string()));
        let bad = [
            (Arc::from("a.env"), "x y\n".to_string()),
            (Arc::from("b.env"), "OK=1\n'\n".to_string()),
        ];
        let errors = parse_dotenv_files(&bad, &Environment::new(), &mut Vec::new()).unwrap_err();
        let files: Vec<String> = errors
            .iter()
            .filter_map(|e| e.location.as_ref().map(|l| l.to_string()))
            .collect();
        assert_eq!(files, vec!["a.env:1:2", "b.env:2:1"]);
    }
}
