//! `omadm convert --to xml|wbxml [FILE|-]`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use omadm_syncml::{decode, encode, Encoding, Limits};

use crate::input::read_input;

/// Target encoding.
#[derive(Clone, Copy, ValueEnum)]
pub enum Target {
    /// SyncML XML (canonical compact form).
    Xml,
    /// WBXML 1.2 with the registered SyncML public identifier.
    Wbxml,
}

/// Arguments of `convert`.
#[derive(Args)]
#[command(
    after_help = "The input encoding is detected (WBXML starts with its version octet \
0x01-0x03). Converting to XML turns binary WBXML data into text when it is valid text, and \
into Base64 with Format b64 otherwise. Errors name the byte offset and element. Exit \
status: 0 when converted; 1 when the message, or any command in it, cannot be decoded (a \
command would otherwise be lost; `omadm decode syncml` shows such commands and exits 0); 2 on \
a usage error."
)]
pub struct ConvertArgs {
    /// Encoding to write.
    #[arg(long = "to", value_enum)]
    to: Target,
    /// Input file; `-` or nothing reads standard input.
    file: Option<PathBuf>,
}

/// Runs `convert`.
pub fn run(args: ConvertArgs) -> Result<(), String> {
    let bytes = read_input(args.file.as_deref(), false)?;
    let (mut message, _) = decode(&bytes, &Limits::default()).map_err(|e| e.to_string())?;
    let out = match args.to {
        Target::Xml => {
            message.to_xml_safe();
            encode(&message, Encoding::Xml)
        }
        Target::Wbxml => encode(&message, Encoding::Wbxml),
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|_| stdout.flush())
        .map_err(|e| format!("stdout: {e}"))
}
