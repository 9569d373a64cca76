//! The `ferry` binary: skopeo's CLI on top of ferry-image (OWNER: CLI helper; skeleton).

fn main() {
    std::process::exit(1);
}
