//! Unit tests of the blob encoder and decoder.
