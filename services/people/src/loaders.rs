//! DataLoaders of the people subgraph, one per entity key. They are shared by all requests
//! without a cache, so they batch without ever serving stale rows.

use uuid::Uuid;

use crate::store::{self, OrganisationRow, TerritoryRow};

roadmap_common::pg_loaders! {
    territory_by_id: TerritoryByIdLoader,
    territories_by_parent: TerritoriesByParentLoader,
    ancestors_by_territory: AncestorsByTerritoryLoader,
    organisation_by_id: OrganisationByIdLoader,
    organisations_by_territory: OrganisationsByTerritoryLoader,
    units_by_organisation: UnitsByOrganisationLoader,
    ancestors_by_organisation: AncestorsByOrganisationLoader,
}

roadmap_common::pg_loader!(TerritoryByIdLoader: Uuid => one TerritoryRow = store::territories_by_ids, |r| r.id);

roadmap_common::pg_loader!(TerritoriesByParentLoader: Uuid => many TerritoryRow = store::territory_children, |r| r.parent_id);

roadmap_common::pg_loader!(AncestorsByTerritoryLoader: Uuid => pairs TerritoryRow = store::territory_ancestors);

roadmap_common::pg_loader!(OrganisationByIdLoader: Uuid => one OrganisationRow = store::organisations_by_ids, |r| r.id);

roadmap_common::pg_loader!(OrganisationsByTerritoryLoader: Uuid => many OrganisationRow = store::organisations_by_territories, |r| r.territory_id);

roadmap_common::pg_loader!(UnitsByOrganisationLoader: Uuid => many OrganisationRow = store::organisations_by_parents, |r| r.parent_id);

roadmap_common::pg_loader!(AncestorsByOrganisationLoader: Uuid => pairs OrganisationRow = store::organisation_ancestors);
