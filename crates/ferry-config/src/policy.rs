//! policy.json: lookup, strict parsing, evaluation (OWNER: reference/policy helper; skeleton).

/// The policy to enforce, already loaded (or the built-in default).
#[derive(Debug, Clone, Default)]
pub struct PolicyContext {}
