// PostGraphile 5 for the peer benchmark (gateway/benches/peer.rs): the Amber preset with
// simplify-inflection over the `plans` schema of the bench database, no GraphiQL, no watch mode.
// The cascade is the computed column `Measure.implementers` and the derived status
// `Measure.effectiveStatus` (peer.sql: the bench's own functions, created in the bench database).
//
// DATABASE_URL: the bench database; PORT: where to listen; PG_POOL_SIZE: connections (default 4).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["plans"],
      // As the hub's connections and the SQL floor's: no JIT for short reads.
      poolConfig: { max: Number(process.env.PG_POOL_SIZE ?? 4), options: "-c jit=off" },
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT ?? 5678),
    graphqlPath: "/graphql",
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};

export default preset;
