// Compares two supergraph SDLs with GraphQL Inspector and prints every change with its
// criticality. Exit code: 0 no breaking change, 1 a breaking change, 2 usage or parse error.
// Dangerous changes (e.g. a new enum value) are printed with their path on lines starting with
// "DANGEROUS " so the caller can require them in the README's schema changelog.
//
//   node schema-diff.mjs OLD.graphql NEW.graphql
import { readFileSync } from "node:fs";
import { buildSchema } from "graphql";
import { diff, CriticalityLevel } from "@graphql-inspector/core";

const [oldPath, newPath] = process.argv.slice(2);
if (!oldPath || !newPath) {
  console.error("usage: node schema-diff.mjs OLD.graphql NEW.graphql");
  process.exit(2);
}
// Supergraphs carry federation directives the plain GraphQL builder does not know.
const load = (path) => buildSchema(readFileSync(path, "utf8"), { assumeValidSDL: true });
let changes;
try {
  changes = await diff(load(oldPath), load(newPath));
} catch (e) {
  console.error(`schema-diff: ${e.message}`);
  process.exit(2);
}
// Federation's own machinery (join__/link__ types and directives) is the router's business, not
// the API's: only changes to the types clients see count.
const federation = /(^|[.@])(join__|link__|link\b)/;
changes = changes.filter((c) => !federation.test(c.path ?? ""));
let breaking = 0;
for (const change of changes) {
  const level = change.criticality.level;
  const tag =
    level === CriticalityLevel.Breaking ? "BREAKING" : level === CriticalityLevel.Dangerous ? "DANGEROUS" : "SAFE";
  if (level === CriticalityLevel.Breaking) breaking += 1;
  console.log(`${tag} ${change.path ?? "-"} ${change.message.replace(/\s+/g, " ")}`);
}
console.log(`${changes.length} change(s), ${breaking} breaking`);
process.exit(breaking > 0 ? 1 : 0);
