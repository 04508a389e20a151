// dpop.mjs drives the example with oauth4webapi, a certified client
// library that implements DPoP (RFC 9449): the authorization code flow
// with PKCE, dpop_jkt and a DPoP-bound token (retrying when the server asks
// for its nonce, as the library tells), a DPoP-protected call to /api/data,
// the same token as a bearer token, and a refresh with DPoP. The login and
// consent forms are filled by a small cookie-jar client over fetch.
//
// Environment: OAUTHKIT_ISSUER, the example's issuer URL. Prints a JSON
// summary on standard output; throws on anything unexpected.
import * as oauth from "oauth4webapi";

const issuer = new URL(process.env.OAUTHKIT_ISSUER);
const insecure = { [oauth.allowInsecureRequests]: true }; // the example serves http on loopback
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }));
const client = { client_id: "demo-spa" };
const clientAuth = oauth.None();
const keyPair = await oauth.generateKeyPair("ES256", { extractable: true });
const DPoP = oauth.DPoP(client, keyPair);

let nonceRetries = 0;
// withNonce runs a request, and runs it once more when the server asked
// for a DPoP nonce: the library has kept the nonce from the answer.
async function withNonce(fn) {
  try {
    return await fn();
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err;
    nonceRetries++;
    return await fn();
  }
}

// A browser in miniature: cookies kept, redirects not followed.
const jar = new Map();
async function browse(url, form) {
  const headers = { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") };
  let body;
  if (form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(form).toString();
  }
  const res = await fetch(url, { method: form ? "POST" : "GET", headers, body, redirect: "manual" });
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(";");
    const i = pair.indexOf("=");
    jar.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return res;
}
function csrf(html) {
  const m = html.match(/name="csrf_token" value="([^"]+)"/);
  if (!m) throw new Error("no csrf_token in the page: " + html.slice(0, 300));
  return m[1].replaceAll("&#43;", "+").replaceAll("&#x2B;", "+").replaceAll("&amp;", "&");
}

// The authorization request, bound to the DPoP key with dpop_jkt.
const redirectURI = "http://127.0.0.1:8080/callback";
const verifier = oauth.generateRandomCodeVerifier();
const state = oauth.generateRandomState();
const authURL = new URL(as.authorization_endpoint);
for (const [k, v] of Object.entries({
  client_id: client.client_id, response_type: "code", redirect_uri: redirectURI, scope: "read write", state,
  code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  dpop_jkt: await DPoP.calculateThumbprint(),
})) authURL.searchParams.set(k, v);

let res = await browse(authURL);
if (res.status !== 200) throw new Error(`authorization page: ${res.status}`);
res = await browse(authURL, { csrf_token: csrf(await res.text()), step: "login", username: "user1", password: "password1" });
if (res.status !== 303) throw new Error(`login: ${res.status} ${await res.text()}`);
const back = new URL(res.headers.get("location"), authURL);
res = await browse(back);
if (res.status !== 200) throw new Error(`consent page: ${res.status}`);
res = await browse(back, { csrf_token: csrf(await res.text()), step: "consent", consent: "allow" });
const location = res.headers.get("location");
if (!location || !location.startsWith(redirectURI)) throw new Error(`consent: ${res.status} ${location}`);
const params = oauth.validateAuthResponse(as, client, new URL(location), state);

// The code for tokens, with DPoP.
const tokens = await withNonce(async () => oauth.processAuthorizationCodeResponse(as, client,
  await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectURI, verifier, { DPoP, ...insecure })));

// The DPoP-protected API, and the same token as a bearer token.
const api = new URL("/api/data", issuer);
const data = await oauth.protectedResourceRequest(tokens.access_token, "GET", api, new Headers(), null, { DPoP, ...insecure });
const dataBody = await data.json();
let bearer = { status: 0, challenge: "" };
try {
  const r = await oauth.protectedResourceRequest(tokens.access_token, "GET", api, new Headers(), null, insecure);
  bearer = { status: r.status, challenge: "" };
} catch (err) {
  if (!(err instanceof oauth.WWWAuthenticateChallengeError)) throw err;
  bearer = { status: err.response.status, challenge: err.cause.map((c) => `${c.scheme} ${c.parameters.error ?? ""}`).join(", ") };
}

// A refresh with DPoP, and the API with the new token.
const refreshed = await withNonce(async () => oauth.processRefreshTokenResponse(as, client,
  await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, { DPoP, ...insecure })));
const after = await oauth.protectedResourceRequest(refreshed.access_token, "GET", api, new Headers(), null, { DPoP, ...insecure });

console.log(JSON.stringify({
  metadata_algs: as.dpop_signing_alg_values_supported,
  token_type: tokens.token_type,
  scope: tokens.scope,
  nonce_retries: nonceRetries,
  data_status: data.status,
  data: dataBody.data,
  bearer_status: bearer.status,
  bearer_challenge: bearer.challenge,
  refreshed_token_type: refreshed.token_type,
  rotated: refreshed.refresh_token !== tokens.refresh_token && refreshed.access_token !== tokens.access_token,
  after_refresh_status: after.status,
}));
