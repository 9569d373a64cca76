//! Test harness (OWNER: test helper; skeleton).
