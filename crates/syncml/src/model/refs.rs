//! The URIs a Status refers to (its TargetRefs or SourceRefs), as a list of its own or lent
//! by the command it answers.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use super::{Item, Location};

/// The TargetRefs or SourceRefs of a [`Status`](super::Status): a list of URIs, either its
/// own or lent by the items of the command the status answers, so that the status of a
/// one-item command (nearly every status) needs no list of its own. Reads as a slice.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Refs<'a>(Repr<'a>);

#[derive(Clone)]
enum Repr<'a> {
    Lent(&'a [Cow<'a, str>]),
    Own(Vec<Cow<'a, str>>),
}

impl Default for Repr<'_> {
    fn default() -> Self {
        Repr::Lent(&[])
    }
}

impl PartialEq for Repr<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Repr<'_> {}

impl<'a> Repr<'a> {
    fn as_slice(&self) -> &[Cow<'a, str>] {
        match self {
            Repr::Lent(uris) => uris,
            Repr::Own(uris) => uris,
        }
    }
}

impl<'a> Refs<'a> {
    /// No URIs.
    pub const fn new() -> Self {
        Refs(Repr::Lent(&[]))
    }

    /// The URIs of `uris`, lent from them.
    pub const fn lent(uris: &'a [Cow<'a, str>]) -> Self {
        Refs(Repr::Lent(uris))
    }

    /// The URIs of `items` at `location` (their Target or Source), lent from them.
    pub(crate) fn of_items<'i: 'a>(
        items: &'a [Item<'i>],
        location: impl Fn(&'a Item<'i>) -> Option<&'a Location<'i>>,
    ) -> Self {
        match items {
            [item] => match location(item) {
                Some(at) => Refs(Repr::Lent(std::slice::from_ref(&at.loc_uri))),
                None => Refs::new(),
            },
            _ => items
                .iter()
                .filter_map(location)
                .map(|at| Cow::Borrowed(&*at.loc_uri))
                .collect(),
        }
    }

    /// Adds a URI (the list becomes the status's own).
    pub fn push(&mut self, uri: Cow<'a, str>) {
        if let Repr::Lent(uris) = self.0 {
            self.0 = Repr::Own(uris.to_vec());
        }
        if let Repr::Own(uris) = &mut self.0 {
            uris.push(uri);
        }
    }

    /// These URIs, owned.
    pub fn into_owned(self) -> Refs<'static> {
        let uris = match self.0 {
            Repr::Lent(uris) => uris.to_vec(),
            Repr::Own(uris) => uris,
        };
        uris.into_iter()
            .map(|uri| Cow::Owned(uri.into_owned()))
            .collect()
    }
}

impl<'a> Deref for Refs<'a> {
    type Target = [Cow<'a, str>];

    fn deref(&self) -> &Self::Target {
        self.0.as_slice()
    }
}

impl<'a> FromIterator<Cow<'a, str>> for Refs<'a> {
    fn from_iter<I: IntoIterator<Item = Cow<'a, str>>>(iter: I) -> Self {
        Refs(Repr::Own(iter.into_iter().collect()))
    }
}

impl<'a> From<Vec<Cow<'a, str>>> for Refs<'a> {
    fn from(uris: Vec<Cow<'a, str>>) -> Self {
        Refs(Repr::Own(uris))
    }
}

impl<const N: usize> PartialEq<[&str; N]> for Refs<'_> {
    fn eq(&self, other: &[&str; N]) -> bool {
        **self == *other
    }
}

impl fmt::Debug for Refs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_item_lends_its_uri_and_a_push_makes_the_list_its_own() {
        let items = [Item::target("./a")];
        let mut refs = Refs::of_items(&items, |i| i.target.as_ref());
        assert!(matches!(refs.0, Repr::Lent(_)));
        assert_eq!(*refs, ["./a"]);
        refs.push("./b".into());
        assert_eq!(refs, ["./a", "./b"]);
        assert_eq!(refs.clone().into_owned(), refs);
        let none = Refs::of_items(&items, |i| i.source.as_ref());
        assert!(none.is_empty());
        let two = [Item::target("./a"), Item::default(), Item::target("./c")];
        assert_eq!(*Refs::of_items(&two, |i| i.target.as_ref()), ["./a", "./c"]);
        assert_eq!(format!("{refs:?}"), r#"["./a", "./b"]"#);
    }
}
