//! Shared test harness
