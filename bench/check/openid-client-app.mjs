// Reference server for the login benchmark (login.mjs): a bare node `http` server calling
// openid-client 6 (panva, version pinned in package.json / package-lock.json) directly — no
// Express, no middleware — doing a relying party's part of a login as relier's gateway does:
//
//   GET /login     -> 302 to the OP's authorization endpoint (state, nonce, PKCE S256); the
//                     login's id in a cookie, its state/nonce/verifier kept in memory
//   GET /callback  -> the authorization code grant (token request with the client's
//                     authentication, ID token validated by openid-client), then a session
//                     (in memory) and its cookie `oc_session`; 302 to /
//   GET /          -> 200 with a live session, else 401
//
// Configured through the environment:
//   PORT              port to listen on (127.0.0.1 only)
//   ISSUER            the OP's issuer URL (discovery is fetched at start-up)
//   CLIENT_ID         client registered at the OP
//   CLIENT_SECRET     client_secret_basic (when PRIVATE_KEY_JWK is not set)
//   PRIVATE_KEY_JWK   private_key_jwt: the client's private JWK (JSON, with "kid" and "alg";
//                     ES256 or RS256)
//
// stdout carries exactly one line of JSON once it listens: {"url":"http://127.0.0.1:PORT"}.
// It exits when its stdin ends (so a crashed runner never leaves an orphan), on SIGTERM, or on
// SIGINT.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import * as client from 'openid-client';

import { exitWithParent } from './child.mjs';

function need(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`openid-client-app: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const port = Number(need('PORT'));
const baseURL = `http://127.0.0.1:${port}`;
const redirectUri = `${baseURL}/callback`;

// The client authentication: private_key_jwt with an imported key, or client_secret_basic.
async function clientAuth() {
  const jwk = process.env.PRIVATE_KEY_JWK;
  if (!jwk) {
    return { method: 'client_secret_basic', auth: client.ClientSecretBasic(need('CLIENT_SECRET')) };
  }
  const parsed = JSON.parse(jwk);
  const algorithm = parsed.kty === 'RSA'
    ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
    : { name: 'ECDSA', namedCurve: parsed.crv };
  const key = await crypto.webcrypto.subtle.importKey('jwk', parsed, algorithm, false, ['sign']);
  return { method: 'private_key_jwt', auth: client.PrivateKeyJwt({ key, kid: parsed.kid }) };
}

const { method, auth } = await clientAuth();
// The test OP speaks plain HTTP on 127.0.0.1.
const config = await client.discovery(new URL(need('ISSUER')), need('CLIENT_ID'), undefined, auth, {
  execute: [client.allowInsecureRequests],
});

const LOGIN_TTL_MS = 10 * 60 * 1000;
const logins = new Map(); // login id -> { state, nonce, verifier, expires }
const sessions = new Map(); // session id -> { sub, email }

function cookies(req) {
  const out = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) {
      out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
    }
  }
  return out;
}

function redirect(res, location, setCookie) {
  res.writeHead(302, { location, ...(setCookie ? { 'set-cookie': setCookie } : {}) });
  res.end();
}

async function login(req, res) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const id = crypto.randomBytes(32).toString('base64url');
  logins.set(id, { state, nonce, verifier, expires: Date.now() + LOGIN_TTL_MS });
  redirect(res, url.href, `oc_login=${id}; Path=/; HttpOnly; SameSite=Lax`);
}

async function callback(req, res) {
  const id = cookies(req).oc_login;
  const pending = id && logins.get(id);
  if (!pending || pending.expires < Date.now()) {
    res.writeHead(400).end('no login in progress\n');
    return;
  }
  logins.delete(id);
  const tokens = await client.authorizationCodeGrant(config, new URL(req.url, baseURL), {
    pkceCodeVerifier: pending.verifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const session = crypto.randomBytes(32).toString('base64url');
  sessions.set(session, { sub: claims.sub, email: claims.email });
  redirect(res, '/', [
    `oc_session=${session}; Path=/; HttpOnly; SameSite=Lax`,
    'oc_login=; Path=/; Max-Age=0',
  ]);
}

function home(req, res) {
  const s = sessions.get(cookies(req).oc_session);
  if (!s) {
    res.writeHead(401).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'x-auth-request-user': String(s.sub) });
  res.end('logged in\n');
}

const server = http.createServer((req, res) => {
  const path = req.url.replace(/\?.*/, '');
  const route = path === '/login' ? login : path === '/callback' ? callback : path === '/' ? home : null;
  if (!route) {
    res.writeHead(404).end();
    return;
  }
  Promise.resolve(route(req, res)).catch((err) => {
    console.error(`openid-client-app: ${path}: ${err.message}`);
    if (!res.headersSent) {
      res.writeHead(500).end();
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: baseURL })}\n`);
  console.error(`openid-client-app: listening on ${baseURL} (${method})`);
});

exitWithParent('openid-client-app');
