// oidc.mjs drives openid-client, the certified relying-party library,
// against an oauthkit OpenID Provider: discovery, the code flow with PKCE,
// nonce and state, ID token validation, UserInfo, refresh, RP-Initiated
// Logout, then prompt=none. The login and consent pages are filled in with
// fetch and a small cookie jar, as a browser would. It prints a JSON report
// on stdout; any failure throws (exit status 1).
//
// Environment: ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
// POST_LOGOUT_REDIRECT_URI, USERNAME, PASSWORD.
import * as client from "openid-client";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const issuer = new URL(env("ISSUER"));
const redirectUri = env("REDIRECT_URI");
const postLogout = env("POST_LOGOUT_REDIRECT_URI");

// A cookie jar for the provider's origin.
const jar = new Map();
async function send(url, init = {}) {
  const headers = new Headers(init.headers || {});
  if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
  const res = await fetch(url, { ...init, headers, redirect: "manual" });
  for (const c of res.headers.getSetCookie()) {
    const [nv] = c.split(";");
    const i = nv.indexOf("=");
    const name = nv.slice(0, i), value = nv.slice(i + 1);
    if (value === "" || /max-age=(0|-)/i.test(c)) jar.delete(name);
    else jar.set(name, value);
  }
  return res;
}

// browse follows redirects within the provider and returns the last
// answer: a page, or a redirect elsewhere (to the client).
async function browse(url, init) {
  let res = await send(url, init);
  for (let hops = 0; res.status >= 300 && res.status < 400; hops++) {
    const next = new URL(res.headers.get("location"), url);
    if (next.origin !== issuer.origin || hops > 5) return { res, url: next };
    url = next;
    res = await send(url);
  }
  return { res, url, body: await res.text() };
}

// submit posts a page's form (its hidden fields, and extra) to the page.
function submit(page, extra) {
  const form = new URLSearchParams();
  for (const m of page.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(m[1], m[2].replaceAll("&amp;", "&").replaceAll("&#34;", '"').replaceAll("&#43;", "+"));
  }
  for (const [k, v] of Object.entries(extra)) form.set(k, v);
  return browse(page.url, { method: "POST", body: form, headers: { "content-type": "application/x-www-form-urlencoded" } });
}

// signIn goes through the login and consent pages for authURL and returns
// the URL the provider sends the browser back to.
async function signIn(authURL) {
  let page = await browse(authURL);
  if (page.body?.includes('name="password"')) page = await submit(page, { username: env("USERNAME"), password: env("PASSWORD") });
  if (page.body?.includes('value="allow"')) page = await submit(page, { consent: "allow" });
  if (!page.res.headers.get("location")) throw new Error(`no redirect to the client: ${page.res.status} ${page.body?.slice(0, 300)}`);
  return page.url;
}

const config = await client.discovery(issuer, env("CLIENT_ID"), { redirect_uris: [redirectUri] },
  client.ClientSecretBasic(env("CLIENT_SECRET")), { execute: [client.allowInsecureRequests] });
const meta = config.serverMetadata();

const pkceCodeVerifier = client.randomPKCECodeVerifier();
const expectedNonce = client.randomNonce();
const expectedState = client.randomState();
const authURL = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri, scope: "openid profile email offline_access", prompt: "consent",
  code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier), code_challenge_method: "S256",
  nonce: expectedNonce, state: expectedState,
});
const callback = await signIn(authURL);
const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier, expectedNonce, expectedState, idTokenExpected: true });
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const refreshedClaims = refreshed.claims();

const endSession = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: postLogout, state: "bye" });
const loggedOut = await browse(endSession);

// After the logout, prompt=none: login_required.
const again = await browse(client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri, scope: "openid", prompt: "none", state: "after",
  code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: "S256",
}));

console.log(JSON.stringify({
  issuer: meta.issuer,
  end_session_endpoint: meta.end_session_endpoint,
  sub: claims.sub,
  nonce_checked: claims.nonce === expectedNonce,
  auth_time: claims.auth_time,
  scope: tokens.scope,
  userinfo,
  refreshed: {
    sub: refreshedClaims?.sub, auth_time: refreshedClaims?.auth_time, nonce: refreshedClaims?.nonce ?? null,
    new_access_token: refreshed.access_token !== tokens.access_token,
    new_refresh_token: !!refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token,
  },
  logout: { status: loggedOut.res.status, location: loggedOut.url.href },
  prompt_none_after_logout: again.url.searchParams.get("error"),
}));
