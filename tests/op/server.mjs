// Interop test OpenID Provider for relier's integration tests.
//
// Wraps panva's oidc-provider (pinned in package.json) with:
//   * a headless, automatic interaction (login as `alice`, or the `login_hint`
//     account, and consent to everything requested),
//   * an unbounded in-memory adapter (the library's default one is an LRU that
//     evicts under load),
//   * an optional mTLS listener (tls_client_auth / self_signed_tls_client_auth),
//   * test-only admin routes under /__test/ (key rotation, runtime clients).
//
// Usage: node tests/op/server.mjs CONFIG.json
//
// CONFIG.json (written by tests/src/oidc_provider.rs):
//   {
//     "tls": { "cert": "server.pem", "key": "server.key", "ca": "ca.pem" },  // optional
//     "clients": [ { ...client metadata... } ],
//     "signing_algs": ["RS256", "PS256", "ES256", "EdDSA", "HS256"],          // optional
//     "registration": { "initial_access_token": "..." },                      // optional
//     "conform_id_token_claims": true,                                       // optional
//     "rotate_refresh_token": false,                                         // optional
//     "response_types": ["code"],                                            // optional
//     "interactive": { "users": { "alice": "PASSWORD" } },                   // optional
//     "encryption": true,                                                    // optional
//     "secured_authorization": true | "require_signed_request_object",        // optional
//     "dpop": { "require_nonce": true },                                     // optional
//     "certificate_bound_access_tokens": true,                               // optional
//     "fapi2": true,                                                         // optional
//     "client_credentials": true,                                            // optional
//     "device_flow": true,                                                   // optional
//     "token_exchange": true,                                                // optional
//     "resource_servers": { "https://api.example.com/": { "scope": "a b" } }, // optional
//       (a server may add "format": "opaque")
//     "request_uri": true,                                                   // optional
//     "unsigned_request_objects": ["client_id", ...],                        // optional
//     "request_object_encryption": true,                                     // optional
//     "jwks_cache_control": "max-age=60"                                     // optional
//   }
//
// "client_credentials": true enables the client credentials grant (RFC 6749 §4.4) for clients
// that register it in grant_types.
// "device_flow": true enables the device authorization grant (RFC 8628) for clients that
// register urn:ietf:params:oauth:grant-type:device_code; the user approves at
// verification_uri_complete (GET, then the confirmation form: confirm=yes, or abort=yes to
// deny), then logs in headlessly like any other login.
// "token_exchange": true registers OAuth 2.0 Token Exchange (RFC 8693) for clients that list
// urn:ietf:params:oauth:grant-type:token-exchange in grant_types: subject_token is an (opaque)
// access token this OP issued to the same client (subject_token_type access_token), audience is
// required; the answer is a new opaque access token of the same user, grant and scope with
// `aud` = audience and `gty` token-exchange (introspection shows both).
// "resource_servers" makes each URI a resource indicator (RFC 8707): a token requested with
// `resource=URI` is a JWT access token (RFC 9068) with that `aud` and the scopes of the
// requested ones that the server lists ({ "scope": "…", "format": "opaque" }: an opaque token
// with that `aud`, for introspection, RFC 7662).
// "request_uri": true emulates request objects by reference (OIDC Core §6.2, RFC 9101 §5.2),
// which oidc-provider supports only through PAR: an authorization request's request_uri is
// fetched (loopback allowed; Content-Type must be application/oauth-authz-req+jwt) and its body
// becomes the `request` parameter. It also accepts unsigned request objects (OIDC Core §6.1,
// alg none) from the clients listed in "unsigned_request_objects" (registered with
// request_object_signing_alg "none", which oidc-provider cannot register and refuses),
// checking iss, aud and exp and expanding the claims into the parameters.
// Every fetch is logged for GET /__test/request-uris.
// "request_object_encryption": true publishes an RSA-OAEP-256 `use: enc` key and decrypts
// encrypted request objects (nested JWT, `cty: JWT`) with it — oidc-provider decrypts only
// symmetric ones. POST /__test/rotate-enc replaces the key (the old one no longer decrypts).
// "jwks_cache_control" is sent as the JWKS response's Cache-Control.
//
// "encryption": true enables encrypted ID tokens and UserInfo (OIDC Core §10.2) for
// clients that register id_token_encrypted_response_* / userinfo_encrypted_response_*.
//
// "secured_authorization" enables signed request objects (RFC 9101; clients may
// register require_signed_request_object) and JARM (response_mode=jwt, for
// clients that register authorization_signed_response_alg);
// "require_signed_request_object" also requires request objects of every client
// (and says so in the discovery document, RFC 9101 §10.5).
// "dpop": DPoP (RFC 9449) is always on for proofs a client sends; with this object the OP
// also hands out DPoP-Nonce values, and "require_nonce": true demands one in every proof
// (token endpoint 400 use_dpop_nonce, §8; UserInfo 401 use_dpop_nonce, §9).
//
// "certificate_bound_access_tokens": true binds the tokens of clients that register
// tls_client_certificate_bound_access_tokens to their mTLS certificate (RFC 8705 §3).
//
// "https_issuer": true (with "tls") makes the TLS listener the issuer: an https OP.
//
// stdout carries exactly one line of JSON:
//   {"issuer":"http://127.0.0.1:PORT","mtls_base":"https://127.0.0.1:TLSPORT"|null}
// Everything else is logged on stderr. The process exits when its stdin ends
// (so a crashed test runner never leaves an orphan), on SIGTERM, or on SIGINT.
// Set OP_IGNORE_STDIN=1 to keep it running with a closed stdin.
//
// Headless login: GET /interaction/:uid logs in `alice` (or the account named
// by login_hint, e.g. `bob`) and consents to every requested scope and claim.
//
// Interactive login (CONFIG.interactive, for the demo and the browser test):
// GET /interaction/:uid shows an HTML form (username, password) that posts back
// to the same URL; only the users of CONFIG.interactive.users sign in. Consent
// is still given automatically.
//
// Test-only routes (plain JSON, no auth, loopback only):
//   POST /__test/rotate?alg=RS256[&retire=1] -> {"kid"}: new signing key, used
//        from now on; the old one stays published unless retire=1.
//   POST /__test/clients  (client metadata JSON) -> 201 + stored metadata
//   GET  /__test/health   -> 200
//   POST /__test/rotate-enc -> {"kid"}: a new request object encryption key replaces the old
//   GET  /__test/request-uris -> [{"uri","status","content_type"}]: request_uri fetches

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

// oidc-provider prints its NOTICEs with console.info, i.e. on stdout. stdout is
// reserved for the single JSON line, so route every console method to stderr
// before the library is loaded (hence the dynamic import below).
for (const method of ['log', 'info', 'debug', 'warn', 'trace']) {
  console[method] = (...args) => console.error(...args);
}

const { default: Provider, errors: OidcErrors } = await import('oidc-provider');
console.error(`test-op: oidc-provider loaded at ${Math.round(performance.now())} ms`);

// ---------------------------------------------------------------------------
// configuration input

function fail(message, cause) {
  console.error(`test-op: ${message}`, cause ?? '');
  process.exit(1);
}

const configPath = process.argv[2];
if (!configPath) {
  fail('usage: node server.mjs CONFIG.json');
}

let cfg;
try {
  cfg = JSON.parse(fs.readFileSync(configPath, 'utf8'));
} catch (err) {
  fail(`cannot read config ${configPath}`, err);
}

const DEFAULT_SIGNING_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256'];
const signingAlgs = Array.isArray(cfg.signing_algs) && cfg.signing_algs.length
  ? cfg.signing_algs
  : DEFAULT_SIGNING_ALGS;

// ---------------------------------------------------------------------------
// accounts

const ACCOUNTS = {
  alice: {
    sub: 'alice',
    email: 'alice@example.com',
    email_verified: true,
    name: 'Alice Liddell',
    given_name: 'Alice',
    family_name: 'Liddell',
  },
  bob: {
    sub: 'bob',
    email: 'bob@example.com',
    email_verified: true,
    name: 'Bob Builder',
    given_name: 'Bob',
    family_name: 'Builder',
  },
};

const SIMPLE_ACCOUNT_ID = /^[A-Za-z0-9._@-]{1,64}$/;

function accountClaims(accountId) {
  if (Object.hasOwn(ACCOUNTS, accountId)) {
    return { ...ACCOUNTS[accountId] };
  }
  // Any other simple login_hint gets a synthesized account, so tests can use
  // distinct subjects without configuring them here.
  return {
    sub: accountId,
    email: `${accountId}@example.com`,
    email_verified: false,
    name: accountId,
    given_name: accountId,
    family_name: 'Test',
  };
}

function accountForLoginHint(loginHint) {
  if (typeof loginHint === 'string' && SIMPLE_ACCOUNT_ID.test(loginHint)) {
    return loginHint;
  }
  return 'alice';
}

async function findAccount(_ctx, sub) {
  if (typeof sub !== 'string' || !SIMPLE_ACCOUNT_ID.test(sub)) {
    return undefined;
  }
  return {
    accountId: sub,
    async claims() {
      return accountClaims(sub);
    },
  };
}

// ---------------------------------------------------------------------------
// unbounded in-memory adapter with expiry. The storage is module-level so it
// survives Provider rebuilds (key rotation).

const storage = new Map(); // key -> { value, expiresAt (ms) | undefined }
const grantIndex = new Map(); // grantId -> Set<storage key>
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

function storageGet(key) {
  const entry = storage.get(key);
  if (entry === undefined) {
    return undefined;
  }
  if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
    storage.delete(key);
    return undefined;
  }
  return entry.value;
}

function storageSet(key, value, expiresIn) {
  const expiresAt = typeof expiresIn === 'number' && Number.isFinite(expiresIn)
    ? Date.now() + (expiresIn * 1000)
    : undefined;
  storage.set(key, { value, expiresAt });
}

setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of storage) {
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
      storage.delete(key);
    }
  }
  for (const [grantId, keys] of grantIndex) {
    for (const key of keys) {
      if (!storage.has(key)) {
        keys.delete(key);
      }
    }
    if (keys.size === 0) {
      grantIndex.delete(grantId);
    }
  }
}, 60_000).unref();

class MapAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    storageSet(key, payload, expiresIn);

    if (this.model === 'Session' && payload.uid) {
      storageSet(`sessionUid:${payload.uid}`, id, expiresIn);
    }
    if (payload.userCode) {
      storageSet(`userCode:${payload.userCode}`, id, expiresIn);
    }
    if (GRANTABLE.has(this.model) && payload.grantId) {
      let keys = grantIndex.get(payload.grantId);
      if (!keys) {
        keys = new Set();
        grantIndex.set(payload.grantId, keys);
      }
      keys.add(key);
    }
  }

  async find(id) {
    return storageGet(this.key(id));
  }

  async findByUid(uid) {
    const id = storageGet(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = storageGet(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = storageGet(this.key(id));
    if (payload) {
      payload.consumed = Math.floor(Date.now() / 1000);
    }
  }

  async destroy(id) {
    storage.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const keys = grantIndex.get(grantId);
    if (keys) {
      for (const key of keys) {
        storage.delete(key);
      }
      grantIndex.delete(grantId);
    }
  }
}

// ---------------------------------------------------------------------------
// signing keys

let keySeq = 0;

function keyTypeForAlg(alg) {
  switch (alg) {
    case 'RS256': case 'RS384': case 'RS512':
    case 'PS256': case 'PS384': case 'PS512':
      return { type: 'rsa', label: 'rsa', options: { modulusLength: 2048 } };
    case 'ES256':
      return { type: 'ec', label: 'es256', options: { namedCurve: 'P-256' }, alg: 'ES256' };
    case 'ES384':
      return { type: 'ec', label: 'es384', options: { namedCurve: 'P-384' }, alg: 'ES384' };
    case 'ES512':
      return { type: 'ec', label: 'es512', options: { namedCurve: 'P-521' }, alg: 'ES512' };
    case 'EdDSA': case 'Ed25519':
      return { type: 'ed25519', label: 'eddsa', options: {}, alg: 'EdDSA' };
    default:
      return undefined; // HS* (client secret based) or unknown
  }
}

// RSA keys are published without "alg" so that one key serves RS256 and PS256
// (oidc-provider picks, for a given alg, the first usable key in the keystore).
function generateSigningKey(alg) {
  const kt = keyTypeForAlg(alg);
  if (!kt) {
    throw new Error(`cannot generate a signing key for alg ${alg}`);
  }
  const { privateKey } = crypto.generateKeyPairSync(kt.type, kt.options);
  const jwk = privateKey.export({ format: 'jwk' });
  keySeq += 1;
  jwk.kid = `${kt.label}-${keySeq}-${crypto.randomBytes(4).toString('hex')}`;
  jwk.use = 'sig';
  if (kt.alg) {
    jwk.alg = kt.alg;
  }
  return { label: kt.label, jwk };
}

// Newest first: the provider signs with the first matching key.
let signingKeys = [];
{
  const labels = new Set();
  for (const alg of signingAlgs) {
    const kt = keyTypeForAlg(alg);
    if (kt && !labels.has(kt.label)) {
      labels.add(kt.label);
      signingKeys.push(generateSigningKey(alg));
    }
  }
}

const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

// The request object encryption key (CONFIG.request_object_encryption), replaced on rotation.
function generateEncryptionKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  jwk.kid = `enc-${crypto.randomBytes(6).toString('hex')}`;
  jwk.use = 'enc';
  jwk.alg = 'RSA-OAEP-256';
  return jwk;
}
let encryptionKey = cfg.request_object_encryption === true ? generateEncryptionKey() : null;
const requestUriFetches = [];

// Start-up milestones on stderr (ms since the process started), so a slow or
// stuck start on a loaded machine shows where it stopped.
function stage(what) {
  console.error(`test-op: ${what} at ${Math.round(performance.now())} ms`);
}
stage('signing keys ready');

// ---------------------------------------------------------------------------
// mTLS helpers

function peerCertificate(ctx) {
  const socket = ctx.socket ?? ctx.req?.socket;
  if (!socket || typeof socket.getPeerCertificate !== 'function') {
    return undefined;
  }
  const peer = socket.getPeerCertificate(false);
  if (!peer || !peer.raw) {
    return undefined;
  }
  return peer;
}

function getCertificate(ctx) {
  const peer = peerCertificate(ctx);
  if (!peer) {
    return undefined;
  }
  const b64 = peer.raw.toString('base64').match(/.{1,64}/g).join('\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

// RFC 9449 with server-provided nonces when CONFIG.dpop is an object (see the header).
function dpopFeature() {
  const dpop = cfg.dpop && typeof cfg.dpop === 'object' ? cfg.dpop : undefined;
  if (!dpop) {
    return { enabled: true };
  }
  const required = dpop.require_nonce === true;
  return {
    enabled: true,
    nonceSecret: crypto.randomBytes(32),
    requireNonce: () => required,
  };
}

function certificateAuthorized(ctx) {
  const socket = ctx.socket ?? ctx.req?.socket;
  return socket?.authorized === true;
}

const DN_ALIASES = new Map([
  ['COMMONNAME', 'CN'],
  ['ORGANIZATIONNAME', 'O'],
  ['ORGANIZATIONALUNITNAME', 'OU'],
  ['COUNTRYNAME', 'C'],
  ['LOCALITYNAME', 'L'],
  ['STATEORPROVINCENAME', 'ST'],
  ['ST', 'ST'],
  ['S', 'ST'],
  ['EMAILADDRESS', 'EMAILADDRESS'],
  ['E', 'EMAILADDRESS'],
  ['DOMAINCOMPONENT', 'DC'],
  ['STREET', 'STREET'],
  ['SERIALNUMBER', 'SERIALNUMBER'],
  ['2.5.4.3', 'CN'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.6', 'C'],
]);

function splitUnescaped(input, separators) {
  const parts = [];
  let current = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c === '\\' && i + 1 < input.length) {
      current += input[i + 1];
      i += 1;
    } else if (separators.includes(c)) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

// Normalizes a DN (RFC 4514 "CN=a,O=b" or node's "O=b\nCN=a") into a sorted
// list of TYPE=value strings; attribute order is ignored.
function normalizeDn(dn) {
  return splitUnescaped(dn, [',', '+', '\n'])
    .map((rdn) => rdn.trim())
    .filter(Boolean)
    .map((rdn) => {
      const eq = rdn.indexOf('=');
      if (eq === -1) {
        return rdn;
      }
      const type = rdn.slice(0, eq).trim().toUpperCase();
      const value = rdn.slice(eq + 1).trim();
      return `${DN_ALIASES.get(type) ?? type}=${value}`;
    })
    .sort();
}

function subjectAltNames(x509) {
  const out = {
    dns: [], ip: [], uri: [], email: [],
  };
  const raw = x509.subjectAltName;
  if (!raw) {
    return out;
  }
  // node formats SANs as `DNS:a, IP Address:1.2.3.4, URI:..., email:...`;
  // values with special characters are JSON-quoted.
  const re = /(DNS|IP Address|URI|email):("(?:[^"\\]|\\.)*"|[^,]*)(?:,\s*|$)/g;
  let match;
  while ((match = re.exec(raw)) !== null) {
    let value = match[2];
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value);
      } catch {
        // keep the raw value
      }
    }
    switch (match[1]) {
      case 'DNS': out.dns.push(value); break;
      case 'IP Address': out.ip.push(value); break;
      case 'URI': out.uri.push(value); break;
      case 'email': out.email.push(value); break;
      default:
    }
    if (match[0] === '') {
      break;
    }
  }
  return out;
}

function certificateSubjectMatches(ctx, property, expected) {
  const peer = peerCertificate(ctx);
  if (!peer) {
    return false;
  }
  const x509 = new crypto.X509Certificate(peer.raw);
  switch (property) {
    case 'tls_client_auth_subject_dn': {
      const a = normalizeDn(x509.subject);
      const b = normalizeDn(expected);
      return a.length === b.length && a.every((v, i) => v === b[i]);
    }
    case 'tls_client_auth_san_dns':
      return subjectAltNames(x509).dns.some((v) => v.toLowerCase() === expected.toLowerCase());
    case 'tls_client_auth_san_ip':
      return subjectAltNames(x509).ip.includes(expected);
    case 'tls_client_auth_san_uri':
      return subjectAltNames(x509).uri.includes(expected);
    case 'tls_client_auth_san_email':
      return subjectAltNames(x509).email.includes(expected);
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------
// provider configuration

// oidc-provider refuses to talk to special-use addresses (127.0.0.0/8 among
// them): its fetch helper injects an SSRF-checking undici `dispatcher` into the
// options before calling the configurable `fetch`. Dropping that dispatcher
// lets it fetch loopback jwks_uri / sector_identifier_uri / backchannel logout
// endpoints.
function loopbackFetch(url, options) {
  const { dispatcher: _ssrfDispatcher, ...rest } = options ?? {};
  return globalThis.fetch(url, rest);
}

// Headless RP-initiated logout: the confirmation form submits itself with
// logout=yes, so a redirect-following client completes the logout.
async function logoutSource(ctx, form) {
  const autoForm = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
  ctx.body = `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Logout</title></head>
<body onload="document.forms[0].submit()">
${autoForm}
<script>document.forms[0].submit()</script>
</body>
</html>`;
}

async function postLogoutSuccessSource(ctx) {
  ctx.type = 'json';
  ctx.body = { logged_out: true, client_id: ctx.oidc.client?.clientId ?? null };
}

// The library's default policies, minus their "you SHOULD change it" notice:
// a public client may only introspect / revoke its own tokens, a confidential
// client may introspect any token but only revoke its own.
async function introspectionAllowedPolicy(ctx, client, token) {
  return !(client.clientAuthMethod === 'none' && token.clientId !== ctx.oidc.client.clientId);
}

async function revocationAllowedPolicy(_ctx, client, token) {
  if (token.clientId !== client.clientId) {
    if (client.clientAuthMethod === 'none') {
      return false;
    }
    throw new OidcErrors.InvalidRequest('client is not authorized to revoke the presented token');
  }
  return true;
}

const RESOURCE_SERVERS = cfg.resource_servers && typeof cfg.resource_servers === 'object'
  ? cfg.resource_servers
  : {};

// RFC 8707: only the configured resource servers exist; their tokens are RFC 9068 JWTs.
async function getResourceServerInfo(_ctx, resourceIndicator) {
  if (!Object.hasOwn(RESOURCE_SERVERS, resourceIndicator)) {
    throw new OidcErrors.InvalidTarget();
  }
  const server = RESOURCE_SERVERS[resourceIndicator] ?? {};
  return {
    scope: typeof server.scope === 'string' ? server.scope : '',
    audience: resourceIndicator,
    accessTokenFormat: server.format === 'opaque' ? 'opaque' : 'jwt',
  };
}

async function renderError(ctx, out) {
  ctx.type = 'json';
  ctx.body = out;
}

const CLIENT_AUTH_SIGNING_ALGS = [
  'HS256', 'HS384', 'HS512',
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
  'EdDSA', 'Ed25519',
];

let issuer;
let mtlsBase = null;

function makeConfiguration() {
  const registration = cfg.registration && typeof cfg.registration === 'object'
    ? cfg.registration
    : undefined;
  const discovery = {
    claim_types_supported: ['normal'],
  };
  if (mtlsBase) {
    discovery.mtls_endpoint_aliases = {
      token_endpoint: `${mtlsBase}/token`,
      introspection_endpoint: `${mtlsBase}/token/introspection`,
      revocation_endpoint: `${mtlsBase}/token/revocation`,
      userinfo_endpoint: `${mtlsBase}/me`,
    };
  }

  const configuration = {
    adapter: MapAdapter,
    clients: structuredClone(Array.isArray(cfg.clients) ? cfg.clients : []),
    jwks: { keys: signingKeys.map(({ jwk }) => structuredClone(jwk)) },
    cookies: { keys: cookieKeys },
    findAccount,
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name'],
      email: ['email', 'email_verified'],
    },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    // authorization_code (+ refresh_token) only, unless the config says otherwise.
    responseTypes: Array.isArray(cfg.response_types) && cfg.response_types.length
      ? [...cfg.response_types]
      : ['code'],
    conformIdTokenClaims: cfg.conform_id_token_claims !== false,
    clientAuthMethods: [
      'none',
      'client_secret_basic',
      'client_secret_post',
      'client_secret_jwt',
      'private_key_jwt',
      'tls_client_auth',
      'self_signed_tls_client_auth',
    ],
    enabledJWA: {
      clientAuthSigningAlgValues: CLIENT_AUTH_SIGNING_ALGS,
      idTokenSigningAlgValues: [...signingAlgs],
      userinfoSigningAlgValues: [...signingAlgs],
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      // RFC 9126; CONFIG.require_par makes every client push its requests.
      pushedAuthorizationRequests: {
        enabled: true,
        requirePushedAuthorizationRequests: cfg.require_par === true,
      },
      introspection: { enabled: true, allowedPolicy: introspectionAllowedPolicy },
      revocation: { enabled: true, allowedPolicy: revocationAllowedPolicy },
      userinfo: { enabled: true },
      jwtUserinfo: { enabled: true },
      encryption: { enabled: cfg.encryption === true },
      requestObjects: {
        enabled: Boolean(cfg.secured_authorization),
        requireSignedRequestObject: cfg.secured_authorization === 'require_signed_request_object',
      },
      jwtResponseModes: { enabled: Boolean(cfg.secured_authorization) },
      dPoP: dpopFeature(),
      clientCredentials: { enabled: cfg.client_credentials === true },
      deviceFlow: { enabled: cfg.device_flow === true },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo,
      },
      // "fapi2": true holds every client to the OP's FAPI 2.0 Security Profile checks (PKCE,
      // assertion aud = the issuer, request object exp/nbf, no omitted redirect_uri).
      fapi: cfg.fapi2 === true ? { enabled: true, profile: '2.0' } : { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      backchannelLogout: { enabled: true },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: cfg.certificate_bound_access_tokens === true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate,
        certificateAuthorized,
        certificateSubjectMatches,
      },
      registration: registration
        ? {
          enabled: true,
          initialAccessToken: typeof registration.initial_access_token === 'string'
            && registration.initial_access_token
            ? registration.initial_access_token
            : false,
          issueRegistrationAccessToken: true,
        }
        : { enabled: false },
      registrationManagement: registration
        ? { enabled: true, rotateRegistrationAccessToken: false }
        : { enabled: false },
    },
    // offline_access is stripped from authorization requests without
    // prompt=consent; issue refresh tokens to every client allowed to use the
    // refresh_token grant regardless.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 600,
      ClientCredentials: 600,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
      IdToken: 3600,
      RefreshToken: 30 * 24 * 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 30 * 24 * 3600,
    },
    interactions: {
      url: async (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    fetch: loopbackFetch,
    discovery,
    renderError,
  };

  if (typeof cfg.rotate_refresh_token === 'boolean') {
    const value = cfg.rotate_refresh_token;
    configuration.rotateRefreshToken = () => value;
  }

  return configuration;
}

const LOGGED_EVENTS = [
  'authorization.error', 'grant.error', 'userinfo.error', 'introspection.error',
  'revocation.error', 'end_session.error', 'end_session_confirm.error',
  'registration_create.error', 'registration_read.error', 'registration_update.error',
  'registration_delete.error', 'jwks.error', 'discovery.error',
  'pushed_authorization_request.error', 'backchannel.error',
];

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

// RFC 8693 §2.1 / §2.2: the token exchange grant, as "token_exchange" above describes it.
async function tokenExchangeHandler(ctx) {
  const { client, params, provider } = ctx.oidc;
  if (params.subject_token_type !== ACCESS_TOKEN_TYPE) {
    throw new OidcErrors.InvalidRequest('subject_token_type must be urn:ietf:params:oauth:token-type:access_token');
  }
  if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
    throw new OidcErrors.InvalidRequest('only access tokens are issued');
  }
  if (!params.audience) {
    throw new OidcErrors.InvalidTarget('audience is required');
  }
  const subject = await provider.AccessToken.find(params.subject_token);
  if (!subject || subject.isExpired) {
    throw new OidcErrors.InvalidGrant('subject_token is invalid or expired');
  }
  if (subject.clientId !== client.clientId) {
    throw new OidcErrors.InvalidGrant('subject_token was issued to another client');
  }
  const token = new provider.AccessToken({
    accountId: subject.accountId,
    client,
    grantId: subject.grantId,
    scope: subject.scope,
    gty: 'token-exchange',
    sid: subject.sid,
  });
  token.setAudience(params.audience);
  ctx.oidc.entity('AccessToken', token);
  const value = await token.save();
  ctx.body = {
    access_token: value,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: 'Bearer',
    expires_in: token.expiration,
    scope: token.scope,
  };
}

// The http handlers always go through `current`, so the Provider can be
// rebuilt (e.g. with a new keystore) while the servers and storage stay.
let current;

async function buildProvider() {
  const provider = new Provider(issuer, makeConfiguration());
  if (cfg.token_exchange === true) {
    provider.registerGrantType(TOKEN_EXCHANGE, tokenExchangeHandler, [
      'subject_token', 'subject_token_type', 'audience', 'requested_token_type',
      'actor_token', 'actor_token_type', 'scope', 'resource',
    ]);
  }
  provider.on('server_error', (_ctx, err) => console.error('test-op server_error:', err));
  for (const event of LOGGED_EVENTS) {
    provider.on(event, (_ctx, err) => {
      console.error(`test-op ${event}: ${err?.message ?? err}${err?.error_description ? ` (${err.error_description})` : ''}`);
    });
  }
  // Static clients are validated lazily by the library; validate them now so
  // a bad fixture fails at start-up with a readable message.
  for (const client of Array.isArray(cfg.clients) ? cfg.clients : []) {
    try {
      await provider.Client.find(client.client_id);
    } catch (err) {
      throw new Error(`invalid client ${client.client_id}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`);
    }
  }
  current = { provider, callback: provider.callback() };
  return provider;
}

// ---------------------------------------------------------------------------
// headless interactions

const INTERACTIVE_USERS = cfg.interactive && typeof cfg.interactive.users === 'object'
  ? new Map(Object.entries(cfg.interactive.users))
  : undefined;

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sendLoginForm(res, uid, status, error) {
  const body = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo OP: sign in</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:22rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin:.75rem 0}input{display:block;width:100%;padding:.5rem;font:inherit}
button{margin-top:1rem;padding:.6rem 1.2rem;font:inherit}.error{color:#b00020}</style></head>
<body><h1>Demo OP</h1><p>Sign in to continue to the application.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}">
<label>Username <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form></body></html>`;
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
  res.end(body);
}

async function readFormBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) {
      throw Object.assign(new Error('request body too large'), { status: 413 });
    }
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function passwordMatches(expected, given) {
  const a = crypto.createHash('sha256').update(String(expected)).digest();
  const b = crypto.createHash('sha256').update(String(given)).digest();
  return crypto.timingSafeEqual(a, b);
}

// Interactive login: the form on GET, the check on POST. Returns the account
// id once the user signed in, undefined when a page was sent.
async function interactiveLogin(req, res, uid) {
  if (req.method !== 'POST') {
    sendLoginForm(res, uid, 200);
    return undefined;
  }
  const form = await readFormBody(req);
  const username = form.get('username') ?? '';
  const password = form.get('password') ?? '';
  const expected = INTERACTIVE_USERS.get(username);
  if (expected === undefined || !passwordMatches(expected, password)) {
    sendLoginForm(res, uid, 401, 'Wrong username or password.');
    return undefined;
  }
  return username;
}

async function handleInteraction(req, res) {
  const { provider } = current;
  const details = await provider.interactionDetails(req, res);
  const {
    prompt, params, session, grantId,
  } = details;

  switch (prompt.name) {
    case 'login': {
      const accountId = INTERACTIVE_USERS
        ? await interactiveLogin(req, res, details.uid)
        : accountForLoginHint(params.login_hint);
      if (accountId === undefined) {
        return;
      }
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    case 'consent': {
      let grant = grantId ? await provider.Grant.find(grantId) : undefined;
      if (!grant) {
        grant = new provider.Grant({
          accountId: session.accountId,
          clientId: params.client_id,
        });
      }
      const missing = prompt.details ?? {};
      const scopes = new Set([
        ...(missing.missingOIDCScope ?? []),
        ...(typeof params.scope === 'string' ? params.scope.split(' ') : []),
      ]);
      scopes.delete('');
      if (scopes.size) {
        grant.addOIDCScope([...scopes].join(' '));
      }
      if (missing.missingOIDCClaims?.length) {
        grant.addOIDCClaims(missing.missingOIDCClaims);
      }
      for (const [indicator, rsScopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, rsScopes.join(' '));
      }
      const savedGrantId = await grant.save();
      const consent = grantId ? {} : { grantId: savedGrantId };
      await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
      return;
    }
    default:
      sendJson(res, 400, { error: 'unsupported_prompt', prompt: prompt.name });
  }
}

// ---------------------------------------------------------------------------
// admin routes

function sendJson(res, status, body) {
  const data = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(data));
  res.setHeader('Cache-Control', 'no-store');
  res.end(data);
}

async function readJsonBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 1024 * 1024) {
      throw Object.assign(new Error('request body too large'), { status: 413 });
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw Object.assign(new Error('request body is not valid JSON', { cause }), { status: 400 });
  }
}

// Serialize operations that rebuild the provider.
let adminQueue = Promise.resolve();
function serialized(fn) {
  const run = adminQueue.then(fn, fn);
  adminQueue = run.catch(() => {});
  return run;
}

async function handleAdmin(req, res, url) {
  const route = url.pathname.replace(/\/+$/, '');

  if (route === '/__test/health' && (req.method === 'GET' || req.method === 'HEAD')) {
    sendJson(res, 200, { ok: true, issuer });
    return;
  }

  if (route === '/__test/rotate' && req.method === 'POST') {
    const body = await readJsonBody(req);
    const alg = url.searchParams.get('alg') ?? body?.alg ?? 'RS256';
    const retire = ['1', 'true', 'yes'].includes(url.searchParams.get('retire') ?? '')
      || body?.retire === true;
    if (!keyTypeForAlg(alg)) {
      sendJson(res, 400, { error: 'invalid_request', error_description: `cannot rotate alg ${alg}` });
      return;
    }
    const kid = await serialized(async () => {
      const fresh = generateSigningKey(alg);
      const previous = signingKeys;
      signingKeys = [fresh, ...previous.filter((k) => !retire || k.label !== fresh.label)];
      try {
        await buildProvider();
      } catch (err) {
        signingKeys = previous;
        throw err;
      }
      return fresh.jwk.kid;
    });
    console.error(`test-op: rotated ${alg} signing key, now signing with kid ${kid}`);
    sendJson(res, 200, { kid });
    return;
  }

  if (route === '/__test/rotate-enc' && req.method === 'POST' && encryptionKey) {
    const kid = await serialized(async () => {
      const previous = encryptionKey;
      encryptionKey = generateEncryptionKey();
      try {
        await buildProvider();
      } catch (err) {
        encryptionKey = previous;
        throw err;
      }
      return encryptionKey.kid;
    });
    console.error(`test-op: rotated the request object encryption key, now ${kid}`);
    sendJson(res, 200, { kid });
    return;
  }

  if (route === '/__test/request-uris' && req.method === 'GET') {
    sendJson(res, 200, requestUriFetches);
    return;
  }

  if (route === '/__test/clients' && req.method === 'POST') {
    const metadata = await readJsonBody(req);
    if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) {
      sendJson(res, 400, { error: 'invalid_request', error_description: 'body must be a client metadata JSON object' });
      return;
    }
    if (typeof metadata.client_id !== 'string' || !metadata.client_id) {
      sendJson(res, 400, { error: 'invalid_client_metadata', error_description: 'client_id is required' });
      return;
    }
    const stored = await serialized(async () => {
      const { provider } = current;
      const statics = Array.isArray(cfg.clients) ? cfg.clients : [];
      if (statics.some((c) => c.client_id === metadata.client_id)) {
        throw Object.assign(new Error(`client ${metadata.client_id} is statically configured`), { status: 409 });
      }
      let client;
      try {
        client = new provider.Client(metadata);
      } catch (err) {
        throw Object.assign(
          new Error(err.error_description ?? err.message),
          { status: 400, error: err.error_description ? err.message : 'invalid_client_metadata' },
        );
      }
      const clientMetadata = client.metadata();
      // Stored through the adapter like a dynamically registered client, so it
      // survives provider rebuilds.
      await provider.Client.adapter.upsert(client.clientId, clientMetadata);
      return clientMetadata;
    });
    console.error(`test-op: added client ${stored.client_id}`);
    sendJson(res, 201, stored);
    return;
  }

  sendJson(res, 404, { error: 'not_found', path: url.pathname, method: req.method });
}

// ---------------------------------------------------------------------------
// request objects by reference, unsigned and encrypted (see CONFIG above)

const { compactDecrypt, importJWK } = await import('jose');
const PAR_URN = 'urn:ietf:params:oauth:request_uri:';

// Rewrites req.url so that oidc-provider sees a plain `request` it can verify; returns an
// OAuth error object instead when the request object cannot be had.
async function resolveRequestObject(req, url) {
  const params = url.searchParams;
  const bad = (error, description) => ({ error, error_description: description });
  const uri = params.get('request_uri');
  if (cfg.request_uri === true && uri && !uri.startsWith(PAR_URN)) {
    if (params.has('request')) {
      return bad('invalid_request', 'request and request_uri');
    }
    let resp;
    try {
      resp = await globalThis.fetch(uri, { redirect: 'error' });
    } catch (err) {
      requestUriFetches.push({ uri, status: 0, content_type: null });
      return bad('invalid_request_uri', `fetch failed: ${err.message}`);
    }
    const contentType = resp.headers.get('content-type');
    requestUriFetches.push({ uri, status: resp.status, content_type: contentType });
    if (resp.status !== 200) {
      return bad('invalid_request_uri', `request_uri answered ${resp.status}`);
    }
    // RFC 9101 §5.2 / §10.2.
    if ((contentType ?? '').split(';')[0].trim().toLowerCase() !== 'application/oauth-authz-req+jwt') {
      return bad('invalid_request_uri', `request_uri Content-Type ${contentType}`);
    }
    params.delete('request_uri');
    params.set('request', (await resp.text()).trim());
  }
  let request = params.get('request');
  if (request && encryptionKey && request.split('.').length === 5) {
    try {
      const key = await importJWK(encryptionKey, 'RSA-OAEP-256');
      const { plaintext, protectedHeader } = await compactDecrypt(request, key, {
        keyManagementAlgorithms: ['RSA-OAEP-256'],
      });
      if ((protectedHeader.cty ?? '').toUpperCase() !== 'JWT') {
        return bad('invalid_request_object', 'encrypted request object without cty JWT');
      }
      request = new TextDecoder().decode(plaintext);
      params.set('request', request);
    } catch (err) {
      return bad('invalid_request_object', `could not decrypt request object: ${err.message}`);
    }
  }
  if (request && cfg.request_uri === true) {
    const problem = await expandUnsigned(params, request);
    if (problem) {
      return problem;
    }
  }
  req.url = `${url.pathname}?${params.toString()}`;
  return null;
}

// Changes the JSON body oidc-provider is about to send.
function amendJson(res, change) {
  const end = res.end.bind(res);
  res.end = (chunk, ...rest) => {
    let doc;
    try {
      doc = JSON.parse(Buffer.from(chunk).toString('utf8'));
    } catch {
      return end(chunk, ...rest);
    }
    change(doc);
    const body = JSON.stringify(doc);
    res.setHeader('Content-Length', Buffer.byteLength(body));
    return end(body, ...rest);
  };
}

// The discovery document says what the emulation above adds (OIDC Discovery §3).
function amendDiscovery(res) {
  amendJson(res, (doc) => {
    if (cfg.request_uri === true) {
      doc.request_uri_parameter_supported = true;
      doc.require_request_uri_registration = false;
      if (Array.isArray(cfg.unsigned_request_objects) && cfg.unsigned_request_objects.length) {
        doc.request_object_signing_alg_values_supported = [
          ...(doc.request_object_signing_alg_values_supported ?? []), 'none'];
      }
    }
    if (encryptionKey) {
      doc.request_object_encryption_alg_values_supported = ['RSA-OAEP-256'];
      doc.request_object_encryption_enc_values_supported = [
        'A128CBC-HS256', 'A128GCM', 'A256CBC-HS512', 'A256GCM'];
    }
  });
}

// OIDC Core §6.1 / §6.3: an unsigned request object, only from a client registered with
// request_object_signing_alg "none"; its claims replace the parameters.
async function expandUnsigned(params, request) {
  const bad = (description) => ({ error: 'invalid_request_object', error_description: description });
  const [h, p, sig] = request.split('.');
  let header;
  let payload;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8'));
  } catch {
    return null; // not ours to judge: oidc-provider refuses it
  }
  if (header.alg !== 'none') {
    return null;
  }
  const clientId = params.get('client_id');
  // oidc-provider cannot register request_object_signing_alg "none": the clients that
  // registered it are listed in CONFIG.unsigned_request_objects.
  const registered = Array.isArray(cfg.unsigned_request_objects)
    && cfg.unsigned_request_objects.includes(clientId);
  if (!registered) {
    return bad('unsigned request object from a client not registered for it');
  }
  const now = Math.floor(Date.now() / 1000);
  if (sig !== '' || payload.iss !== clientId || payload.aud !== issuer
    || typeof payload.exp !== 'number' || payload.exp <= now) {
    return bad('unsigned request object: bad signature part, iss, aud or exp');
  }
  for (const key of [...params.keys()]) {
    params.delete(key);
  }
  for (const [k, v] of Object.entries(payload)) {
    if (['iss', 'aud', 'iat', 'nbf', 'exp', 'jti'].includes(k)) {
      continue;
    }
    params.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  }
  return null;
}

// ---------------------------------------------------------------------------
// http plumbing

const INTERACTION_PATH = /^\/interaction\/[^/]+\/?$/;

async function handle(req, res) {
  let url;
  try {
    url = new URL(req.url, 'http://127.0.0.1');
  } catch {
    sendJson(res, 400, { error: 'invalid_request' });
    return;
  }
  try {
    if (url.pathname.startsWith('/__test/')) {
      await handleAdmin(req, res, url);
      return;
    }
    if (INTERACTION_PATH.test(url.pathname) && (req.method === 'GET' || req.method === 'POST')) {
      await handleInteraction(req, res);
      return;
    }
    if (url.pathname === '/.well-known/openid-configuration'
      && (cfg.request_uri === true || encryptionKey)) {
      amendDiscovery(res);
    }
    if (url.pathname === '/jwks' && typeof cfg.jwks_cache_control === 'string') {
      res.setHeader('Cache-Control', cfg.jwks_cache_control);
    }
    if (url.pathname === '/jwks' && encryptionKey) {
      // oidc-provider refuses an asymmetric request object encryption key in its own JWKS.
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicKey } = encryptionKey;
      amendJson(res, (doc) => {
        doc.keys = [...(doc.keys ?? []), publicKey];
      });
    }
    if (url.pathname === '/auth' && req.method === 'GET'
      && (cfg.request_uri === true || encryptionKey)) {
      const problem = await resolveRequestObject(req, url);
      if (problem) {
        sendJson(res, 400, problem);
        return;
      }
    }
    await current.callback(req, res);
  } catch (err) {
    const status = Number.isInteger(err?.status) ? err.status
      : err instanceof OidcErrors.SessionNotFound ? 400 : 500;
    console.error(`test-op: ${req.method} ${url.pathname} failed:`, err);
    if (!res.headersSent) {
      sendJson(res, status, {
        error: err?.error ?? (status === 500 ? 'server_error' : 'invalid_request'),
        error_description: err?.error_description ?? err?.message ?? String(err),
      });
    } else {
      res.destroy();
    }
  }
}

function tune(server) {
  // Longer than hyper's default pool idle timeout (90 s) so a pooled client
  // connection is never closed by the server under the client's feet.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  server.on('clientError', (err, socket) => {
    if (socket.writable) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    } else {
      socket.destroy();
    }
  });
  return server;
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

const handler = (req, res) => {
  handle(req, res).catch((err) => {
    console.error('test-op: unhandled', err);
    try {
      res.destroy();
    } catch {
      // ignore
    }
  });
};

process.on('unhandledRejection', (err) => console.error('test-op: unhandledRejection', err));
process.on('uncaughtException', (err) => console.error('test-op: uncaughtException', err));

try {
  const httpServer = tune(http.createServer(handler));
  const port = await listen(httpServer);
  issuer = `http://127.0.0.1:${port}`;
  stage('HTTP listener bound');

  if (cfg.tls) {
    const { cert, key, ca } = cfg.tls;
    const httpsServer = tune(https.createServer({
      cert: fs.readFileSync(cert),
      key: fs.readFileSync(key),
      ca: ca ? fs.readFileSync(ca) : undefined,
      requestCert: true,
      rejectUnauthorized: false,
    }, handler));
    const tlsPort = await listen(httpsServer);
    mtlsBase = `https://127.0.0.1:${tlsPort}`;
    // "https_issuer": true makes the TLS listener the issuer (an https OP, e.g. for WebFinger,
    // whose issuer href must be https).
    if (cfg.https_issuer === true) issuer = mtlsBase;
  }

  stage('building the provider');
  await buildProvider();
  stage('provider built');
} catch (err) {
  fail('start-up failed:', err);
}

process.stdout.write(`${JSON.stringify({ issuer, mtls_base: mtlsBase })}\n`);
console.error(`test-op: listening, issuer ${issuer}${mtlsBase ? `, mTLS ${mtlsBase}` : ''}`);

function shutdown(reason) {
  console.error(`test-op: exiting (${reason})`);
  process.exit(0);
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
if (process.env.OP_IGNORE_STDIN !== '1') {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}
