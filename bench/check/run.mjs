// Load benchmark of relier's gateway `GET /auth/check` with a live session,
// against express-openid-connect (Auth0's Express middleware) as the reference,
// on the same machine in the same run.
//
// Usage (from the repository root):
//   npm ci --prefix tests/op && npm ci --prefix bench/check
//   cargo build --release -p relier-cli
//   node bench/check/run.mjs [--only express|relier] [--duration 20] [--warmup 5]
//                            [--connections 50] [--threads 2] [--relier-bin PATH]
//
// Needs wrk on PATH (Debian: `apt-get update && apt-get install -y wrk`).
//
// What it does, all on 127.0.0.1:
//   1. starts the project's test OP (tests/op/server.mjs) with two clients,
//      `rp-express` and `rp-relier` (client_secret_basic, code flow);
//   2. starts bench/check/express-app.mjs and logs in through it headlessly
//      (the test OP logs `alice` in by itself) to get its `appSession` cookie;
//   3. starts `target/release/relier serve --config <tmp>/relier.toml`, waits for
//      /healthz, logs in through /auth/login/local to get `relier_session`;
//   4. checks both check endpoints answer 200 with the cookie, 401 without;
//   5. for each server (express first): a discarded warm-up wrk run, then
//      `wrk -t2 -c50 -d20s --latency -H 'Cookie: …' URL`, sampling the server's
//      VmRSS every 200 ms (peak reported);
//   6. stops everything and prints a markdown table on stdout (progress and
//      details go to stderr).
// Every wrk run is bounded by -d (and killed if it overruns); every child
// process is stopped on exit.

import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');

// ---------------------------------------------------------------------------
// arguments

function parseArgs(argv) {
  const opts = {
    only: null,
    duration: 20,
    warmup: 5,
    connections: 50,
    threads: 2,
    relierBin: path.join(ROOT, 'target', 'release', 'relier'),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) {
        die(`${arg} needs a value`);
      }
      return v;
    };
    switch (arg) {
      case '--only': opts.only = value(); break;
      case '--duration': opts.duration = Number(value()); break;
      case '--warmup': opts.warmup = Number(value()); break;
      case '--connections': opts.connections = Number(value()); break;
      case '--threads': opts.threads = Number(value()); break;
      case '--relier-bin': opts.relierBin = path.resolve(value()); break;
      case '-h': case '--help':
        process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8')
          .split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n') + '\n');
        process.exit(0);
        break;
      default: die(`unknown argument ${arg} (try --help)`);
    }
  }
  if (opts.only !== null && !['express', 'relier'].includes(opts.only)) {
    die('--only takes express or relier');
  }
  for (const k of ['duration', 'warmup', 'connections', 'threads']) {
    if (!Number.isInteger(opts[k]) || opts[k] < (k === 'warmup' ? 0 : 1) || opts[k] > 600) {
      die(`--${k} must be an integer in [${k === 'warmup' ? 0 : 1}, 600]`);
    }
  }
  return opts;
}

// ---------------------------------------------------------------------------
// process bookkeeping: every child started here is stopped on exit

const children = new Set();

function log(...args) {
  console.error('bench:', ...args);
}

function die(message) {
  console.error(`bench: error: ${message}`);
  cleanup();
  process.exit(1);
}

function cleanup() {
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

function startChild(name, cmd, args, options = {}) {
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
function firstJsonLine(child, timeoutMs) {
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

async function stopChild(child, timeoutMs = 5000) {
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

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// a tiny cookie jar: per origin (scheme://host:port), honouring Path and
// deletion (Max-Age<=0 or Expires in the past); nothing else is needed here.

class CookieJar {
  constructor() {
    this.cookies = new Map(); // origin -> Map(`${name}\0${path}` -> {name, value, path})
  }

  store(url, response) {
    const u = new URL(url);
    const list = response.headers.getSetCookie();
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

// Browser-style headless login: GET startUrl and follow redirects by hand
// (the test OP's interaction pages log `alice` in and consent by themselves)
// until the app at appOrigin has set cookieName. Returns the Cookie header
// value to send to appOrigin.
async function headlessLogin(startUrl, appOrigin, cookieName) {
  const jar = new CookieJar();
  let url = startUrl;
  const trail = [];
  for (let hop = 0; hop < 25; hop++) {
    const cookie = jar.header(url);
    const res = await fetch(url, {
      redirect: 'manual',
      headers: cookie ? { cookie } : {},
      signal: AbortSignal.timeout(15_000),
    });
    jar.store(url, res);
    trail.push(`${res.status} ${url.replace(/\?.*/, '?…')}`);
    const location = res.headers.get('location');
    await res.arrayBuffer();
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

async function expectStatus(url, cookie, want) {
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

function readRssKiB(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function rssSampler(pid, everyMs = 200) {
  let peak = readRssKiB(pid) ?? 0;
  const timer = setInterval(() => {
    const v = readRssKiB(pid);
    if (v !== null && v > peak) {
      peak = v;
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const v = readRssKiB(pid);
      if (v !== null && v > peak) {
        peak = v;
      }
      return peak;
    },
  };
}

function toMs(value, unit) {
  const n = Number(value);
  switch (unit) {
    case 'us': return n / 1000;
    case 'ms': return n;
    case 's': return n * 1000;
    case 'm': return n * 60_000;
    default: throw new Error(`unknown wrk latency unit ${unit}`);
  }
}

function parseWrk(text) {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m)\b/m.exec(text);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\b/m.exec(text);
  const total = /^\s+(\d+) requests in/m.exec(text);
  if (!rps || !p50 || !p99 || !total) {
    throw new Error(`cannot parse wrk output:\n${text}`);
  }
  const non2xx = /^\s+Non-2xx or 3xx responses:\s+(\d+)/m.exec(text);
  const sockErr = /^\s+Socket errors:\s+(.*)$/m.exec(text);
  return {
    rps: Number(rps[1]),
    p50: toMs(p50[1], p50[2]),
    p99: toMs(p99[1], p99[2]),
    requests: Number(total[1]),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sockErr ? sockErr[1].trim() : null,
  };
}

function runWrk(url, cookie, seconds, opts) {
  const args = [
    `-t${opts.threads}`, `-c${opts.connections}`, `-d${seconds}s`, '--latency',
    '--timeout', '5s',
    '-H', `Cookie: ${cookie}`,
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = startChild('wrk', 'wrk', args);
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => { out += chunk; });
    // wrk stops by itself after -d; this is only a guard against a hang.
    const guard = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (code !== 0) {
        reject(new Error(`wrk exited ${code ?? signal}:\n${out}\n${child.stderrTail()}`));
      } else {
        resolve(out);
      }
    });
  });
}

async function benchmark(name, url, cookie, pid, opts) {
  if (opts.warmup > 0) {
    log(`${name}: warm-up ${opts.warmup}s (discarded)`);
    const warm = parseWrk(await runWrk(url, cookie, opts.warmup, opts));
    log(`${name}: warm-up ${warm.rps.toFixed(0)} req/s`);
  }
  log(`${name}: wrk -t${opts.threads} -c${opts.connections} -d${opts.duration}s --latency -H 'Cookie: ${cookie.slice(0, 24)}…' ${url}`);
  const sampler = rssSampler(pid);
  const out = await runWrk(url, cookie, opts.duration, opts);
  const peakRssKiB = sampler.stop();
  const result = parseWrk(out);
  process.stderr.write(`${out.trimEnd().replace(/^/gm, `[wrk ${name}] `)}\n`);
  if (result.non2xx > 0 || result.socketErrors) {
    throw new Error(`${name}: ${result.non2xx} non-2xx responses, socket errors: ${result.socketErrors ?? 'none'} — the numbers would not measure a live session`);
  }
  return { name, url, ...result, peakRssKiB };
}

// ---------------------------------------------------------------------------
// the servers

async function startOp(tmp, ports, secrets) {
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
    clients: [
      {
        ...common,
        client_id: 'rp-express',
        client_secret: secrets.express,
        redirect_uris: [`http://127.0.0.1:${ports.express}/callback`],
      },
      {
        ...common,
        client_id: 'rp-relier',
        client_secret: secrets.relier,
        redirect_uris: [`http://127.0.0.1:${ports.relier}/auth/callback/local`],
      },
    ],
  };
  const configPath = path.join(tmp, 'op.json');
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  const op = startChild('op', process.execPath, [path.join(opDir, 'server.mjs'), configPath], { cwd: opDir });
  const { issuer } = await firstJsonLine(op, 30_000);
  log(`OP: ${issuer}`);
  return { child: op, issuer };
}

async function startExpress(port, issuer, secret) {
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

function relierPreflight(bin) {
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

async function startRelier(bin, tmp, port, issuer, secret) {
  const configPath = path.join(tmp, 'relier.toml');
  fs.writeFileSync(configPath, [
    `listen = "127.0.0.1:${port}"`,
    `public_url = "http://127.0.0.1:${port}"`,
    `store = "sqlite://${path.join(tmp, 'relier.db')}"`,
    '',
    '[[providers]]',
    'name = "local"',
    `issuer = "${issuer}"`,
    'client_id = "rp-relier"',
    'auth_method = "client_secret_basic"',
    'client_secret_env = "LOCAL_CLIENT_SECRET"',
    'scopes = ["openid", "profile", "email"]',
    '',
  ].join('\n'));
  const child = startChild('relier', bin, ['serve', '--config', configPath], {
    cwd: tmp,
    env: {
      ...process.env,
      RELIER_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
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
  log(`relier: ${url} (pid ${child.pid})`);
  return { child, url };
}

// ---------------------------------------------------------------------------
// report

function machineInfo() {
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

function fmtMs(ms) {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

function table(results) {
  const express = results.find((r) => r.name === 'express-openid-connect');
  const lines = [
    '| server | req/s | p50 | p99 | peak RSS | ratio vs express |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    const ratio = express ? `${(r.rps / express.rps).toFixed(1)}×` : 'n/a';
    lines.push(`| ${r.name} | ${r.rps.toFixed(0)} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${(r.peakRssKiB / 1024).toFixed(1)} MiB | ${ratio} |`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const wantExpress = opts.only !== 'relier';
  const wantRelier = opts.only !== 'express';

  if (spawnSync('wrk', ['-v']).error) {
    die('wrk is not on PATH (Debian/Ubuntu: `apt-get update && apt-get install -y wrk`)');
  }
  if (wantRelier) {
    const problem = relierPreflight(opts.relierBin);
    if (problem) {
      die(`${problem}\n(run \`node bench/check/run.mjs --only express\` to measure the reference alone)`);
    }
  }

  const machine = machineInfo();
  log(`machine: ${machine.nproc} CPUs (${machine.model}), ${machine.memGiB} GiB, Linux ${machine.kernel}, node ${machine.node}, ${machine.wrk}, ${machine.date}`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'relier-bench-check-'));
  const ports = { express: await freePort(), relier: await freePort() };
  while (ports.relier === ports.express) {
    ports.relier = await freePort();
  }
  const secrets = {
    express: crypto.randomBytes(24).toString('base64url'),
    relier: crypto.randomBytes(24).toString('base64url'),
  };

  const results = [];
  const identities = {};
  let failure = null;
  try {
    const op = await startOp(tmp, ports, secrets);

    let express;
    let relier;
    let expressCookie;
    let relierCookie;
    if (wantExpress) {
      express = await startExpress(ports.express, op.issuer, secrets.express);
      expressCookie = await headlessLogin(`${express.url}/login`, express.url, 'appSession');
      log(`express: logged in, cookie ${expressCookie.length} bytes`);
      identities.express = await expectStatus(`${express.url}/check`, expressCookie, 200);
      await expectStatus(`${express.url}/check`, null, 401);
      log(`express: /check 200 with cookie ${JSON.stringify(identities.express)}, 401 without`);
    }
    if (wantRelier) {
      relier = await startRelier(opts.relierBin, tmp, ports.relier, op.issuer, secrets.relier);
      relierCookie = await headlessLogin(`${relier.url}/auth/login/local`, relier.url, 'relier_session');
      log(`relier: logged in, cookie ${relierCookie.length} bytes`);
      identities.relier = await expectStatus(`${relier.url}/auth/check`, relierCookie, 200);
      await expectStatus(`${relier.url}/auth/check`, null, 401);
      log(`relier: /auth/check 200 with cookie ${JSON.stringify(identities.relier)}, 401 without`);
    }

    // The OP is idle from here on; it stays up because a check may consult it
    // (it would in a real deployment too).
    if (wantExpress) {
      results.push(await benchmark('express-openid-connect', `${express.url}/check`, expressCookie, express.child.pid, opts));
      // stop it so that it does not hold memory or timers during relier's run
      await stopChild(express.child);
    }
    if (wantRelier) {
      results.push(await benchmark('relier', `${relier.url}/auth/check`, relierCookie, relier.child.pid, opts));
      await stopChild(relier.child);
    }
    await stopChild(op.child);
  } catch (err) {
    failure = err;
  } finally {
    cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (failure) {
    die(failure.message);
  }

  const out = [
    `Machine: ${machine.nproc} CPUs (${machine.model}), ${machine.memGiB} GiB RAM, Linux ${machine.kernel}; node ${machine.node}; ${machine.wrk.replace(/\s*\[.*$/, '')}; git ${machine.gitRev}; ${machine.date}; load average before the run ${machine.loadavg}`,
    `Load: wrk -t${opts.threads} -c${opts.connections} -d${opts.duration}s --latency (after a discarded ${opts.warmup}s warm-up), one live session cookie, loopback; wrk and the server share the machine's CPUs.`,
    '',
    table(results),
    '',
  ];
  const relierResult = results.find((r) => r.name === 'relier');
  const expressResult = results.find((r) => r.name === 'express-openid-connect');
  if (relierResult) {
    const checks = [];
    if (expressResult) {
      const ratio = relierResult.rps / expressResult.rps;
      checks.push(`req/s ≥ 10× express: ${ratio.toFixed(1)}× ${ratio >= 10 ? 'PASS' : 'FAIL'}`);
    }
    checks.push(`p99 < 5 ms: ${fmtMs(relierResult.p99)} ${relierResult.p99 < 5 ? 'PASS' : 'FAIL'}`);
    checks.push(`RSS < 30 MiB: ${(relierResult.peakRssKiB / 1024).toFixed(1)} MiB ${relierResult.peakRssKiB < 30 * 1024 ? 'PASS' : 'FAIL'}`);
    out.push(`Targets (relier): ${checks.join('; ')}`, '');
  }
  process.stdout.write(out.join('\n'));
  if (process.env.BENCH_JSON) {
    fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({ machine, opts: { ...opts, relierBin: path.relative(ROOT, opts.relierBin) }, identities, results }, null, 2));
  }
}

await main();
