// Shared by the gateway benchmarks (run.mjs: /auth/check under load; login.mjs: CPU per
// login): child-process bookkeeping, a cookie jar and a headless login, the test OP, the
// express-openid-connect reference app, the bare openid-client server and `relier serve`,
// machine facts.

import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
// ---------------------------------------------------------------------------
// process bookkeeping: every child started here is stopped on exit

const children = new Set();

export function log(...args) {
  console.error('bench:', ...args);
}

export function die(message) {
  console.error(`bench: error: ${message}`);
  cleanup();
  process.exit(1);
}

export function cleanup() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.stdin?.end();
      } catch {
        // ignore
      }
      try {
        child.kill('SIGTERM');
      } catch {
        // ignore
      }
    }
  }
}

process.on('exit', cleanup);
process.on('SIGINT', () => die('interrupted'));
process.on('SIGTERM', () => die('terminated'));

export function startChild(name, cmd, args, options = {}) {
  const child = spawn(cmd, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...options,
  });
  child.benchName = name;
  children.add(child);
  let stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderrTail = (stderrTail + chunk).slice(-8000);
    if (process.env.BENCH_VERBOSE) {
      process.stderr.write(chunk.replace(/^/gm, `[${name}] `));
    }
  });
  child.stderrTail = () => stderrTail;
  child.on('exit', () => children.delete(child));
  child.on('error', (err) => die(`${name}: cannot start ${cmd}: ${err.message}`));
  return child;
}

// Resolves with the first stdout line (parsed as JSON), rejects if the child
// exits first or the timeout passes.
export function firstJsonLine(child, timeoutMs) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${child.benchName}: no start-up line after ${timeoutMs} ms\n${child.stderrTail()}`)), timeoutMs);
    const onExit = (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${child.benchName} exited (${code ?? signal}) before starting:\n${child.stderrTail()}`));
    };
    child.once('exit', onExit);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', function onData(chunk) {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl !== -1) {
        child.stdout.off('data', onData);
        child.off('exit', onExit);
        clearTimeout(timer);
        child.stdout.resume();
        try {
          resolve(JSON.parse(buf.slice(0, nl)));
        } catch (err) {
          reject(new Error(`${child.benchName}: bad start-up line ${JSON.stringify(buf.slice(0, nl))}`));
        }
      }
    });
  });
}

export async function stopChild(child, timeoutMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    child.stdin.end();
  } catch {
    // ignore
  }
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// a tiny cookie jar: per origin (scheme://host:port), honouring Path and
// deletion (Max-Age<=0 or Expires in the past); nothing else is needed here.

export class CookieJar {
  constructor() {
    this.cookies = new Map(); // origin -> Map(`${name}\0${path}` -> {name, value, path})
  }

  // `response.setCookies`: the Set-Cookie header lines.
  store(url, response) {
    const u = new URL(url);
    const list = response.setCookies;
    let bucket = this.cookies.get(u.origin);
    if (!bucket) {
      bucket = new Map();
      this.cookies.set(u.origin, bucket);
    }
    for (const line of list) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let cookiePath = null;
      let expired = false;
      for (const attr of attrs) {
        const [k, ...rest] = attr.split('=');
        const key = k.trim().toLowerCase();
        const v = rest.join('=').trim();
        if (key === 'path' && v.startsWith('/')) {
          cookiePath = v;
        } else if (key === 'max-age' && Number(v) <= 0) {
          expired = true;
        } else if (key === 'expires' && Date.parse(v) <= Date.now()) {
          expired = true;
        }
      }
      if (cookiePath === null) {
        // default-path (RFC 6265 §5.1.4)
        const p = u.pathname;
        cookiePath = p.lastIndexOf('/') > 0 ? p.slice(0, p.lastIndexOf('/')) : '/';
      }
      const key = `${name}\0${cookiePath}`;
      if (expired || value === '') {
        bucket.delete(key);
      } else {
        bucket.set(key, { name, value, path: cookiePath });
      }
    }
  }

  header(url) {
    const u = new URL(url);
    const bucket = this.cookies.get(u.origin);
    if (!bucket) {
      return '';
    }
    const matches = [...bucket.values()].filter((c) => u.pathname === c.path
      || u.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`));
    matches.sort((a, b) => b.path.length - a.path.length);
    return matches.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  get(origin, name) {
    const bucket = this.cookies.get(origin);
    if (!bucket) {
      return undefined;
    }
    for (const c of bucket.values()) {
      if (c.name === name) {
        return c.value;
      }
    }
    return undefined;
  }
}

// What a browser's top-level navigation sends: mod_auth_openidc answers 401 instead of
// redirecting to the OP when a request does not look like a navigation. (fetch() cannot send
// these: undici forces `Sec-Fetch-Mode: cors`; hence node:http below.)
export const NAVIGATION_HEADERS = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
};

// Keep-alive connections, as a browser (and fetch) would reuse them.
const LOGIN_AGENT = new http.Agent({ keepAlive: true });

// One GET of a navigation (no redirect followed): { status, location, setCookies }, the body
// read and dropped.
export function navigate(url, cookie) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, {
      agent: LOGIN_AGENT,
      headers: { ...NAVIGATION_HEADERS, ...(cookie ? { cookie } : {}) },
      timeout: 15_000,
    }, (res) => {
      res.resume();
      res.on('end', () => resolve({
        status: res.statusCode,
        location: res.headers.location ?? null,
        setCookies: res.headers['set-cookie'] ?? [],
      }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within 15 s`)));
    req.on('error', reject);
  });
}

// Browser-style headless login: GET startUrl and follow redirects by hand
// (the test OP's interaction pages log `alice` in and consent by themselves)
// until the app at appOrigin has set cookieName. Returns the Cookie header
// value to send to appOrigin.
export async function headlessLogin(startUrl, appOrigin, cookieName) {
  const jar = new CookieJar();
  let url = startUrl;
  const trail = [];
  for (let hop = 0; hop < 25; hop++) {
    const res = await navigate(url, jar.header(url));
    jar.store(url, res);
    trail.push(`${res.status} ${url.replace(/\?.*/, '?…')}`);
    const { location } = res;
    if (new URL(url).origin === appOrigin && jar.get(appOrigin, cookieName) !== undefined) {
      // the app set its session cookie: done. Everything the app keeps for
      // this origin under "/" is what a browser would send to the check URL.
      return jar.header(`${appOrigin}/`);
    }
    if (res.status < 300 || res.status >= 400 || !location) {
      throw new Error(`login via ${startUrl} ended at ${res.status} without a ${cookieName} cookie:\n  ${trail.join('\n  ')}`);
    }
    url = new URL(location, url).href;
  }
  throw new Error(`login via ${startUrl}: too many redirects:\n  ${trail.join('\n  ')}`);
}

export async function expectStatus(url, cookie, want) {
  const res = await fetch(url, {
    redirect: 'manual',
    headers: cookie ? { cookie } : {},
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  if (res.status !== want) {
    throw new Error(`GET ${url} ${cookie ? 'with' : 'without'} the session cookie: ${res.status}, expected ${want}`);
  }
  const identity = {};
  for (const [k, v] of res.headers) {
    if (/^x-|^remote-/i.test(k)) {
      identity[k] = v;
    }
  }
  return identity;
}

// ---------------------------------------------------------------------------
// measurement

// A memory figure of /proc/PID/status in KiB: VmRSS (default), or e.g. RssAnon (the
// process's own memory, without the file pages it maps).
export function readRssKiB(pid, field = 'VmRSS') {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export function rssSampler(pid, everyMs = 200, field = 'VmRSS') {
  let peak = readRssKiB(pid, field) ?? 0;
  const timer = setInterval(() => {
    const v = readRssKiB(pid, field);
    if (v !== null && v > peak) {
      peak = v;
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const v = readRssKiB(pid, field);
      if (v !== null && v > peak) {
        peak = v;
      }
      return peak;
    },
  };
}

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

// /proc/PID/stat's fields after the command name (which may contain spaces): field N of the
// whole line (1-based, proc(5)) is index N - 3 here.
function statFields(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

// CPU seconds (user + system, all threads) of a process.
export function cpuSeconds(pid) {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) / TICKS; // utime (14), stime (15)
}

// The live children of a process (Apache's workers).
export function childPids(pid) {
  const out = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      if (Number(statFields(entry)[1]) === pid) { // ppid (4)
        out.push(Number(entry));
      }
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

// CPU seconds of a process and its children (one level: Apache's workers): its own utime +
// stime, its reaped children's (cutime + cstime, so that workers that ended during the run
// still count) and every live child's utime + stime.
export function treeCpuSeconds(pid) {
  const f = statFields(pid);
  let ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  for (const child of childPids(pid)) {
    try {
      const c = statFields(child);
      ticks += Number(c[11]) + Number(c[12]);
    } catch {
      // ended meanwhile (its time is now in the parent's cutime + cstime)
    }
  }
  return ticks / TICKS;
}

// ---------------------------------------------------------------------------
// the servers

// Each relying party's redirect URI path at its own port (Apache's is OIDCRedirectURI in
// apache/httpd.conf.in).
const REDIRECT_PATHS = {
  express: '/callback',
  relier: '/auth/callback/local',
  apache: '/oidc/callback',
};

// `extra`: more OP configuration (tests/op/server.mjs's header), `extra.clients` added to the
// relying parties' clients.
export async function startOp(tmp, ports, secrets, extra = {}) {
  const opDir = path.join(ROOT, 'tests', 'op');
  if (!fs.existsSync(path.join(opDir, 'node_modules', 'oidc-provider'))) {
    die('tests/op has no node_modules: run `npm ci --prefix tests/op` first');
  }
  const common = {
    token_endpoint_auth_method: 'client_secret_basic',
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
  };
  const config = {
    // put the scope claims (email, name…) in the ID token, so that neither
    // side needs a userinfo call to fill its identity headers.
    conform_id_token_claims: false,
    // one client per server that has a port (`rp-express`, `rp-relier`, `rp-apache`)
    ...extra,
    clients: [...Object.entries(REDIRECT_PATHS).filter(([name]) => ports[name] !== undefined).map(([name, callback]) => ({
      ...common,
      client_id: `rp-${name}`,
      client_secret: secrets[name],
      redirect_uris: [`http://127.0.0.1:${ports[name]}${callback}`],
    })), ...(extra.clients ?? [])],
  };
  const configPath = path.join(tmp, 'op.json');
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  const op = startChild('op', process.execPath, [path.join(opDir, 'server.mjs'), configPath], { cwd: opDir });
  const { issuer } = await firstJsonLine(op, 30_000);
  log(`OP: ${issuer}`);
  return { child: op, issuer };
}

export async function startExpress(port, issuer, secret) {
  if (!fs.existsSync(path.join(HERE, 'node_modules', 'express-openid-connect'))) {
    die('bench/check has no node_modules: run `npm ci --prefix bench/check` first');
  }
  const child = startChild('express', process.execPath, [path.join(HERE, 'express-app.mjs')], {
    cwd: HERE,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      ISSUER: issuer,
      CLIENT_ID: 'rp-express',
      CLIENT_SECRET: secret,
      SESSION_SECRET: crypto.randomBytes(32).toString('base64url'),
    },
  });
  const { url } = await firstJsonLine(child, 30_000);
  log(`express: ${url} (pid ${child.pid})`);
  return { child, url };
}

// bench/check/openid-client-app.mjs on 127.0.0.1:port: openid-client 6 on node's http, no
// Express. `auth`: { secret } (client_secret_basic) or { privateJwk } (private_key_jwt).
export async function startOpenidClient(port, issuer, clientId, auth) {
  if (!fs.existsSync(path.join(HERE, 'node_modules', 'openid-client', 'package.json'))) {
    die('bench/check has no node_modules: run `npm ci --prefix bench/check` first');
  }
  const credential = auth.privateJwk
    ? { PRIVATE_KEY_JWK: JSON.stringify(auth.privateJwk) }
    : { CLIENT_SECRET: auth.secret };
  const name = auth.privateJwk ? 'openid-client-pkjwt' : 'openid-client';
  const child = startChild(name, process.execPath, [path.join(HERE, 'openid-client-app.mjs')], {
    cwd: HERE,
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), ISSUER: issuer, CLIENT_ID: clientId, ...credential },
  });
  const { url } = await firstJsonLine(child, 30_000);
  log(`${name}: ${url} (pid ${child.pid})`);
  return { child, url };
}

// A key pair for a private_key_jwt client, ES256 (P-256) or RS256 (2048 bits):
// { privateJwk, publicJwk } (with kid, alg).
export function clientJwks(kid, alg) {
  const { privateKey, publicKey } = alg === 'RS256'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const common = { kid, alg };
  return {
    privateJwk: { ...privateKey.export({ format: 'jwk' }), ...common },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), ...common, use: 'sig' },
  };
}

// bench/check/upstream.mjs on 127.0.0.1:port: the trivial upstream behind the proxies.
export async function startUpstream(port) {
  const child = startChild('upstream', process.execPath, [path.join(HERE, 'upstream.mjs')], {
    cwd: HERE,
    env: { ...process.env, PORT: String(port) },
  });
  const { url } = await firstJsonLine(child, 10_000);
  log(`upstream: ${url} (pid ${child.pid})`);
  return { child, url };
}

// Statistics of a list of numbers: { min, median, max }.
export function spread(values) {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return { min: v[0], median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2, max: v[v.length - 1] };
}

export function relierPreflight(bin) {
  const rel = path.relative(ROOT, bin);
  if (!fs.existsSync(bin)) {
    return `${rel} does not exist: build it with \`cargo build --release -p relier-cli\``;
  }
  const r = spawnSync(bin, ['serve', '--help'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr || r.stdout).trim().split('\n').slice(0, 3).join(' / ');
    return `\`${rel} serve --help\` failed (${why}): this binary has no \`serve\` command yet — rebuild with \`cargo build --release -p relier-cli\` once the gateway (crates/relier-gateway) is in`;
  }
  return null;
}

// `relier serve` on 127.0.0.1:port. Options: `store` (default: an SQLite file in tmp),
// `publicUrl` (default: its own URL; instances sharing a store share it), `masterKey`
// (base64; instances sharing a store share it), `name` (config file and log name), `extra`
// (more top-level TOML lines), `privateKeyJwt` (the provider authenticates with private_key_jwt
// and the store's key — `[keys] alg`, ES256 unless `extra` says otherwise — client
// `rp-relier-pkjwt`, instead of client_secret_basic as `rp-relier`).
export async function startRelier(bin, tmp, port, issuer, secret, options = {}) {
  const name = options.name ?? 'relier';
  const configPath = path.join(tmp, `${name}.toml`);
  fs.writeFileSync(configPath, [
    `listen = "127.0.0.1:${port}"`,
    `public_url = "${options.publicUrl ?? `http://127.0.0.1:${port}`}"`,
    `store = "${options.store ?? `sqlite://${path.join(tmp, 'relier.db')}`}"`,
    ...(options.extra ?? []),
    '',
    '[[providers]]',
    'name = "local"',
    `issuer = "${issuer}"`,
    ...(options.privateKeyJwt
      ? ['client_id = "rp-relier-pkjwt"', 'auth_method = "private_key_jwt"', 'use_store_key = true']
      : ['client_id = "rp-relier"', 'auth_method = "client_secret_basic"', 'client_secret_env = "LOCAL_CLIENT_SECRET"']),
    'scopes = ["openid", "profile", "email"]',
    '',
  ].join('\n'));
  const child = startChild(name, bin, ['serve', '--config', configPath], {
    cwd: tmp,
    env: {
      ...process.env,
      RELIER_MASTER_KEY: options.masterKey ?? crypto.randomBytes(32).toString('base64'),
      LOCAL_CLIENT_SECRET: secret,
    },
  });
  child.stdout.resume();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`relier serve exited (${child.exitCode ?? child.signalCode}) before /healthz answered:\n${child.stderrTail()}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) {
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`relier serve: /healthz did not answer 200 within 30 s:\n${child.stderrTail()}`);
    }
    await sleep(100);
  }
  log(`${name}: ${url} (pid ${child.pid})`);
  return { child, url };
}

// ---------------------------------------------------------------------------
// report

export function machineInfo() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim() || String(os.availableParallelism());
  const wrkVersion = (spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout || '').split('\n')[0].trim();
  const gitRev = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim() || '?';
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  const loadavg = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  return {
    loadavg,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc, model, memGiB, kernel: os.release(), node: process.version, wrk: wrkVersion, gitRev,
  };
}

export function fmtMs(ms) {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}


// ---------------------------------------------------------------------------
// the scripts' shared frame

// Reads `--flag value` pairs into a copy of `defaults`: a flag is its option's name in
// kebab-case (`--relier-bin` → relierBin); numbers stay numbers, `relierBin` is resolved.
// `--help` prints the calling script's leading comment.
export function parseFlags(argv, defaults, scriptUrl) {
  const opts = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(fs.readFileSync(fileURLToPath(scriptUrl), 'utf8')
        .split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n') + '\n');
      process.exit(0);
    }
    const key = arg.startsWith('--') ? arg.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase()) : null;
    if (key === null || !(key in defaults)) {
      die(`unknown argument ${arg} (try --help)`);
    }
    const v = argv[++i];
    if (v === undefined) {
      die(`${arg} needs a value`);
    }
    opts[key] = typeof defaults[key] === 'number' ? Number(v) : key === 'relierBin' ? path.resolve(v) : v;
  }
  return opts;
}

// Runs `body(tmp)` with a fresh temporary directory (removed afterwards). On a failure every
// child is stopped and the script exits with the message.
export async function inTempDir(prefix, body) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  let failure = null;
  let result;
  try {
    result = await body(tmp);
  } catch (err) {
    failure = err;
  } finally {
    cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (failure) {
    die(failure.message);
  }
  return result;
}

// The report's first line.
export function machineLine(m) {
  return `Machine: ${m.nproc} CPUs (${m.model}), ${m.memGiB} GiB RAM, Linux ${m.kernel}; node ${m.node}; git ${m.gitRev}; ${m.date}; load average before the run ${m.loadavg}`;
}

// Ports for the relying parties (default: the express app and relier; `names` may add
// `apache`), all different, and their client secrets at the test OP.
export async function rpPortsAndSecrets(names = ['express', 'relier']) {
  const ports = {};
  const secrets = {};
  const taken = new Set();
  for (const name of names) {
    let port = await freePort();
    while (taken.has(port)) {
      port = await freePort();
    }
    taken.add(port);
    ports[name] = port;
    secrets[name] = crypto.randomBytes(24).toString('base64url');
  }
  return { ports, secrets };
}
