//! Streaming helpers for JSON output. The JSON types themselves live in `demarc-api`.

use serde::Serialize;

/// Serialises an iterator as a JSON array without collecting it, so a million-asset
/// `matrix --rows --format json` streams instead of holding every cell. It can be serialised
/// once; a second attempt is an error, not an empty list.
pub struct SeqOf<I>(std::cell::RefCell<Option<I>>);

impl<I> SeqOf<I> {
    pub fn new(items: I) -> Self {
        SeqOf(std::cell::RefCell::new(Some(items)))
    }
}

impl<I: Iterator<Item = T>, T: Serialize> Serialize for SeqOf<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.borrow_mut().take() {
            Some(items) => s.collect_seq(items),
            None => Err(serde::ser::Error::custom(
                "a streamed list can be written only once",
            )),
        }
    }
}
