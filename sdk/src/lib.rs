//! Carry SDK
