//! Query strings: decoded once, taken parameter by parameter by the
//! handler, and whatever the handler did not take is refused by name.

use super::error::ApiError;

/// The parameters of one request, in order.
#[derive(Debug, Default)]
pub(crate) struct Query {
    params: Vec<(String, String)>,
}

impl Query {
    /// Decodes `a=1&b=x%20y` (`+` is a space, as in HTML forms and Go's
    /// `url.ParseQuery`, which Docker clients use).
    pub(crate) fn parse(raw: Option<&str>) -> Result<Query, ApiError> {
        let mut params = Vec::new();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            params.push((decode(key)?, decode(value)?));
        }
        Ok(Query { params })
    }

    /// Removes `key` and returns its first value (a repeated parameter's
    /// later values are ignored, as Docker's `r.Form.Get` does).
    pub(crate) fn take(&mut self, key: &str) -> Option<String> {
        let first = self.params.iter().position(|(k, _)| k == key)?;
        let value = self.params[first].1.clone();
        self.params.retain(|(k, _)| k != key);
        Some(value)
    }

    /// Removes `key` and returns all its values, in order (for parameters
    /// clients repeat, such as import's `changes`).
    pub(crate) fn take_all(&mut self, key: &str) -> Vec<String> {
        let values = self
            .params
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect();
        self.params.retain(|(k, _)| k != key);
        values
    }

    /// A boolean parameter as Docker reads one: anything but "", "0", "no",
    /// "false" and "none" (any case) is true.
    pub(crate) fn take_bool(&mut self, key: &str) -> bool {
        self.take(key).is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            !matches!(v.as_str(), "" | "0" | "no" | "false" | "none")
        })
    }

    /// Fails naming the first parameter the handler did not take.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        match self.params.first() {
            None => Ok(()),
            Some((key, _)) => Err(ApiError::bad_request(format!(
                "query parameter {key:?} is not supported on this endpoint"
            ))),
        }
    }
}

fn decode(text: &str) -> Result<String, ApiError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(byte) = byte else {
                    return Err(ApiError::bad_request(format!(
                        "invalid percent-encoding in the query: {text:?}"
                    )));
                };
                out.push(byte);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| ApiError::bad_request(format!("the query is not UTF-8: {text:?}")))
}

/// Decodes one path segment (no `+` rule there).
pub(crate) fn decode_segment(segment: &str) -> Result<String, ApiError> {
    decode(&segment.replace('+', "%2B"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_takes_parameters() {
        let mut q = Query::parse(Some("filters=%7B%22a%22%3A1%7D&force=1&x=a+b&force=0")).unwrap();
        assert_eq!(q.take("filters").as_deref(), Some(r#"{"a":1}"#));
        assert!(q.take_bool("force"));
        assert_eq!(q.take("x").as_deref(), Some("a b"));
        assert!(q.take("force").is_none());
        q.finish().unwrap();
        let mut q = Query::parse(Some("c=a&d=1&c=b")).unwrap();
        assert_eq!(q.take_all("c"), ["a", "b"]);
        assert!(q.take_all("c").is_empty());
    }

    #[test]
    fn leftovers_are_refused_by_name() {
        let mut q = Query::parse(Some("filters=&dryrun=1")).unwrap();
        q.take("filters");
        let err = q.finish().unwrap_err();
        assert!(err.message.contains("\"dryrun\""), "{}", err.message);
    }

    #[test]
    fn docker_booleans() {
        for (text, expected) in [
            ("1", true),
            ("true", true),
            ("yes", true),
            ("0", false),
            ("False", false),
            ("none", false),
            ("", false),
        ] {
            let mut q = Query::parse(Some(&format!("b={text}"))).unwrap();
            assert_eq!(q.take_bool("b"), expected, "{text}");
        }
        assert!(!Query::default().take_bool("b"));
    }

    #[test]
    fn bad_encoding_is_a_bad_request() {
        assert!(Query::parse(Some("a=%zz")).is_err());
        assert!(Query::parse(Some("a=%e9")).is_err());
        assert_eq!(decode_segment("a+b%20c").unwrap(), "a+b c");
    }
}
