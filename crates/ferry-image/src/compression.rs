//! Compression detection by content and streaming codecs (gzip via zlib-rs, zstd, and
//! read-only bzip2/xz detection).
