//! A zstd reader over every frame of a stream. Layers compressed in
//! several frames, with skippable frames between them (zstd:chunked, as
//! Podman writes them), must decode to the whole tar; ruzstd's streaming
//! decoder stops after the first frame.

use std::io::{self, BufRead, Read};

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

/// Decodes consecutive zstd frames, skipping skippable ones.
pub(crate) struct ZstdFrames<R> {
    source: R,
    decoder: FrameDecoder,
    in_frame: bool,
}

impl<R: BufRead> ZstdFrames<R> {
    pub(crate) fn new(source: R) -> ZstdFrames<R> {
        ZstdFrames {
            source,
            decoder: FrameDecoder::new(),
            in_frame: false,
        }
    }

    /// Starts the next frame; false at the end of the input.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            if self.source.fill_buf()?.is_empty() {
                return Ok(false);
            }
            match self.decoder.reset(&mut self.source) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped = io::copy(
                        &mut (&mut self.source).take(u64::from(length)),
                        &mut io::sink(),
                    )?;
                    if skipped != u64::from(length) {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
        }
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.in_frame {
                let decoder = &mut self.decoder;
                // Decoding may fill the window without making bytes
                // collectable yet, so keep going until it does or the
                // frame ends.
                while decoder.can_collect() < buf.len() && !decoder.is_finished() {
                    let wanted = buf.len() - decoder.can_collect();
                    decoder
                        .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBytes(wanted))
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                }
                let n = decoder.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                self.in_frame = false;
            }
            if !self.next_frame()? {
                return Ok(0);
            }
            self.in_frame = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruzstd::encoding::{compress_to_vec, CompressionLevel};

    fn decode(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        ZstdFrames::new(bytes).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn decodes_one_frame() {
        let data = b"hello zstd ".repeat(1000);
        assert_eq!(
            decode(&compress_to_vec(&data[..], CompressionLevel::Fastest)),
            data
        );
    }

    #[test]
    fn decodes_every_frame_and_skips_skippable_ones() {
        let mut stream = compress_to_vec(&b"first "[..], CompressionLevel::Fastest);
        // A skippable frame: magic 0x184D2A50..5F, little-endian length, payload.
        stream.extend_from_slice(&0x184D_2A50u32.to_le_bytes());
        stream.extend_from_slice(&3u32.to_le_bytes());
        stream.extend_from_slice(b"xyz");
        stream.extend(compress_to_vec(&b"second"[..], CompressionLevel::Fastest));
        assert_eq!(decode(&stream), b"first second");
    }

    #[test]
    fn empty_input_is_empty_output_and_garbage_is_an_error() {
        assert!(decode(b"").is_empty());
        let mut out = Vec::new();
        let err = ZstdFrames::new(&b"\x28\xb5\x2f\xfdgarbage"[..]).read_to_end(&mut out);
        assert!(err.is_err());
    }
}
