// The MCP TypeScript SDK as a judge: its client connects to an oauthkit-
// protected MCP server knowing nothing but the server's URL, and does what
// the MCP authorization specification says — the 401's WWW-Authenticate,
// RFC 9728 protected resource metadata, RFC 8414 authorization server
// metadata, dynamic client registration (RFC 7591), PKCE and the RFC 8707
// resource parameter — then calls the tool get_data. The user's part
// (login and consent pages) is done here with fetch and a cookie jar.
//
// Environment: MCP_URL (the server's /mcp URL), OAUTH_USERNAME,
// OAUTH_PASSWORD, REDIRECT_URI (a loopback URL; nothing needs to listen
// there). Prints one JSON object: what the SDK sent and what it got.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { randomBytes } from 'node:crypto';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is required`);
  return v;
};
const mcpURL = new URL(env('MCP_URL'));
const redirectURI = env('REDIRECT_URI');

// An OAuthClientProvider that keeps everything in memory.
class MemoryProvider {
  constructor() {
    this._state = randomBytes(16).toString('base64url');
    this.authorizationURL = undefined;
    this.registered = undefined;
  }
  get redirectUrl() { return redirectURI; }
  get clientMetadata() {
    return {
      client_name: 'MCP TypeScript SDK judge',
      redirect_uris: [redirectURI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() { return this._state; }
  clientInformation() { return this.registered; }
  saveClientInformation(info) { this.registered = info; }
  tokens() { return this._tokens; }
  saveTokens(t) { this._tokens = t; }
  redirectToAuthorization(u) { this.authorizationURL = new URL(u); }
  saveCodeVerifier(v) { this._verifier = v; }
  codeVerifier() { return this._verifier; }
}

// A cookie jar for one host: enough for the login and consent pages.
const jar = new Map();
async function browse(url, init = {}) {
  const headers = new Headers(init.headers);
  if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
  }
  return res;
}
const field = (html, name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1];

// The user signs in and allows: the login and consent pages, following the
// authorization server's own redirects; returns the query of the redirect
// to the client.
async function userAuthorizes(authURL) {
  let url = new URL(authURL);
  let init = {};
  for (let i = 0; i < 6; i++) {
    const res = await browse(url, init);
    const loc = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && loc) {
      const next = new URL(loc, url);
      if (next.href.startsWith(redirectURI)) return next.searchParams;
      url = next; // the server's own page
      init = {};
      continue;
    }
    const html = await res.text();
    const step = field(html, 'step');
    if (res.status !== 200 || !step) throw new Error(`${url}: ${res.status} ${html}`);
    const form = { step, csrf_token: field(html, 'csrf_token') };
    if (step === 'login') Object.assign(form, { username: env('OAUTH_USERNAME'), password: env('OAUTH_PASSWORD') });
    if (step === 'consent') form.consent = 'allow';
    // The forms post to the page's own URL.
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    };
  }
  throw new Error('no redirect to the client after six pages');
}

const provider = new MemoryProvider();
const clientInfo = { name: 'oauthkit-judge', version: '1.0.0' };

// 1. Without a token: the SDK discovers everything from the 401.
let first = new StreamableHTTPClientTransport(mcpURL, { authProvider: provider });
let unauthorized = false;
try {
  await new Client(clientInfo).connect(first);
} catch (e) {
  if (!(e instanceof UnauthorizedError)) throw e;
  unauthorized = true;
}
if (!unauthorized || !provider.authorizationURL) throw new Error('the SDK did not start authorization');

// 2. The user's part, then the SDK redeems the code.
const back = await userAuthorizes(provider.authorizationURL);
if (back.get('state') !== provider.state()) throw new Error('state mismatch');
if (back.get('error')) throw new Error(`authorization error: ${back.get('error')}`);
await first.finishAuth(back.get('code'));

// 3. Connected with the token: call the tool.
const transport = new StreamableHTTPClientTransport(mcpURL, { authProvider: provider });
const client = new Client(clientInfo);
await client.connect(transport);
const tools = await client.listTools();
const result = await client.callTool({ name: 'get_data', arguments: {} });
await client.close();

const a = provider.authorizationURL.searchParams;
console.log(JSON.stringify({
  authorize: {
    endpoint: provider.authorizationURL.origin + provider.authorizationURL.pathname,
    client_id: a.get('client_id'),
    resource: a.getAll('resource'),
    scope: a.get('scope'),
    code_challenge_method: a.get('code_challenge_method'),
    has_code_challenge: !!a.get('code_challenge'),
  },
  iss: back.get('iss'),
  registered_client_id: provider.registered?.client_id,
  access_token: provider.tokens()?.access_token,
  tools: tools.tools.map((t) => t.name),
  text: result.content?.[0]?.text,
  is_error: !!result.isError,
}));
