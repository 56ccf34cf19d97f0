//! The Items of an Add, Copy, Delete, Get or Replace: one held in the command itself, more in
//! a list of their own.

use std::fmt;
use std::ops::{Deref, DerefMut};

use super::Item;

/// The Items of an [`ItemCommand`](super::ItemCommand). Nearly every command a server sends
/// has one Item: it is held in place, so that decoding such a command allocates no list (a
/// second Item moves both into one). Reads as a slice; compares equal to any list of the
/// same items, however held.
#[derive(Clone, Default)]
pub struct Items<'a>(Repr<'a>);

#[derive(Clone)]
enum Repr<'a> {
    One(Item<'a>),
    Many(Vec<Item<'a>>),
}

impl Default for Repr<'_> {
    fn default() -> Self {
        Repr::Many(Vec::new())
    }
}

impl<'a> Items<'a> {
    /// No items.
    pub const fn new() -> Self {
        Items(Repr::Many(Vec::new()))
    }

    /// One item, held in place.
    pub const fn one(item: Item<'a>) -> Self {
        Items(Repr::One(item))
    }

    /// Adds an item.
    pub fn push(&mut self, item: Item<'a>) {
        match &mut self.0 {
            // No list yet (an empty one with room keeps it): the item goes in place.
            Repr::Many(list) if list.capacity() == 0 => self.0 = Repr::One(item),
            Repr::Many(list) => {
                list.reserve_exact(Self::new_slots(list));
                list.push(item)
            }
            Repr::One(_) => {
                let mut list = Vec::with_capacity(Self::FIRST_LIST);
                if let Repr::One(first) = std::mem::take(&mut self.0) {
                    list.push(first);
                }
                list.push(item);
                self.0 = Repr::Many(list);
            }
        }
    }

    /// Adds an empty item, as [`Items::push`] would, and lends it: the decoder parses an
    /// item in its place (the first one assigned there, not moved by `push`).
    pub(crate) fn push_default(&mut self) -> &mut Item<'a> {
        if matches!(&self.0, Repr::Many(list) if list.capacity() == 0) {
            self.0 = Repr::One(Item::default());
        } else {
            self.push(Item::default());
        }
        let last = self.len() - 1;
        &mut self[last]
    }

    /// The room of the list a second item moves the items into.
    pub(crate) const FIRST_LIST: usize = 4;

    /// The slots a push adds to `list`: none while it has room, else as many as it has (at
    /// least [`Items::FIRST_LIST`]).
    fn new_slots(list: &Vec<Item<'a>>) -> usize {
        if list.len() < list.capacity() {
            0
        } else {
            list.capacity().max(Self::FIRST_LIST)
        }
    }

    /// The octets [`Items::push`] allocates for one more item: none while the item goes in
    /// place or into the list's spare room (a decoder charges them to its memory budget).
    pub(crate) fn growth(&self) -> usize {
        let slots = match &self.0 {
            Repr::Many(list) if list.capacity() == 0 => 0,
            Repr::Many(list) => Self::new_slots(list),
            Repr::One(_) => Self::FIRST_LIST,
        };
        slots * std::mem::size_of::<Item>()
    }

    /// The items, as a slice.
    pub fn as_slice(&self) -> &[Item<'a>] {
        self
    }

    /// These items with their text owned.
    pub fn into_owned(self) -> Items<'static> {
        Items(match self.0 {
            Repr::One(item) => Repr::One(item.into_owned()),
            Repr::Many(list) => Repr::Many(list.into_iter().map(Item::into_owned).collect()),
        })
    }

    /// The items as a list of their own.
    pub fn into_vec(self) -> Vec<Item<'a>> {
        match self.0 {
            Repr::One(item) => vec![item],
            Repr::Many(list) => list,
        }
    }
}

impl<'a> Deref for Items<'a> {
    type Target = [Item<'a>];

    fn deref(&self) -> &Self::Target {
        match &self.0 {
            Repr::One(item) => std::slice::from_ref(item),
            Repr::Many(list) => list,
        }
    }
}

impl DerefMut for Items<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match &mut self.0 {
            Repr::One(item) => std::slice::from_mut(item),
            Repr::Many(list) => list,
        }
    }
}

impl<'a> From<Vec<Item<'a>>> for Items<'a> {
    /// The items of `list` (one is taken out of it and held in place).
    fn from(mut list: Vec<Item<'a>>) -> Self {
        match list.pop() {
            Some(item) if list.is_empty() => Items::one(item),
            Some(item) => {
                list.push(item);
                Items(Repr::Many(list))
            }
            None => Items(Repr::Many(list)),
        }
    }
}

impl<'a> From<Item<'a>> for Items<'a> {
    fn from(item: Item<'a>) -> Self {
        Items::one(item)
    }
}

impl<'a, const N: usize> From<[Item<'a>; N]> for Items<'a> {
    fn from(items: [Item<'a>; N]) -> Self {
        items.into_iter().collect()
    }
}

impl<'a> FromIterator<Item<'a>> for Items<'a> {
    fn from_iter<I: IntoIterator<Item = Item<'a>>>(iter: I) -> Self {
        let mut iter = iter.into_iter();
        let Some(first) = iter.next() else {
            return Items::new();
        };
        match iter.next() {
            None => Items::one(first),
            Some(second) => {
                let mut list = Vec::with_capacity(iter.size_hint().0.saturating_add(2));
                list.push(first);
                list.push(second);
                list.extend(iter);
                Items(Repr::Many(list))
            }
        }
    }
}

impl<'a> Extend<Item<'a>> for Items<'a> {
    fn extend<I: IntoIterator<Item = Item<'a>>>(&mut self, iter: I) {
        for item in iter {
            self.push(item);
        }
    }
}

/// The items of an [`Items`], by value.
pub struct ItemsIntoIter<'a>(IterRepr<'a>);

enum IterRepr<'a> {
    One(Option<Item<'a>>),
    Many(std::vec::IntoIter<Item<'a>>),
}

impl<'a> Iterator for ItemsIntoIter<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        match &mut self.0 {
            IterRepr::One(item) => item.take(),
            IterRepr::Many(list) => list.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterRepr::One(item) => (
                usize::from(item.is_some()),
                Some(usize::from(item.is_some())),
            ),
            IterRepr::Many(list) => list.size_hint(),
        }
    }
}

impl ExactSizeIterator for ItemsIntoIter<'_> {}

impl<'a> IntoIterator for Items<'a> {
    type Item = Item<'a>;
    type IntoIter = ItemsIntoIter<'a>;

    fn into_iter(self) -> ItemsIntoIter<'a> {
        ItemsIntoIter(match self.0 {
            Repr::One(item) => IterRepr::One(Some(item)),
            Repr::Many(list) => IterRepr::Many(list.into_iter()),
        })
    }
}

impl<'i, 'a> IntoIterator for &'i Items<'a> {
    type Item = &'i Item<'a>;
    type IntoIter = std::slice::Iter<'i, Item<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'i, 'a> IntoIterator for &'i mut Items<'a> {
    type Item = &'i mut Item<'a>;
    type IntoIter = std::slice::IterMut<'i, Item<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl PartialEq for Items<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Items<'_> {}

impl<'a> PartialEq<Vec<Item<'a>>> for Items<'a> {
    fn eq(&self, other: &Vec<Item<'a>>) -> bool {
        **self == **other
    }
}

impl fmt::Debug for Items<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_item_is_held_in_place_and_a_second_moves_both_into_a_list() {
        let mut items = Items::new();
        assert!(items.is_empty());
        assert_eq!(items.growth(), 0);
        items.push(Item::target("./a"));
        assert!(matches!(items.0, Repr::One(_)));
        assert_eq!(
            items.growth(),
            Items::FIRST_LIST * std::mem::size_of::<Item>()
        );
        items.push(Item::target("./b"));
        assert!(matches!(&items.0, Repr::Many(l) if l.capacity() == Items::FIRST_LIST));
        for uri in ["./c", "./d"] {
            assert_eq!(items.growth(), 0);
            items.push(Item::target(uri));
        }
        assert_eq!(items.growth(), 4 * std::mem::size_of::<Item>());
        items.push(Item::target("./e"));
        assert!(matches!(&items.0, Repr::Many(l) if l.capacity() == 8));
        let uris: Vec<_> = items.iter().filter_map(Item::target_uri).collect();
        assert_eq!(uris, ["./a", "./b", "./c", "./d", "./e"]);
        assert_eq!(items.clone().into_iter().len(), 5);
        assert_eq!(items.clone().into_vec(), *items);
        assert_eq!(items.clone().into_owned(), items);
        let one = Items::one(Item::target(String::from("./a")));
        assert!(matches!(one.into_owned().0, Repr::One(_)));
    }

    #[test]
    fn items_compare_by_content_however_held() {
        let one = Items::one(Item::target("./a"));
        let listed = Items(Repr::Many(vec![Item::target("./a")]));
        assert_eq!(one, listed);
        assert_eq!(Items::from(vec![Item::target("./a")]), one);
        assert!(matches!(
            Items::from(vec![Item::target("./a")]).0,
            Repr::One(_)
        ));
        assert_eq!(one, vec![Item::target("./a")]);
        assert_ne!(one, Items::new());
        assert_eq!(format!("{:?}", Items::new()), "[]");
        let collected: Items = [Item::target("./a"), Item::target("./b")].into();
        assert_eq!(collected.len(), 2);
        let mut owned = one.into_iter();
        assert_eq!(owned.len(), 1);
        assert_eq!(
            owned.next().as_ref().and_then(Item::target_uri),
            Some("./a")
        );
        assert!(owned.next().is_none());
    }

    #[test]
    fn an_empty_list_with_room_keeps_its_room() {
        let mut items = Items::from(Vec::with_capacity(1));
        assert_eq!(items.growth(), 0);
        items.push(Item::target("./a"));
        assert!(matches!(&items.0, Repr::Many(l) if l.capacity() == 1));
        assert_eq!(items.growth(), 4 * std::mem::size_of::<Item>());
        items.push(Item::target("./b"));
        assert!(matches!(&items.0, Repr::Many(l) if l.capacity() == 5));
    }
}
