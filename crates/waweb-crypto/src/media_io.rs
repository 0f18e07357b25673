//! Media crypto over `std::io` and (feature `tokio`) tokio's async I/O traits.
//!
//! Every function moves data through one fixed 64 KiB buffer plus an output buffer of the same
//! size, so memory use does not depend on the file size.

use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};

use crate::error::{Error, Result};
use crate::media::{
    DecryptedMedia, EncryptedMedia, MediaDecryptor, MediaEncryptor, MediaKeys, MediaVerifier,
    VerifiedMedia,
};

/// Size of the read buffer of the streaming functions.
pub const IO_CHUNK: usize = 64 * 1024;

fn io_err(during: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { during, source }
}

/// Reads until the buffer is full or EOF, retrying on `Interrupted`; returns the byte count.
fn read_chunk<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize> {
    loop {
        match r.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err("reading")(e)),
        }
    }
}

impl MediaKeys {
    /// Encrypts `reader` to `writer` as `enc ++ mac`; returns the message fields.
    ///
    /// # Errors
    /// [`Error::Io`] if reading or writing fails.
    pub fn encrypt_stream<R: Read, W: Write>(
        &self,
        mut reader: R,
        mut writer: W,
        with_sidecar: bool,
    ) -> Result<EncryptedMedia> {
        let mut enc = MediaEncryptor::new(self, with_sidecar);
        let mut buf = vec![0u8; IO_CHUNK];
        let mut out = Vec::with_capacity(IO_CHUNK + 64);
        loop {
            let n = read_chunk(&mut reader, &mut buf)?;
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            enc.update(chunk, &mut out);
            writer.write_all(&out).map_err(io_err("writing"))?;
            out.clear();
        }
        let info = enc.finish(&mut out);
        writer.write_all(&out).map_err(io_err("writing"))?;
        writer.flush().map_err(io_err("writing"))?;
        Ok(info)
    }

    /// Checks the MAC of `enc ++ mac` read from `reader`, without decrypting.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::MediaTooShort`], [`Error::MediaNotBlockAligned`],
    /// [`Error::MediaMac`].
    pub fn verify_stream<R: Read>(&self, mut reader: R) -> Result<VerifiedMedia> {
        let mut v = MediaVerifier::new(self);
        let mut buf = vec![0u8; IO_CHUNK];
        loop {
            let n = read_chunk(&mut reader, &mut buf)?;
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            v.update(chunk);
        }
        v.finish()
    }

    /// Verifies, then decrypts: reads `enc ++ mac` once to check the MAC, seeks back to where
    /// it started and only then decrypts into `writer`. Nothing reaches `writer` unless the MAC
    /// is good.
    ///
    /// # Errors
    /// [`Error::Io`] and the errors of [`MediaDecryptor::finish`].
    pub fn decrypt_stream<R: Read + Seek, W: Write>(
        &self,
        mut reader: R,
        writer: W,
    ) -> Result<DecryptedMedia> {
        let start = reader.stream_position().map_err(io_err("seeking"))?;
        self.verify_stream(&mut reader)?;
        reader
            .seek(SeekFrom::Start(start))
            .map_err(io_err("seeking"))?;
        self.decrypt_stream_unverified(reader, writer)
    }

    /// Decrypts in a single pass, for sources that cannot seek. **`writer` receives plaintext
    /// before the MAC (the last 10 bytes) has been checked**: on error, discard what was written.
    ///
    /// # Errors
    /// [`Error::Io`] and the errors of [`MediaDecryptor::finish`].
    pub fn decrypt_stream_unverified<R: Read, W: Write>(
        &self,
        mut reader: R,
        mut writer: W,
    ) -> Result<DecryptedMedia> {
        let mut dec = MediaDecryptor::new(self);
        let mut buf = vec![0u8; IO_CHUNK];
        let mut out = Vec::with_capacity(IO_CHUNK + 64);
        loop {
            let n = read_chunk(&mut reader, &mut buf)?;
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            dec.update(chunk, &mut out);
            writer.write_all(&out).map_err(io_err("writing"))?;
            out.clear();
        }
        let info = dec.finish(&mut out)?;
        writer.write_all(&out).map_err(io_err("writing"))?;
        writer.flush().map_err(io_err("writing"))?;
        Ok(info)
    }
}

#[cfg(feature = "tokio")]
mod async_io {
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt, AsyncWrite, AsyncWriteExt};

    use super::{IO_CHUNK, io_err};
    use crate::error::Result;
    use crate::media::{
        DecryptedMedia, EncryptedMedia, MediaDecryptor, MediaEncryptor, MediaKeys, MediaVerifier,
        VerifiedMedia,
    };
    use std::io::SeekFrom;

    impl MediaKeys {
        /// Async [`encrypt_stream`](Self::encrypt_stream).
        ///
        /// # Errors
        /// As [`encrypt_stream`](Self::encrypt_stream).
        pub async fn encrypt_async<R, W>(
            &self,
            mut reader: R,
            mut writer: W,
            with_sidecar: bool,
        ) -> Result<EncryptedMedia>
        where
            R: AsyncRead + Unpin,
            W: AsyncWrite + Unpin,
        {
            let mut enc = MediaEncryptor::new(self, with_sidecar);
            let mut buf = vec![0u8; IO_CHUNK];
            let mut out = Vec::with_capacity(IO_CHUNK + 64);
            loop {
                let n = reader.read(&mut buf).await.map_err(io_err("reading"))?;
                let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                    break;
                };
                enc.update(chunk, &mut out);
                writer.write_all(&out).await.map_err(io_err("writing"))?;
                out.clear();
            }
            let info = enc.finish(&mut out);
            writer.write_all(&out).await.map_err(io_err("writing"))?;
            writer.flush().await.map_err(io_err("writing"))?;
            Ok(info)
        }

        /// Async [`verify_stream`](Self::verify_stream).
        ///
        /// # Errors
        /// As [`verify_stream`](Self::verify_stream).
        pub async fn verify_async<R: AsyncRead + Unpin>(
            &self,
            mut reader: R,
        ) -> Result<VerifiedMedia> {
            let mut v = MediaVerifier::new(self);
            let mut buf = vec![0u8; IO_CHUNK];
            loop {
                let n = reader.read(&mut buf).await.map_err(io_err("reading"))?;
                let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                    break;
                };
                v.update(chunk);
            }
            v.finish()
        }

        /// Async [`decrypt_stream`](Self::decrypt_stream): verify, seek back, decrypt.
        ///
        /// # Errors
        /// As [`decrypt_stream`](Self::decrypt_stream).
        pub async fn decrypt_async<R, W>(&self, mut reader: R, writer: W) -> Result<DecryptedMedia>
        where
            R: AsyncRead + AsyncSeek + Unpin,
            W: AsyncWrite + Unpin,
        {
            let start = reader.stream_position().await.map_err(io_err("seeking"))?;
            self.verify_async(&mut reader).await?;
            reader
                .seek(SeekFrom::Start(start))
                .await
                .map_err(io_err("seeking"))?;
            self.decrypt_async_unverified(reader, writer).await
        }

        /// Async [`decrypt_stream_unverified`](Self::decrypt_stream_unverified): one pass;
        /// `writer` sees plaintext before the MAC is checked.
        ///
        /// # Errors
        /// As [`decrypt_stream_unverified`](Self::decrypt_stream_unverified).
        pub async fn decrypt_async_unverified<R, W>(
            &self,
            mut reader: R,
            mut writer: W,
        ) -> Result<DecryptedMedia>
        where
            R: AsyncRead + Unpin,
            W: AsyncWrite + Unpin,
        {
            let mut dec = MediaDecryptor::new(self);
            let mut buf = vec![0u8; IO_CHUNK];
            let mut out = Vec::with_capacity(IO_CHUNK + 64);
            loop {
                let n = reader.read(&mut buf).await.map_err(io_err("reading"))?;
                let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                    break;
                };
                dec.update(chunk, &mut out);
                writer.write_all(&out).await.map_err(io_err("writing"))?;
                out.clear();
            }
            let info = dec.finish(&mut out)?;
            writer.write_all(&out).await.map_err(io_err("writing"))?;
            writer.flush().await.map_err(io_err("writing"))?;
            Ok(info)
        }
    }
}
