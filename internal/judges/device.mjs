// device.mjs is oauth4webapi's device authorization grant (RFC 8628)
// against the example app, as a device would run it: discovery, the device
// authorization request, then polling the token endpoint, until the Go
// test, acting as the user, has approved the code on the verification page.
//
// Environment: ISSUER (an http://127.0.0.1 issuer), CLIENT_ID (a public
// device client with scope read). Output, one JSON object a line:
//   1. {"user_code", "verification_uri", "verification_uri_complete",
//      "expires_in", "interval", "polls"} once two polls were answered
//      authorization_pending and slow_down: the test then approves;
//   2. {"polls", "scope", "token_type", "api", "api_body", "replay",
//      "api_after_replay"}: every answer seen, the token's scope and type,
//      /api/data with it, a second redemption of the device code, and
//      /api/data again.
import * as oauth from "oauth4webapi";

const issuer = new URL(process.env.ISSUER);
const client = { client_id: process.env.CLIENT_ID };
const auth = oauth.None();
const insecure = { [oauth.allowInsecureRequests]: true }; // the test's issuer is http://127.0.0.1
const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));

const as = await oauth.processDiscoveryResponse(
  issuer,
  await oauth.discoveryRequest(issuer, { ...insecure, algorithm: "oauth2" }),
);
if (!as.device_authorization_endpoint) throw new Error("no device_authorization_endpoint in the metadata");
if (!as.grant_types_supported?.includes("urn:ietf:params:oauth:grant-type:device_code")) {
  throw new Error("the device code grant is not in grant_types_supported");
}

const da = await oauth.processDeviceAuthorizationResponse(
  as,
  client,
  await oauth.deviceAuthorizationRequest(as, client, auth, new URLSearchParams({ scope: "read" }), insecure),
);

// One poll: the tokens, or the ResponseBodyError's code and status.
async function poll() {
  const res = await oauth.deviceCodeGrantRequest(as, client, auth, da.device_code, insecure);
  try {
    return { tokens: await oauth.processDeviceCodeResponse(as, client, res) };
  } catch (err) {
    if (err instanceof oauth.ResponseBodyError) return { answer: `${err.error} ${err.status}` };
    throw err;
  }
}

const polls = [];
// Before the user acts: pending, then, polled again at once, slow_down.
for (const want of ["authorization_pending 400", "slow_down 400"]) {
  const { answer } = await poll();
  polls.push(answer);
  if (answer !== want) throw new Error(`poll answered ${answer}, want ${want}`);
}
let interval = (da.interval ?? 5) + 5; // RFC 8628 §3.5: slow_down adds 5 s
console.log(JSON.stringify({
  user_code: da.user_code,
  verification_uri: da.verification_uri,
  verification_uri_complete: da.verification_uri_complete,
  expires_in: da.expires_in,
  interval: da.interval,
  polls,
}));

let tokens;
const deadline = Date.now() + da.expires_in * 1000;
while (!tokens && Date.now() < deadline) {
  await sleep(interval);
  const got = await poll();
  if (got.tokens) {
    tokens = got.tokens;
    break;
  }
  polls.push(got.answer);
  if (got.answer === "slow_down 400") interval += 5;
  else if (got.answer !== "authorization_pending 400") throw new Error(`polling stopped: ${got.answer}`);
}
if (!tokens) throw new Error("the device code expired before it was approved");

// /api/data with the access token: its status and body. oauth4webapi
// turns a 401 challenge into an error.
async function api() {
  try {
    const res = await oauth.protectedResourceRequest(tokens.access_token, "GET", new URL("/api/data", issuer), undefined, undefined, insecure);
    return [res.status, await res.text()];
  } catch (err) {
    if (err instanceof oauth.WWWAuthenticateChallengeError) return [err.status, ""];
    throw err;
  }
}
const [status, body] = await api();
const replay = await poll();
const [after] = await api();
console.log(JSON.stringify({
  polls,
  scope: tokens.scope,
  token_type: tokens.token_type,
  api: status,
  api_body: body,
  replay: replay.answer ?? "tokens",
  api_after_replay: after,
}));
