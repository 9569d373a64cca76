//! The conversion plan: a pure function of source manifest, destination properties and options.
