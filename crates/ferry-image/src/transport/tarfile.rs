//! Shared tar plumbing for the archive transports (OWNER: archive helper; skeleton).
