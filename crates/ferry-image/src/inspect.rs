//! `inspect`: skopeo's output structure and how it is built from manifest + config.
//! (OWNER: manifest helper; skeleton)
