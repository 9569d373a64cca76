//! Blob pipeline stages: verification, (de)compression, progress counting.
