// /auth/check on an `[[api]]` path: a Bearer JWT access token (RFC 9068; the validated-token
// cache warm) and a DPoP-bound one with a fresh proof on every request (RFC 9449), against a
// cookie session on the same `relier serve`, in alternating rounds of one run.
//
// Usage (from the repository root):
//   apt-get update && apt-get install -y wrk
//   npm ci --prefix tests/op && npm ci --prefix bench/check
//   cargo build --release -p relier-cli
//   node bench/check/api.mjs [--rounds 5] [--duration 10] [--warmup 3] [--connections 50]
//                            [--threads 2] [--proof-alg ES256|EdDSA] [--relier-bin PATH]
//                            [--modes cookie,bearer,dpop]
//
// --modes: measure only these (for a profile of one; the tables need all three).
//
// What it does, all on 127.0.0.1:
//   1. starts the test OP (tests/op/server.mjs) with `rp-relier` (code flow, for the
//      session) and `bench-machine` (client_secret_basic, client_credentials), and the
//      resource indicator https://api.bench.example/orders (JWT access tokens, RFC 9068);
//   2. starts `relier serve` (SQLite store) with `[[api]] path = "/api/"` for that audience
//      and scope `orders:read`, logs in headlessly for a session cookie, and gets two access
//      tokens by client_credentials: a Bearer one and one bound to a DPoP key made here
//      (P-256 or Ed25519, the token request carrying a proof);
//   3. checks each way answers 200 on `/auth/check` (`X-Forwarded-Uri: /api/orders`, the
//      session on `/app/orders`), that nothing answers 200 without credentials, and that a
//      replayed DPoP proof is refused;
//   4. per round, the three in turn (the order rotates each round), each a `wrk -t2 -c50
//      -d10s --latency` on /auth/check: the cookie; `Authorization: Bearer …` (the same token
//      on every request: after the first, the validated-token cache answers); `Authorization:
//      DPoP …` with a `DPoP` proof per request — proofs made just before the run (each its
//      own `jti`, `iat` the time they were made, `ath` the token's hash; `htu` the gateway's
//      public URL + /api/orders), handed out by a wrk Lua script (dpop.lua), never one twice.
//      A discarded --warmup run of each comes first. relier's CPU time (utime + stime,
//      /proc/PID/stat) is read around every run;
//   5. prints markdown tables on stdout: every run; per round the ratios bearer/cookie and
//      DPoP/cookie of requests/s; their median, min and max, checked against issue 22 §5
//      (bearer ≥ 80 %, DPoP ≥ 50 % of the cookie session's requests/s).
// A run fails on any non-2xx/3xx response or socket error (on these requests /auth/check
// answers 200 or an error status, never a redirect: so every answer counted is a 200), and
// a DPoP run also if wrk used more requests than there were proofs (a proof would then be
// replayed and refused). BENCH_JSON=FILE also writes the raw results.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  ROOT, cpuSeconds, die, fmtMs, headlessLogin, inTempDir, log, machineInfo,
  machineLine, parseFlags, relierPreflight, rpPortsAndSecrets, spread, startOp, startRelier,
} from './lib.mjs';
import { parseWrk, runWrk } from './wrk.mjs';

const AUDIENCE = 'https://api.bench.example/orders';
const API_PATH = '/api/orders';
const APP_PATH = '/app/orders';
const MODES = ['cookie', 'bearer', 'dpop'];
const LABELS = {
  cookie: 'cookie session',
  bearer: 'Bearer JWT, [[api]]',
  dpop: 'DPoP, [[api]]',
};
// RFC 9449 §11.1 window the gateway applies to `iat` (crates/relier-gateway/src/api/dpop.rs).
const PROOF_WINDOW_SECS = 60;

function parseArgs(argv) {
  const opts = parseFlags(argv, {
    rounds: 5,
    duration: 10,
    warmup: 3,
    connections: 50,
    threads: 2,
    proofAlg: 'ES256',
    modes: MODES.join(','),
    relierBin: path.join(ROOT, 'target', 'release', 'relier'),
  }, import.meta.url);
  for (const [k, min, max] of [['rounds', 1, 50], ['duration', 1, 40], ['warmup', 0, 40], ['connections', 1, 10_000], ['threads', 1, 64]]) {
    if (!Number.isInteger(opts[k]) || opts[k] < min || opts[k] > max) {
      die(`--${k} must be an integer in [${min}, ${max}]`);
    }
  }
  opts.modeList = opts.modes.split(',').map((m) => m.trim()).filter(Boolean);
  if (opts.modeList.length === 0 || opts.modeList.some((m) => !MODES.includes(m))) {
    die(`--modes takes a comma-separated list of ${MODES.join(', ')}`);
  }
  if (!['ES256', 'EdDSA'].includes(opts.proofAlg)) {
    die('--proof-alg takes ES256 or EdDSA');
  }
  return opts;
}

// ---------------------------------------------------------------------------
// DPoP (RFC 9449 §4.2) on the client's side, with node's crypto

function dpopKey(alg) {
  const { privateKey, publicKey } = alg === 'ES256'
    ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : crypto.generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  // RFC 7638: the required members in lexicographic order.
  const members = alg === 'ES256' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  const jkt = crypto.createHash('sha256').update(JSON.stringify(members)).digest('base64url');
  const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg, jwk: members })).toString('base64url');
  const sign = alg === 'ES256'
    ? (input) => crypto.sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' })
    : (input) => crypto.sign(null, input, privateKey);
  return {
    jkt,
    // `ath`: the access token's hash (RFC 9449 §4.2), if the proof goes with one; `jti`: 16
    // random bytes, base64url.
    proof(htm, htu, iat, ath, jti = crypto.randomBytes(16).toString('base64url')) {
      const claims = { jti, htm, htu, iat };
      if (ath) {
        claims.ath = ath;
      }
      const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      return `${input}.${sign(Buffer.from(input)).toString('base64url')}`;
    },
  };
}

const nowSecs = () => Math.floor(Date.now() / 1000);
const athOf = (token) => crypto.createHash('sha256').update(token).digest('base64url');

// `count` proofs for GET `htu` with `token`, one a line, into `file`.
function writeProofs(file, key, htu, token, count) {
  const started = Date.now();
  const iat = nowSecs();
  const ath = athOf(token);
  const random = crypto.randomBytes(16 * count);
  const lines = new Array(count);
  for (let i = 0; i < count; i++) {
    lines[i] = key.proof('GET', htu, iat, ath, random.subarray(16 * i, 16 * i + 16).toString('base64url'));
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return { iat, ms: Date.now() - started };
}

// Each wrk thread takes every n-th proof (its own share) and sends the next one with every
// request; once its share is used up it counts the overrun (and sends the last again, which
// the gateway refuses as a replay).
const DPOP_LUA = `
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local proofs = {}
local n, i = 0, 0
function init(args)
  local k, threads = 0, tonumber(args[2])
  for line in io.lines(args[1]) do
    if k % threads == tid then
      n = n + 1
      proofs[n] = line
    end
    k = k + 1
  end
end
function request()
  if i < n then i = i + 1 end
  wrk.headers["DPoP"] = proofs[i]
  return wrk.format()
end
`;

// ---------------------------------------------------------------------------
// the OP's side: two access tokens by client_credentials

async function clientCredentials(issuer, secret, dpop) {
  const meta = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const headers = {
    authorization: `Basic ${Buffer.from(`bench-machine:${secret}`).toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
  };
  if (dpop) {
    headers.dpop = dpop.proof('POST', meta.token_endpoint, nowSecs());
  }
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource: AUDIENCE }),
  });
  const body = await res.json();
  if (!res.ok || typeof body.access_token !== 'string' || body.access_token.split('.').length !== 3) {
    throw new Error(`client_credentials: ${res.status} ${JSON.stringify(body)}`);
  }
  const want = dpop ? 'dpop' : 'bearer';
  if (String(body.token_type).toLowerCase() !== want) {
    throw new Error(`client_credentials: token_type ${body.token_type}, expected ${want}`);
  }
  return body.access_token;
}

async function status(url, headers) {
  const res = await fetch(url, { headers, redirect: 'manual' });
  await res.arrayBuffer();
  return res.status;
}

// ---------------------------------------------------------------------------
// one wrk run

async function measure(mode, ctx, seconds, opts) {
  const headers = [];
  let cookie = null;
  let proofs = 0;
  let wrkOpts = { ...opts };
  if (mode === 'cookie') {
    cookie = ctx.cookie;
    headers.push(`X-Forwarded-Uri: ${APP_PATH}`);
  } else {
    headers.push(`X-Forwarded-Uri: ${API_PATH}`);
    headers.push(`Authorization: ${mode === 'bearer' ? 'Bearer' : 'DPoP'} ${mode === 'bearer' ? ctx.bearer : ctx.bound}`);
  }
  if (mode === 'dpop') {
    // Twice the fastest DPoP rate seen so far (a first guess before any), for the whole run.
    proofs = Math.ceil(Math.max(ctx.dpopRpsMax * 2, 20_000) * seconds) + opts.connections * 2;
    const made = writeProofs(ctx.proofFile, ctx.key, `${ctx.url}${API_PATH}`, ctx.bound, proofs);
    if (made.ms / 1000 + seconds + 5 > PROOF_WINDOW_SECS) {
      throw new Error(`dpop: ${proofs} proofs took ${made.ms} ms to make; with a ${seconds}s run the last would be outside the ${PROOF_WINDOW_SECS}s window`);
    }
    log(`dpop: ${proofs} proofs made in ${made.ms} ms (iat ${made.iat})`);
    wrkOpts = { ...wrkOpts, script: ctx.luaFile, scriptArgs: [ctx.proofFile, String(opts.threads)] };
  }
  wrkOpts.headers = headers;
  const cpu0 = cpuSeconds(ctx.pid);
  const out = await runWrk(`${ctx.url}/auth/check`, cookie, seconds, wrkOpts);
  const cpu = cpuSeconds(ctx.pid) - cpu0;
  const r = parseWrk(out);
  if (r.non2xx > 0 || r.socketErrorCount > 0) {
    process.stderr.write(`${out.trimEnd().replace(/^/gm, `[wrk ${mode}] `)}\n`);
    throw new Error(`${mode}: ${r.non2xx} non-2xx responses, socket errors: ${r.socketErrors ?? 'none'} — the round does not measure admitted requests`);
  }
  if (mode === 'dpop') {
    if (r.requests > proofs) {
      throw new Error(`dpop: ${r.requests} requests but only ${proofs} proofs`);
    }
    ctx.dpopRpsMax = Math.max(ctx.dpopRpsMax, r.rps);
  }
  return { mode, rps: r.rps, p50: r.p50, p99: r.p99, requests: r.requests, cpuUsPerReq: (cpu * 1e6) / r.requests };
}

// ---------------------------------------------------------------------------
// report

const pct = (x) => `${(x * 100).toFixed(1)} %`;

function report(machine, opts, runs, rounds) {
  const lines = [
    machineLine(machine),
    `Load: wrk -t${opts.threads} -c${opts.connections} -d${opts.duration}s --latency per run on /auth/check, ${opts.rounds} rounds, the order rotating; DPoP proofs ${opts.proofAlg}; wrk and relier share the machine's CPUs.`,
    '',
    '| round | order | cookie req/s | bearer req/s | DPoP req/s | bearer / cookie | DPoP / cookie |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [i, r] of rounds.entries()) {
    lines.push(`| ${i + 1} | ${r.order.join(', ')} | ${r.cookie.rps.toFixed(0)} | ${r.bearer.rps.toFixed(0)} | ${r.dpop.rps.toFixed(0)} | ${pct(r.bearer.rps / r.cookie.rps)} | ${pct(r.dpop.rps / r.cookie.rps)} |`);
  }
  lines.push('', '| mode | req/s median (min–max) | p50 median | p99 median | relier CPU per request, median |', '| --- | ---: | ---: | ---: | ---: |');
  for (const mode of MODES) {
    const rs = runs.filter((r) => r.mode === mode);
    const rps = spread(rs.map((r) => r.rps));
    lines.push(`| ${LABELS[mode]} | ${rps.median.toFixed(0)} (${rps.min.toFixed(0)}–${rps.max.toFixed(0)}) | ${fmtMs(spread(rs.map((r) => r.p50)).median)} | ${fmtMs(spread(rs.map((r) => r.p99)).median)} | ${spread(rs.map((r) => r.cpuUsPerReq)).median.toFixed(1)} µs |`);
  }
  const bearer = spread(rounds.map((r) => r.bearer.rps / r.cookie.rps));
  const dpop = spread(rounds.map((r) => r.dpop.rps / r.cookie.rps));
  lines.push(
    '',
    `Bearer / cookie: median ${pct(bearer.median)} (rounds ${pct(bearer.min)}–${pct(bearer.max)}), target ≥ 80 %: ${bearer.median >= 0.8 ? 'PASS' : 'FAIL'}`,
    `DPoP / cookie: median ${pct(dpop.median)} (rounds ${pct(dpop.min)}–${pct(dpop.max)}), target ≥ 50 %: ${dpop.median >= 0.5 ? 'PASS' : 'FAIL'}`,
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const problem = relierPreflight(opts.relierBin);
  if (problem) {
    die(problem);
  }
  const machine = machineInfo();
  log(machineLine(machine));
  const { ports, secrets } = await rpPortsAndSecrets(['relier']);
  const machineSecret = crypto.randomBytes(24).toString('base64url');
  const runs = [];
  const rounds = [];
  await inTempDir('relier-bench-api-', async (tmp) => {
    const op = await startOp(tmp, ports, secrets, {
      client_credentials: true,
      resource_servers: { [AUDIENCE]: { scope: 'orders:read orders:write' } },
      clients: [{
        client_id: 'bench-machine',
        client_secret: machineSecret,
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
      }],
    });
    const relier = await startRelier(opts.relierBin, tmp, ports.relier, op.issuer, secrets.relier, {
      extra: [
        '',
        '[[api]]',
        'path = "/api/"',
        'providers = ["local"]',
        `audience = "${AUDIENCE}"`,
        'scopes = ["orders:read"]',
      ],
    });
    const key = dpopKey(opts.proofAlg);
    const ctx = {
      url: relier.url,
      pid: relier.child.pid,
      cookie: await headlessLogin(`${relier.url}/auth/login/local`, relier.url, 'relier_session'),
      bearer: await clientCredentials(op.issuer, machineSecret, null),
      bound: await clientCredentials(op.issuer, machineSecret, key),
      key,
      proofFile: path.join(tmp, 'proofs.txt'),
      luaFile: path.join(tmp, 'dpop.lua'),
      dpopRpsMax: 0,
    };
    fs.writeFileSync(ctx.luaFile, DPOP_LUA);

    // Each way in, and the refusals that show the runs measure admitted requests.
    const check = `${relier.url}/auth/check`;
    const api = { 'x-forwarded-uri': API_PATH };
    const htu = `${relier.url}${API_PATH}`;
    const proof = key.proof('GET', htu, nowSecs(), athOf(ctx.bound));
    const expect = [
      ['cookie', { 'x-forwarded-uri': APP_PATH, cookie: ctx.cookie }, 200],
      ['bearer', { ...api, authorization: `Bearer ${ctx.bearer}` }, 200],
      ['dpop', { ...api, authorization: `DPoP ${ctx.bound}`, dpop: proof }, 200],
      ['the same DPoP proof again', { ...api, authorization: `DPoP ${ctx.bound}`, dpop: proof }, 401],
      ['the DPoP-bound token as Bearer', { ...api, authorization: `Bearer ${ctx.bound}` }, 401],
      ['no credentials on the API', api, 401],
      ['no cookie on the app', { 'x-forwarded-uri': APP_PATH }, 401],
    ];
    for (const [what, headers, want] of expect) {
      const got = await status(check, headers);
      if (got !== want) {
        throw new Error(`/auth/check, ${what}: ${got}, expected ${want}`);
      }
    }
    log('cookie, bearer and DPoP answer 200; a replayed proof, a bound token as Bearer and no credentials 401');

    if (opts.warmup > 0) {
      for (const mode of opts.modeList) {
        const w = await measure(mode, ctx, opts.warmup, opts);
        log(`warm-up ${mode}: ${w.rps.toFixed(0)} req/s (discarded)`);
      }
    }
    for (let round = 0; round < opts.rounds; round++) {
      const modes = opts.modeList;
      const order = modes.map((_, i) => modes[(i + round) % modes.length]);
      const result = { order };
      for (const mode of order) {
        const r = await measure(mode, ctx, opts.duration, opts);
        log(`round ${round + 1} ${mode}: ${r.rps.toFixed(0)} req/s, p99 ${fmtMs(r.p99)}, ${r.cpuUsPerReq.toFixed(1)} µs CPU/request`);
        runs.push({ round: round + 1, ...r });
        result[mode] = r;
      }
      rounds.push(result);
    }
  });
  if (opts.modeList.length === MODES.length) {
    process.stdout.write(report(machine, opts, runs, rounds));
  }
  if (process.env.BENCH_JSON) {
    fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({ machine, opts: { ...opts, relierBin: path.relative(ROOT, opts.relierBin) }, runs }, null, 2));
  }
}

await main();
