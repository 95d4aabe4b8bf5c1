// Starts PostGraphile (graphile.config.mjs) on PORT over Node's HTTP server; prints
// {"listening": PORT} on stdout once the schema is built and the port is bound.
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import preset from "./graphile.config.mjs";

const pgl = postgraphile(preset);
await pgl.getSchema();
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (e) => {
  console.error(e);
  process.exit(1);
});
await serv.addTo(server);
const port = Number(process.env.PORT ?? 5678);
server.listen(port, "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: port }));
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    pgl.release().finally(() => process.exit(0));
  });
}
