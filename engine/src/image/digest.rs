//! sha256 digests: the one hash the store addresses content by.

use std::fmt;
use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256 as Hasher};

/// A sha256 digest, held as its 64 lowercase hex characters.
///
/// The only constructors check the form, so the hex can be used as a file
/// name under `blobs/sha256/` and `layers/` without any further check.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct Sha256(String);

impl Sha256 {
    /// Parses `sha256:<64 hex>`.
    pub(crate) fn parse(text: &str) -> Option<Sha256> {
        Self::from_hex(text.strip_prefix("sha256:")?)
    }

    /// Parses a bare 64-character lowercase hex string.
    pub(crate) fn from_hex(hex: &str) -> Option<Sha256> {
        (hex.len() == 64 && is_lower_hex(hex)).then(|| Sha256(hex.to_string()))
    }

    /// The digest of `bytes`.
    pub(crate) fn of(bytes: &[u8]) -> Sha256 {
        Sha256(format!("{:x}", Hasher::digest(bytes)))
    }

    /// The 64 hex characters, without the algorithm.
    pub(crate) fn hex(&self) -> &str {
        &self.0
    }

    /// The digest as an `oci-spec` descriptor digest.
    pub(crate) fn to_oci(&self) -> oci_spec::image::Digest {
        self.0
            .parse::<oci_spec::image::Sha256Digest>()
            .map(Into::into)
            // The hex was checked at construction, which is all oci-spec checks.
            .unwrap_or_else(|_| unreachable!("validated sha256 hex"))
    }

    /// Converts an `oci-spec` digest, if it is a sha256 one.
    pub(crate) fn from_oci(digest: &oci_spec::image::Digest) -> Option<Sha256> {
        Self::parse(digest.as_ref())
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.0)
    }
}

impl TryFrom<String> for Sha256 {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Sha256::parse(&text).ok_or_else(|| format!("not a sha256 digest: {text:?}"))
    }
}

impl From<Sha256> for String {
    fn from(digest: Sha256) -> String {
        digest.to_string()
    }
}

/// True when `text` is non-empty lowercase hex.
pub(crate) fn is_lower_hex(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A reader that hashes and counts everything read through it.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Hasher::new(),
            count: 0,
        }
    }

    /// Reads the rest of the stream and returns its digest and length.
    pub(crate) fn finish(mut self) -> io::Result<(Sha256, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((Sha256(format!("{:x}", self.hasher.finalize())), self.count))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// A writer that hashes and counts everything written through it.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
    count: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Hasher::new(),
            count: 0,
        }
    }

    /// Returns the inner writer, the digest and the length written.
    pub(crate) fn finish(self) -> (W, Sha256, u64) {
        let digest = Sha256(format!("{:x}", self.hasher.finalize()));
        (self.inner, digest, self.count)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_only_sha256_with_64_lowercase_hex() {
        assert_eq!(
            Sha256::parse(&format!("sha256:{EMPTY}")).unwrap().hex(),
            EMPTY
        );
        assert!(Sha256::parse(EMPTY).is_none());
        assert!(Sha256::parse(&format!("sha256:{}", EMPTY.to_uppercase())).is_none());
        assert!(Sha256::parse(&format!("sha512:{EMPTY}")).is_none());
        assert!(Sha256::parse("sha256:../../etc/passwd").is_none());
        assert!(Sha256::from_hex(&EMPTY[..63]).is_none());
    }

    #[test]
    fn hashing_reader_and_writer_agree_with_one_shot_digest() {
        assert_eq!(Sha256::of(b"").hex(), EMPTY);
        let (digest, len) = HashingReader::new(&b"hello"[..]).finish().unwrap();
        assert_eq!((digest.clone(), len), (Sha256::of(b"hello"), 5));
        let mut writer = HashingWriter::new(Vec::new());
        writer.write_all(b"hello").unwrap();
        let (bytes, written, len) = writer.finish();
        assert_eq!((bytes, written, len), (b"hello".to_vec(), digest, 5));
    }

    #[test]
    fn serde_uses_the_prefixed_form() {
        let digest = Sha256::of(b"");
        let json = serde_json::to_string(&digest).unwrap();
        assert_eq!(json, format!("\"sha256:{EMPTY}\""));
        assert_eq!(serde_json::from_str::<Sha256>(&json).unwrap(), digest);
        assert!(serde_json::from_str::<Sha256>("\"sha256:xyz\"").is_err());
    }

    #[test]
    fn converts_to_and_from_oci_digests() {
        let digest = Sha256::of(b"x");
        assert_eq!(Sha256::from_oci(&digest.to_oci()), Some(digest));
    }
}
