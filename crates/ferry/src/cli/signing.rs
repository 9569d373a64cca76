//! Signature debugging commands (skopeo `signing.go`, `generate_sigstore_key.go`):
//! `standalone-sign`, `standalone-verify`, `untrusted-signature-dump-without-verification`
//! (hidden), `generate-sigstore-key`. Flags and arguments are checked; the operations are
//! not implemented yet.

use anyhow::{Result, bail};
use clap::Command;

use super::Invocation;
use super::flags::{self, string_flag};

pub fn standalone_sign_command() -> Command {
    Command::new("standalone-sign")
        .about("Create a signature using local files")
        .before_help(
            "ferry standalone-sign [command options] MANIFEST DOCKER-REFERENCE KEY-FINGERPRINT --output|-o SIGNATURE",
        )
        .args([
            string_flag("output", "SIGNATURE", "output the signature to SIGNATURE").short('o'),
            string_flag(
                "passphrase-file",
                "string",
                "file that contains a passphrase for the --sign-by key",
            ),
        ])
}

pub fn standalone_verify_command() -> Command {
    Command::new("standalone-verify")
        .about("Verify a signature using local files")
        .before_help("ferry standalone-verify MANIFEST DOCKER-REFERENCE KEY-FINGERPRINTS SIGNATURE")
        .arg(string_flag(
            "public-key-file",
            "string",
            "File containing public keys. If not specified, will use local GPG keys.",
        ))
}

pub fn untrusted_dump_command() -> Command {
    Command::new("untrusted-signature-dump-without-verification")
        .about("Dump contents of a signature WITHOUT VERIFYING IT")
        .before_help("ferry untrusted-signature-dump-without-verification SIGNATURE")
        .hide(true)
}

pub fn generate_sigstore_key_command() -> Command {
    Command::new("generate-sigstore-key")
        .about("Generate a sigstore public/private key pair")
        .before_help("ferry generate-sigstore-key [command options] --output-prefix PREFIX")
        .after_help("ferry generate-sigstore-key --output-prefix mykey")
        .args([
            string_flag(
                "output-prefix",
                "PREFIX",
                "Write the keys to PREFIX.pub and PREFIX.private",
            ),
            string_flag(
                "passphrase-file",
                "PATH",
                "Read a passphrase for the private key from PATH",
            ),
        ])
}

pub fn run_standalone_sign(inv: &Invocation<'_>) -> Result<()> {
    if inv.args.len() != 3 || flags::get_nonempty(inv.matches, "output").is_none() {
        bail!(
            "Usage: ferry standalone-sign manifest docker-reference key-fingerprint -o signature"
        );
    }
    inv.check_unimplemented()?;
    bail!("standalone-sign is not implemented yet")
}

pub fn run_standalone_verify(inv: &Invocation<'_>) -> Result<()> {
    if inv.args.len() != 4 {
        bail!("Usage: ferry standalone-verify manifest docker-reference key-fingerprint signature");
    }
    inv.check_unimplemented()?;
    bail!("standalone-verify is not implemented yet")
}

pub fn run_untrusted_dump(inv: &Invocation<'_>) -> Result<()> {
    if inv.args.len() != 1 {
        bail!("Usage: ferry untrusted-signature-dump-without-verification signature");
    }
    inv.check_unimplemented()?;
    bail!("untrusted-signature-dump-without-verification is not implemented yet")
}

pub fn run_generate_sigstore_key(inv: &Invocation<'_>) -> Result<()> {
    if !inv.args.is_empty() || flags::get_nonempty(inv.matches, "output-prefix").is_none() {
        bail!("Usage: generate-sigstore-key --output-prefix PREFIX");
    }
    inv.check_unimplemented()?;
    bail!("generate-sigstore-key is not implemented yet")
}
