//! The part of Go's text/template that `--format` flags use in practice:
//! `{{.Field.Sub}}`, `{{json .X}}`, `{{index .Map "key"}}`, `{{join .List
//! ", "}}`, `{{upper .X}}`, `{{lower .X}}`, `{{range .X}}…{{end}}` and
//! `{{if .X}}…{{else}}…{{end}}`, rendered over JSON values. Anything else
//! is refused when the template is parsed, naming the action, so a format
//! never silently prints something other than what was asked.

use anyhow::{anyhow, bail, Result};
use serde_json::Value;

/// A parsed template.
#[derive(Debug)]
pub(super) struct Template(Vec<Node>);

#[derive(Debug)]
enum Node {
    Text(String),
    Print(Expr),
    Range(Expr, Vec<Node>),
    If(Expr, Vec<Node>, Vec<Node>),
}

#[derive(Debug)]
enum Expr {
    /// `.` (empty) or `.A.B`.
    Path(Vec<String>),
    Json(Box<Expr>),
    Index(Box<Expr>, String),
    Join(Box<Expr>, String),
    Upper(Box<Expr>),
    Lower(Box<Expr>),
}

/// Where a parsed block ends.
enum Closer {
    Eof,
    End,
    Else,
}

impl Template {
    /// Parses `text`; errors name the action that is not understood.
    pub(super) fn parse(text: &str) -> Result<Template> {
        let mut rest = text;
        let (nodes, closer) = parse_block(&mut rest)?;
        match closer {
            Closer::Eof => Ok(Template(nodes)),
            Closer::End => bail!("unexpected {{{{end}}}} in format {text:?}"),
            Closer::Else => bail!("unexpected {{{{else}}}} in format {text:?}"),
        }
    }

    /// Renders the template with `data` as `.`.
    pub(super) fn render(&self, data: &Value) -> Result<String> {
        let mut out = String::new();
        render_nodes(&self.0, data, &mut out)?;
        Ok(out)
    }
}

fn parse_block(rest: &mut &str) -> Result<(Vec<Node>, Closer)> {
    let mut nodes = Vec::new();
    loop {
        let Some(start) = rest.find("{{") else {
            if !rest.is_empty() {
                nodes.push(Node::Text((*rest).to_owned()));
            }
            *rest = "";
            return Ok((nodes, Closer::Eof));
        };
        if start > 0 {
            nodes.push(Node::Text(rest[..start].to_owned()));
        }
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| anyhow!("unclosed {{{{ in format near {:?}", &rest[start..]))?;
        let action = after[..end]
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-');
        let action = action.trim();
        *rest = &after[end + 2..];
        let words = split_words(action)?;
        match words.first().map(String::as_str) {
            Some("end") => return Ok((nodes, Closer::End)),
            Some("else") => return Ok((nodes, Closer::Else)),
            Some("range") => {
                let expr = parse_expr(&words[1..], action)?;
                let (body, closer) = parse_block(rest)?;
                if !matches!(closer, Closer::End) {
                    bail!("{{{{{action}}}}} needs a matching {{{{end}}}}");
                }
                nodes.push(Node::Range(expr, body));
            }
            Some("if") => {
                let expr = parse_expr(&words[1..], action)?;
                let (then, closer) = parse_block(rest)?;
                let otherwise = match closer {
                    Closer::End => Vec::new(),
                    Closer::Else => match parse_block(rest)? {
                        (otherwise, Closer::End) => otherwise,
                        _ => bail!("{{{{{action}}}}} needs a matching {{{{end}}}}"),
                    },
                    Closer::Eof => bail!("{{{{{action}}}}} needs a matching {{{{end}}}}"),
                };
                nodes.push(Node::If(expr, then, otherwise));
            }
            _ => nodes.push(Node::Print(parse_expr(&words, action)?)),
        }
    }
}

/// Words of an action; a double-quoted word keeps its spaces and loses its quotes
/// (marked by a leading `"` so it cannot be mistaken for a path).
fn split_words(action: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut chars = action.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut word = String::from("\"");
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some('n') => word.push('\n'),
                        Some('t') => word.push('\t'),
                        Some(other) => word.push(other),
                        None => bail!("unterminated string in {{{{{action}}}}}"),
                    },
                    Some(other) => word.push(other),
                    None => bail!("unterminated string in {{{{{action}}}}}"),
                }
            }
            words.push(word);
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            words.push(word);
        }
    }
    Ok(words)
}

fn parse_expr(words: &[String], action: &str) -> Result<Expr> {
    let unsupported = || {
        anyhow!(
            "unsupported format action {{{{{action}}}}}: use .Field, json, index, join, upper, lower, range or if"
        )
    };
    let string_arg = |word: Option<&String>| {
        word.and_then(|w| w.strip_prefix('"'))
            .map(str::to_owned)
            .ok_or_else(unsupported)
    };
    match words {
        [path] => parse_path(path).ok_or_else(unsupported),
        [function, rest @ ..] => {
            let inner = rest
                .first()
                .and_then(|w| parse_path(w))
                .ok_or_else(unsupported)?;
            let expr = match (function.as_str(), rest.len()) {
                ("json", 1) => Expr::Json(Box::new(inner)),
                ("upper", 1) => Expr::Upper(Box::new(inner)),
                ("lower", 1) => Expr::Lower(Box::new(inner)),
                ("index", 2) => Expr::Index(Box::new(inner), string_arg(rest.get(1))?),
                ("join", 2) => Expr::Join(Box::new(inner), string_arg(rest.get(1))?),
                _ => return Err(unsupported()),
            };
            Ok(expr)
        }
        [] => Err(unsupported()),
    }
}

fn parse_path(word: &str) -> Option<Expr> {
    if word == "." {
        return Some(Expr::Path(Vec::new()));
    }
    let fields = word.strip_prefix('.')?;
    let fields: Vec<String> = fields.split('.').map(str::to_owned).collect();
    fields
        .iter()
        .all(|f| !f.is_empty() && f.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .then_some(Expr::Path(fields))
}

fn render_nodes(nodes: &[Node], data: &Value, out: &mut String) -> Result<()> {
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Print(expr) => out.push_str(&eval(expr, data)?.as_text()),
            Node::Range(expr, body) => match eval(expr, data)?.0 {
                Value::Array(items) => {
                    for item in &items {
                        render_nodes(body, item, out)?;
                    }
                }
                Value::Object(map) => {
                    // Go ranges over a map in key order.
                    let mut keys: Vec<&String> = map.keys().collect();
                    keys.sort();
                    for key in keys {
                        render_nodes(body, &map[key], out)?;
                    }
                }
                Value::Null => {}
                other => bail!("cannot range over {other}"),
            },
            Node::If(expr, then, otherwise) => {
                let chosen = if eval(expr, data)?.truthy() {
                    then
                } else {
                    otherwise
                };
                render_nodes(chosen, data, out)?;
            }
        }
    }
    Ok(())
}

/// A value as an action produced it: either data, or text already rendered.
struct Rendered(Value);

impl Rendered {
    fn as_text(&self) -> String {
        go_text(&self.0)
    }

    fn truthy(&self) -> bool {
        match &self.0 {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64() != Some(0.0),
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
        }
    }
}

fn eval(expr: &Expr, data: &Value) -> Result<Rendered> {
    Ok(Rendered(match expr {
        Expr::Path(fields) => fields
            .iter()
            .try_fold(data, |value, field| value.get(field))
            .cloned()
            .unwrap_or(Value::Null),
        Expr::Json(inner) => Value::String(serde_json::to_string(&eval(inner, data)?.0)?),
        Expr::Index(inner, key) => eval(inner, data)?
            .0
            .get(key)
            .cloned()
            .unwrap_or(Value::Null),
        Expr::Join(inner, separator) => match eval(inner, data)?.0 {
            Value::Array(items) => Value::String(
                items
                    .iter()
                    .map(go_text)
                    .collect::<Vec<_>>()
                    .join(separator),
            ),
            Value::Null => Value::String(String::new()),
            other => bail!("join needs a list, not {other}"),
        },
        Expr::Upper(inner) => Value::String(eval(inner, data)?.as_text().to_uppercase()),
        Expr::Lower(inner) => Value::String(eval(inner, data)?.as_text().to_lowercase()),
    }))
}

/// A value printed as Go's templates print it.
fn go_text(value: &Value) -> String {
    match value {
        Value::Null => "<no value>".to_owned(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(go_text).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let entries: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{k}:{}", go_text(v)))
                .collect();
            format!("map[{}]", entries.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(template: &str, data: &Value) -> String {
        Template::parse(template)
            .expect("template")
            .render(data)
            .expect("render")
    }

    #[test]
    fn fields_functions_and_blocks() {
        let data = json!({
            "Name": "web",
            "IPAM": {"Config": [{"Subnet": "10.1.0.0/24"}, {"Subnet": "10.2.0.0/24"}]},
            "Labels": {"b": "2", "a": "1"},
            "Internal": false,
            "List": ["x", "y"],
        });
        assert_eq!(render("{{.Name}}!", &data), "web!");
        assert_eq!(
            render("{{range .IPAM.Config}}{{.Subnet}} {{end}}", &data),
            "10.1.0.0/24 10.2.0.0/24 "
        );
        assert_eq!(render("{{index .Labels \"a\"}}", &data), "1");
        assert_eq!(render("{{.Labels}}", &data), "map[a:1 b:2]");
        assert_eq!(render("{{json .List}}", &data), "[\"x\",\"y\"]");
        assert_eq!(render("{{join .List \", \"}}", &data), "x, y");
        assert_eq!(render("{{upper .Name}}", &data), "WEB");
        assert_eq!(
            render("{{if .Internal}}int{{else}}ext{{end}}", &data),
            "ext"
        );
        assert_eq!(render("{{.Missing}}", &data), "<no value>");
        assert_eq!(render("{{ .Name }}", &data), "web");
    }

    #[test]
    fn unknown_actions_are_refused_by_name() {
        let e = Template::parse("{{printf \"%s\" .Name}}").expect_err("printf");
        assert!(e.to_string().contains("printf"), "{e}");
        assert!(Template::parse("{{range .X}}").is_err());
        assert!(Template::parse("{{end}}").is_err());
        assert!(Template::parse("{{.Name").is_err());
    }
}
