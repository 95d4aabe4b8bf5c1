// Composes federation v2 subgraph SDLs into a supergraph for the router.
// Usage: node compose.mjs OUT name=path/to/name.graphql@http://url ...
// Prints composition errors with their subgraph and exits 1 on failure.
import { readFileSync, writeFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices } from "@theguild/federation-composition";

const [out, ...specs] = process.argv.slice(2);
if (!out || specs.length === 0) {
  console.error("usage: node compose.mjs OUT name=file@url ...");
  process.exit(2);
}
const services = specs.map((spec) => {
  const eq = spec.indexOf("=");
  const at = spec.lastIndexOf("@http");
  const name = spec.slice(0, eq);
  const file = spec.slice(eq + 1, at);
  const url = spec.slice(at + 1);
  return { name, url, typeDefs: parse(readFileSync(file, "utf8")) };
});
const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  for (const e of result.errors) console.error(`composition error: ${e.message}`);
  process.exit(1);
}
const header = process.env.SUPERGRAPH_HEADER ?? "";
writeFileSync(out, header + result.supergraphSdl.trimEnd() + "\n");
