//! Container ids and names: 64 random hex digits; names by Docker's rule
//! (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`, shown with a leading `/`), generated as
//! `adjective_noun` when the caller gives none.

use std::io::{self, Read};

/// A new random container id.
pub(crate) fn new_id() -> io::Result<String> {
    let bytes = random_bytes::<32>()?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn random_bytes<const N: usize>() -> io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// Checks a requested name (with or without its leading `/`) and returns
/// it without the slash.
pub(crate) fn validate(name: &str) -> Result<String, String> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let mut chars = bare.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && bare.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if valid {
        Ok(bare.to_owned())
    } else {
        Err(format!(
            "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        ))
    }
}

const ADJECTIVES: [&str; 16] = [
    "brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry",
    "nifty", "proud", "quirky", "sharp", "tender", "witty",
];
const NOUNS: [&str; 16] = [
    "babbage", "curie", "darwin", "euler", "faraday", "galois", "hopper", "kepler", "lovelace",
    "meitner", "noether", "pascal", "ritchie", "shannon", "turing", "wozniak",
];

/// A generated name; `taken` says which are in use. After a few tries a
/// random number is appended, as Docker does.
pub(crate) fn generate(taken: impl Fn(&str) -> bool) -> io::Result<String> {
    for attempt in 0..64u32 {
        let [a, n, x, y] = random_bytes::<4>()?;
        let mut name = format!(
            "{}_{}",
            ADJECTIVES[usize::from(a) % ADJECTIVES.len()],
            NOUNS[usize::from(n) % NOUNS.len()]
        );
        if attempt >= 8 {
            name.push_str(&(u32::from(x) * 256 + u32::from(y)).to_string());
        }
        if !taken(&name) {
            return Ok(name);
        }
    }
    Err(io::Error::other("cannot generate a free container name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex_digits_and_differ() {
        let (a, b) = (new_id().unwrap(), new_id().unwrap());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn names_follow_dockers_rule() {
        assert_eq!(validate("/web-1").unwrap(), "web-1");
        assert_eq!(validate("db.x_y").unwrap(), "db.x_y");
        for bad in ["", "a", "-x", "_x", "a/b", "a b", "/"] {
            assert!(validate(bad).is_err(), "{bad}");
        }
        assert!(validate("a b")
            .unwrap_err()
            .contains("[a-zA-Z0-9][a-zA-Z0-9_.-]"));
    }

    #[test]
    fn generated_names_avoid_taken_ones() {
        let name = generate(|n| !n.chars().any(|c| c.is_ascii_digit())).unwrap();
        assert!(validate(&name).is_ok());
        assert!(name.chars().any(|c| c.is_ascii_digit()), "{name}");
    }
}
