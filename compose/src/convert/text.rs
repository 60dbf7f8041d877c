//! Pure parsers for the text forms Compose accepts: Go durations, byte
//! sizes with units, and shell-like word splitting of commands.

use crate::model::{Bytes, Duration};

/// A duration as Go's `time.ParseDuration` reads it (`1m30s`, `1.5h`,
/// `500ms`), plus days and weeks (`d`, `w`) as compose-go accepts. A bare
/// number is not a duration, except `0`.
pub(super) fn parse_duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::default());
    }
    let mut rest = text;
    let mut nanos: f64 = 0.0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" => 86400e9,
            "w" => 604800e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        nanos += value * scale;
    }
    if !nanos.is_finite() || nanos > u64::MAX as f64 {
        return None;
    }
    Some(Duration(std::time::Duration::from_nanos(
        nanos.round() as u64
    )))
}

/// A byte size: an integer, or a number with a binary unit (`512m`, `1.5g`,
/// `2GiB`) as Docker reads memory sizes.
pub(super) fn parse_bytes(text: &str) -> Option<Bytes> {
    if let Ok(n) = text.parse::<i64>() {
        return Some(Bytes(n));
    }
    let num_len = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let value: f64 = text[..num_len].parse().ok()?;
    let unit = text[num_len..].trim().to_ascii_lowercase();
    // `k`, `kb` and `kib` all mean 1024 here, as for `docker run --memory`.
    let power = match unit.as_str() {
        "" | "b" => 0,
        u => {
            let letter = u.chars().next()?;
            if !matches!(&u[letter.len_utf8()..], "" | "b" | "ib") {
                return None;
            }
            match letter {
                'k' => 1,
                'm' => 2,
                'g' => 3,
                't' => 4,
                'p' => 5,
                _ => return None,
            }
        }
    };
    let bytes = value * 1024f64.powi(power);
    (bytes.is_finite() && bytes < i64::MAX as f64).then_some(Bytes(bytes as i64))
}

/// Words of a command string as a POSIX shell splits them: whitespace
/// separates, quotes group, backslashes escape; nothing is expanded.
pub(super) fn split_shell_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => word.push(ch),
                            Some('\n') => {}
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words() {
        assert_eq!(
            split_shell_words(r#"sh -c 'echo "hi there"' a\ b "x\"y""#).unwrap(),
            vec!["sh", "-c", "echo \"hi there\"", "a b", "x\"y"]
        );
        assert_eq!(split_shell_words("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split_shell_words("''").unwrap(), vec![""]);
        assert!(split_shell_words("echo 'oops").is_err());
    }

    #[test]
    fn durations_and_sizes() {
        let d = |t| parse_duration(t).map(|d| d.to_string());
        assert_eq!(d("1m30s").as_deref(), Some("1m30s"));
        assert_eq!(d("90s").as_deref(), Some("1m30s"));
        assert_eq!(d("1.5h").as_deref(), Some("1h30m0s"));
        assert_eq!(d("0").as_deref(), Some("0s"));
        assert_eq!(d("10"), None);
        assert_eq!(d("5x"), None);
        let b = |t| parse_bytes(t).map(|b| b.0);
        assert_eq!(b("1024"), Some(1024));
        assert_eq!(b("-1"), Some(-1));
        assert_eq!(b("512m"), Some(536_870_912));
        assert_eq!(b("1GB"), Some(1 << 30));
        assert_eq!(b("2gib"), Some(2 << 30));
        assert_eq!(b("1.5k"), Some(1536));
        assert_eq!(b("100b"), Some(100));
        assert_eq!(b("12q"), None);
        assert_eq!(b("1kbb"), None);
    }
}
