// An OpenID Connect provider for the end-to-end tests of the web target's sign-in
// (tests/tests/e2e/signin.rs), made with the certified `oidc-provider` library. It listens on
// 127.0.0.1 on a free port and prints one JSON line when ready: {"issuer": "http://127.0.0.1:<port>"}.
//
// One public client (no secret, PKCE required), its redirect URI given by the test; access
// tokens for the resource indicator $RESOURCE are JWTs with `aud` $AUDIENCE, the login as `sub`
// and `name`, and the claims of the JSON object in $CLAIMS_FILE (e.g. {"roles": ["viewer"],
// "territory": "<uuid>"}), read when each token is issued: the test writes it once it knows the
// territory, after the hub (which needs this issuer to start) has loaded its data.
// The library's development login and consent pages accept any login and password.
//
// Environment: CLIENT_ID, REDIRECT_URI, RESOURCE, AUDIENCE, CLAIMS_FILE (all required).
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import Provider, { errors } from "oidc-provider";

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return value;
};
const clientId = env("CLIENT_ID");
const redirectUri = env("REDIRECT_URI");
const resource = env("RESOURCE");
const audience = env("AUDIENCE");
const claimsFile = env("CLAIMS_FILE");

const server = createServer();
server.listen(0, "127.0.0.1", () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        token_endpoint_auth_method: "none",
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    pkce: { required: () => true },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    // The login is the account: any login signs in, with that name.
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, name: sub }),
    }),
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resource) {
            throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          }
          return {
            audience,
            scope: "",
            accessTokenFormat: "jwt",
            accessTokenTTL: 3600,
            jwt: { sign: { alg: "RS256" } },
          };
        },
      },
    },
    extraTokenClaims: (_ctx, token) =>
      token.kind === "AccessToken"
        ? { ...JSON.parse(readFileSync(claimsFile, "utf8")), name: token.accountId }
        : undefined,
  });
  server.on("request", provider.callback());
  console.log(JSON.stringify({ issuer }));
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
