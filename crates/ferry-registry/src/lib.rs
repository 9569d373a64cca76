//! Docker Registry HTTP API v2 client (work in progress).
