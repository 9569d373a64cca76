//! (OWNER: manifest helper; skeleton)
