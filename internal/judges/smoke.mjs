// smoke.mjs checks that the judges' packages load, and prints what they export.
import * as oidc from "openid-client";
import * as oauth from "oauth4webapi";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";

console.log(JSON.stringify({
  openidClient: typeof oidc.discovery,
  oauth4webapi: typeof oauth.discoveryRequest,
  mcp: typeof Client,
}));
