// A webhook receiver for the end-to-end tests (tests/tests/webhooks.rs). It verifies every
// delivery with the Standard Webhooks reference library and prints one JSON line per request on
// stdout; the first line is {"listening": <port>}. It listens on $PORT when set (a fault test
// stops it and starts it again on the same port), else on any free port.
//
// Configure a path before events arrive:
//   POST /_config {"path": "/hook", "secret": "whsec_...", "script": [500, 500], "then": 200}
// The path answers the statuses of `script` to its first requests, then `then` when the
// signature verifies (401 when it does not). Each request is also checked with a secret that is
// not the endpoint's and with a tampered body: both must fail verification.
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

const paths = new Map();
const wrongSecret = "whsec_" + randomBytes(32).toString("base64");

function check(secret, body, headers) {
  try {
    new Webhook(secret).verify(body, headers);
    return { ok: true, error: null };
  } catch (e) {
    return { ok: false, error: String(e.message || e) };
  }
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    if (req.url === "/_config") {
      const config = JSON.parse(body);
      paths.set(config.path, { ...config, count: 0 });
      res.writeHead(204).end();
      return;
    }
    const config = paths.get(req.url);
    if (!config) {
      console.log(JSON.stringify({ path: req.url, unknown: true }));
      res.writeHead(404).end();
      return;
    }
    config.count += 1;
    const headers = {
      "webhook-id": req.headers["webhook-id"],
      "webhook-timestamp": req.headers["webhook-timestamp"],
      "webhook-signature": req.headers["webhook-signature"],
    };
    const verified = check(config.secret, body, headers);
    const wrongSecret_ = check(wrongSecret, body, headers);
    const tampered = check(config.secret, body.replace(/}$/, " }"), headers);
    const scripted = (config.script || [])[config.count - 1];
    const status = scripted ?? (verified.ok ? (config.then ?? 200) : 401);
    let payload = null;
    try {
      payload = JSON.parse(body);
    } catch {
      payload = null;
    }
    console.log(
      JSON.stringify({
        path: req.url,
        n: config.count,
        status,
        webhookId: headers["webhook-id"],
        timestamp: headers["webhook-timestamp"],
        contentType: req.headers["content-type"],
        verified: verified.ok,
        error: verified.error,
        wrongSecretVerified: wrongSecret_.ok,
        tamperedVerified: tampered.ok,
        payload,
      }),
    );
    res.writeHead(status, { "content-type": "text/plain" }).end(String(status));
  });
});

server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: server.address().port }));
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
