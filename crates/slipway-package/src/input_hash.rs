//! The input hash.
