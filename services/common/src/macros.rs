//! Macros shared by the subgraphs.

/// Maps a GraphQL enum to the text its database column holds, both ways, and lists every
/// variant in `ALL` (generated, so a new variant cannot be left out of a list).
///
/// ```
/// #[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// enum Kind { A, B }
/// roadmap_common::db_enum!(Kind { A => "A", B => "BEE" });
/// assert_eq!(Kind::B.as_db(), "BEE");
/// assert_eq!(Kind::from_db("A"), Some(Kind::A));
/// assert_eq!(Kind::ALL, [Kind::A, Kind::B]);
/// ```
#[macro_export]
macro_rules! db_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            /// The text stored in the database.
            pub fn as_db(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// The variant a database text stands for.
            pub fn from_db(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}
