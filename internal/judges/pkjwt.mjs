// pkjwt.mjs: oauth4webapi, as a client of the example, authenticates with
// private_key_jwt (RFC 7523 §2.2): discovery, client_credentials, the token
// at /api/data, introspection and revocation with fresh assertions, then
// two assertions the server must refuse (a jti used twice, an explicitly
// typed assertion naming the token endpoint). The Go test
// (example/judges_pkjwt_test.go) generates the key and registers its public
// half; it passes ISSUER, CLIENT_ID and CLIENT_JWK (the private JWK, with
// alg and kid) and reads one JSON line.
import * as oauth from "oauth4webapi";

const issuer = new URL(process.env.ISSUER);
const client = { client_id: process.env.CLIENT_ID };
const jwk = JSON.parse(process.env.CLIENT_JWK);
const algorithms = {
  ES256: { name: "ECDSA", namedCurve: "P-256" },
  EdDSA: { name: "Ed25519" },
  PS256: { name: "RSA-PSS", hash: "SHA-256" },
  RS256: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
};
const key = await crypto.subtle.importKey("jwk", jwk, algorithms[jwk.alg], false, ["sign"]);
const insecure = { [oauth.allowInsecureRequests]: true }; // the example runs on loopback http
// oauth4webapi labels Ed25519 signatures with the fully-specified alg
// "Ed25519" (RFC 9864); go-jose, and so oauthkit, knows them as "EdDSA",
// which the metadata lists. The signature is the same: name it EdDSA.
const fixAlg = (header) => { if (header.alg === "Ed25519") header.alg = "EdDSA"; };
const auth = (modify) => oauth.PrivateKeyJwt({ key, kid: jwk.kid }, {
  [oauth.modifyAssertion]: (header, payload) => { fixAlg(header); modify?.(header, payload); },
});

const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: "oauth2" }));
const out = {
  methods: as.token_endpoint_auth_methods_supported,
  algs: as.token_endpoint_auth_signing_alg_values_supported,
};

const tokens = await oauth.processClientCredentialsResponse(as, client,
  await oauth.clientCredentialsGrantRequest(as, client, auth(), { scope: "read" }, insecure));
out.token_type = tokens.token_type;
out.scope = tokens.scope;

const api = await oauth.protectedResourceRequest(tokens.access_token, "GET", new URL("/api/data", issuer), undefined, undefined, insecure);
out.api = { status: api.status, body: await api.json() };

const info = await oauth.processIntrospectionResponse(as, client,
  await oauth.introspectionRequest(as, client, auth(), tokens.access_token, insecure));
out.introspection = { active: info.active, client_id: info.client_id };

await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth(), tokens.access_token, insecure));
try {
  const after = await oauth.protectedResourceRequest(tokens.access_token, "GET", new URL("/api/data", issuer), undefined, undefined, insecure);
  out.after_revocation = after.status;
} catch (err) {
  // oauth4webapi turns a 401 with a WWW-Authenticate challenge into an error
  out.after_revocation = err instanceof oauth.WWWAuthenticateChallengeError ? err.response.status : String(err);
}

// refused asks for a token with the assertion changed by modify, and
// returns the error the server answered with.
async function refused(modify) {
  try {
    await oauth.processClientCredentialsResponse(as, client,
      await oauth.clientCredentialsGrantRequest(as, client, auth(modify), {}, insecure));
    return "accepted";
  } catch (err) {
    return err.error ?? String(err);
  }
}
const jti = "judge-" + crypto.randomUUID();
out.fixed_jti_first = await refused((header, payload) => { payload.jti = jti; });
out.fixed_jti_again = await refused((header, payload) => { payload.jti = jti; });
out.typed_token_endpoint = await refused((header, payload) => {
  header.typ = "client-authentication+jwt";
  payload.aud = as.token_endpoint;
});

// Without the renaming, an Ed25519 assertion is refused (not asserted).
out.ed25519_alg_unrenamed = jwk.alg === "EdDSA"
  ? await (async () => {
    try {
      await oauth.processClientCredentialsResponse(as, client,
        await oauth.clientCredentialsGrantRequest(as, client, oauth.PrivateKeyJwt({ key, kid: jwk.kid }), {}, insecure));
      return "accepted";
    } catch (err) { return err.error ?? String(err); }
  })()
  : undefined;

console.log(JSON.stringify(out));
