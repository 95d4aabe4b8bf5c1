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

/// Declares a DataLoader over a pool whose batch is one store call, in one of three shapes:
///
/// - `one`: each row answers the key it carries (`|r| r.id`), e.g. an entity by id;
/// - `many`: rows grouped under the key they carry, which they may lack (`|r| r.parent_id`,
///   an `Option`), in the store's order;
/// - `pairs`: the store returns `(key, value)` pairs, grouped by key in order.
///
/// ```ignore
/// roadmap_common::pg_loader!(PlanByIdLoader: Uuid => one PlanRow = store::plans_by_ids, |r| r.id);
/// roadmap_common::pg_loader!(SectionsByPlanLoader: Uuid => many SectionRow = store::sections_by_plans, |r| Some(r.plan_id));
/// roadmap_common::pg_loader!(ParentsByPlanLoader: Uuid => pairs Uuid = store::plan_parents);
/// ```
#[macro_export]
macro_rules! pg_loader {
    ($(#[$meta:meta])* $name:ident: $key:ty => one $row:ty = $fetch:path, |$r:ident| $k:expr) => {
        $crate::pg_loader!(@impl $(#[$meta])* $name, $key, $row, |pool, keys| {
            Ok($fetch(pool, keys).await?.into_iter().map(|$r| ($k, $r)).collect())
        });
    };
    ($(#[$meta:meta])* $name:ident: $key:ty => many $row:ty = $fetch:path, |$r:ident| $k:expr) => {
        $crate::pg_loader!(@impl $(#[$meta])* $name, $key, Vec<$row>, |pool, keys| {
            Ok($crate::loaders::group_by($fetch(pool, keys).await?, |$r| $k))
        });
    };
    ($(#[$meta:meta])* $name:ident: $key:ty => pairs $value:ty = $fetch:path) => {
        $crate::pg_loader!(@impl $(#[$meta])* $name, $key, Vec<$value>, |pool, keys| {
            Ok($crate::loaders::group_pairs($fetch(pool, keys).await?))
        });
    };
    (@impl $(#[$meta:meta])* $name:ident, $key:ty, $value:ty, |$pool:ident, $keys:ident| $body:block) => {
        $(#[$meta])*
        pub struct $name($crate::__sqlx::PgPool);

        impl $crate::__async_graphql::dataloader::Loader<$key> for $name {
            type Value = $value;
            type Error = $crate::LoadError;

            async fn load(
                &self,
                $keys: &[$key],
            ) -> ::std::result::Result<::std::collections::HashMap<$key, $value>, $crate::LoadError> {
                let $pool = &self.0;
                $body
            }
        }
    };
}

/// Declares a subgraph's `Loaders`, the DataLoaders its resolvers share: one field per loader,
/// each built over the same pool (and the arguments after it, if any) by
/// [`crate::loaders::loader`] (measured, batching, no cache).
///
/// Prefixed `per request;`, the loaders are built by [`crate::loaders::request_loader`] instead
/// (one set per request, cached for it) and `Loaders::uncached` turns every cache off (mutations).
///
/// ```ignore
/// roadmap_common::pg_loaders! {
///     territory_by_id: TerritoryByIdLoader,
///     territories_by_parent: TerritoriesByParentLoader,
/// }
/// roadmap_common::pg_loaders! {
///     per request;
///     plan_by_id: PlanByIdLoader,
///     trace_down: TraceByMeasureLoader(store::Direction::Down),
/// }
/// ```
#[macro_export]
macro_rules! pg_loaders {
    (per request; $($field:ident: $loader:ident $(($($arg:expr),+))?),+ $(,)?) => {
        pub struct Loaders {
            $(pub $field: $crate::__async_graphql::dataloader::DataLoader<
                $crate::metrics::Measured<$loader>,
                $crate::__async_graphql::dataloader::HashMapCache,
            >,)+
        }

        impl Loaders {
            pub fn new(pool: $crate::__sqlx::PgPool) -> Self {
                Self {
                    $($field: $crate::loaders::request_loader($loader(pool.clone() $($(, $arg)+)?)),)+
                }
            }

            /// Batching only from now on: every read goes to the database (mutations).
            pub fn uncached(&self) {
                $(self.$field.enable_all_cache(false);)+
            }
        }
    };
    ($($field:ident: $loader:ident $(($($arg:expr),+))?),+ $(,)?) => {
        pub struct Loaders {
            $(pub $field: $crate::__async_graphql::dataloader::DataLoader<$crate::metrics::Measured<$loader>>,)+
        }

        impl Loaders {
            pub fn new(pool: $crate::__sqlx::PgPool) -> Self {
                Self {
                    $($field: $crate::loaders::loader($loader(pool.clone() $($(, $arg)+)?)),)+
                }
            }
        }
    };
}
