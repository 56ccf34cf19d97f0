//! The WBXML reader without its one-step readings ([`decode_lenient_step_by_step`]): every
//! element read through `next_child`, `read_text` and `read_data`, for the tests and fuzz
//! targets that hold the one-step readings (`plain_location`, `plain_location_child`,
//! `plain_item_target`, `plain_item_command`, `plain_meta`, `plain_data`, `plain_leaf`,
//! `plain_end`) to the same messages and errors.

use std::borrow::Cow;

use super::reader::WbxmlSource;
use crate::error::DecodeError;
use crate::events::{EventSource, RawData, Start};
use crate::limits::Limits;
use crate::model::SyncMl;

/// Decodes as [`super::decode_lenient`] does, without the one-step readings.
pub fn decode_lenient_step_by_step<'a>(
    input: &'a [u8],
    limits: &Limits,
) -> Result<SyncMl<'a>, DecodeError> {
    let source = WbxmlSource::new(input, *limits)?;
    crate::parse::parse_message(&mut StepByStep(source))
}

/// As [`decode_lenient_step_by_step`] under the default limits with `left` octets of
/// memory budget.
#[cfg(test)]
pub(crate) fn decode_step_by_step_within(
    input: &[u8],
    left: usize,
) -> Result<SyncMl<'_>, DecodeError> {
    let source = WbxmlSource::new(input, Limits::default())?.with_budget_left(left);
    crate::parse::parse_message(&mut StepByStep(source))
}

/// Reads as [`WbxmlSource`] does, but never anything in one step (the trait's defaults).
struct StepByStep<'a>(WbxmlSource<'a>);

impl<'a> EventSource<'a> for StepByStep<'a> {
    fn next_child(&mut self) -> Result<Option<(Start, usize)>, DecodeError> {
        self.0.next_child()
    }
    fn read_text(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        self.0.read_text()
    }
    fn read_data(&mut self) -> Result<RawData<'a>, DecodeError> {
        self.0.read_data()
    }
    fn skip_to_depth(&mut self, depth: usize) -> Result<(), DecodeError> {
        self.0.skip_to_depth(depth)
    }
    fn depth(&self) -> usize {
        self.0.depth()
    }
    fn offset(&self) -> usize {
        self.0.offset()
    }
    fn finish(&mut self) -> Result<(), DecodeError> {
        self.0.finish()
    }
    fn charge(&mut self, bytes: usize) -> Result<(), DecodeError> {
        self.0.charge(bytes)
    }
    fn budget_left(&self) -> usize {
        self.0.budget_left()
    }
    fn likely_commands(&self) -> usize {
        self.0.likely_commands()
    }
}
