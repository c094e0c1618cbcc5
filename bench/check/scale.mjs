// Sessions that miss the cache: `GET /auth/check` of `relier serve` with a million sessions in
// the store and a session cache capped far below the working set, so that most checks read
// the store. Reports requests/s, p50/p99 and the server's peak RSS.
//
// Usage (from the repository root):
//   npm ci --prefix tests/op
//   cargo build --release -p relier-cli
//   cargo build --release -p relier-store --example seed_sessions
//   node bench/check/scale.mjs [--sessions 1000000] [--working-set 100000]
//                              [--cache 10000] [--duration 20] [--connections 50]
//                              [--store postgres://…] [--data DIR] [--touch-interval 60s]
//                              [--touch-writes-per-second 1000] [--rate R]
//
// With --rate R the load is open-loop instead (target/release/examples/open_loop, built by
// `cargo build --release -p relier-gateway --example open_loop`): R checks a second on a fixed
// schedule over --connections connections, each latency counted from when the check was due,
// so the percentiles show the gateway's own delays at that load rather than the queue a
// closed loop builds once the gateway is saturated. Report both.
//
// It starts the test OP (relier serve discovers it at start), seeds the store with
// --sessions live sessions (target/release/examples/seed_sessions), starts relier serve on
// it with `[session] cache_capacity = --cache`, and runs
// `wrk -t2 -cN -dS --latency -s <script>` where every request carries the cookie of a session
// drawn at random from the first --working-set ones. Needs wrk on PATH.
//
// Seeding a million sessions takes minutes: with --data DIR the seeded store (SQLite file or,
// with --store, the PostgreSQL database), its master key and the cookie list are kept in DIR
// and reused by the next run with the same --data (and --sessions/--working-set).

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

import {
  ROOT, die, fmtMs, freePort, inTempDir, log, machineInfo, machineLine, parseFlags,
  relierPreflight, rssSampler, startChild, startOp, startRelier, stopChild,
} from './lib.mjs';

function parseArgs(argv) {
  const opts = parseFlags(argv, {
    sessions: 1_000_000,
    workingSet: 100_000,
    cache: 10_000,
    duration: 20,
    connections: 50,
    store: '',
    data: '',
    touchInterval: '',
    touchWritesPerSecond: 0,
    rate: 0,
    openLoopBin: path.join(ROOT, 'target', 'release', 'examples', 'open_loop'),
    relierBin: path.join(ROOT, 'target', 'release', 'relier'),
    seedBin: path.join(ROOT, 'target', 'release', 'examples', 'seed_sessions'),
  }, import.meta.url);
  for (const k of ['sessions', 'workingSet', 'cache', 'duration', 'connections']) {
    if (!Number.isInteger(opts[k]) || opts[k] < 1) {
      die(`--${k} must be a positive integer`);
    }
  }
  return opts;
}

function wrkScript(tmp, idsFile) {
  const script = path.join(tmp, 'random-session.lua');
  fs.writeFileSync(script, `
local ids = {}
for line in io.lines("${idsFile}") do ids[#ids + 1] = line end
math.randomseed(os.time() + tonumber(tostring(ids):sub(8), 16) % 100000)
request = function()
  return wrk.format("GET", "/auth/check", { ["Cookie"] = "relier_session=" .. ids[math.random(#ids)] })
end
`);
  return script;
}

function runWrk(url, script, opts) {
  return new Promise((resolve, reject) => {
    const child = startChild('wrk', 'wrk', [
      '-t2', `-c${opts.connections}`, `-d${opts.duration}s`, '--latency', '--timeout', '5s',
      '-s', script, url,
    ]);
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => { out += chunk; });
    const guard = setTimeout(() => child.kill('SIGKILL'), (opts.duration + 30) * 1000);
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

function runOpenLoop(url, idsFile, opts) {
  return new Promise((resolve, reject) => {
    const child = startChild('open_loop', opts.openLoopBin, [
      url, idsFile, String(opts.rate), String(opts.duration), String(opts.connections),
    ]);
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => { out += chunk; });
    const guard = setTimeout(() => child.kill('SIGKILL'), (opts.duration + 60) * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (code !== 0) {
        reject(new Error(`open_loop exited ${code ?? signal}:\n${out}\n${child.stderrTail()}`));
        return;
      }
      const r = JSON.parse(out.trim());
      process.stderr.write(`[open_loop] ${out.trim()}\n`);
      if (r.non_200 || r.errors) {
        reject(new Error(`open_loop saw ${r.non_200} non-200 answers and ${r.errors} errors`));
        return;
      }
      resolve({ rps: r.rate, p50: r.p50, p99: r.p99, p999: r.p999, max: r.max });
    });
  });
}

function latency(out, pct) {
  const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
  if (!m) {
    return NaN;
  }
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

// Seeds `store` unless `data` holds a finished seeding of the same shape (a `seeded` marker
// written last); returns its master key and cookie list.
function seed(opts, data, store) {
  const idsFile = path.join(data, 'ids.txt');
  const keyFile = path.join(data, 'master.key');
  const marker = path.join(data, 'seeded');
  const shape = `${store.replace(/\/\/[^@]*@/, '//…@')} ${opts.sessions} ${opts.workingSet}`;
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === shape) {
    log(`reusing the ${opts.sessions} sessions seeded in ${data}`);
    return { masterKey: fs.readFileSync(keyFile, 'utf8'), idsFile };
  }
  // The new key is kept only once the seeding has succeeded: a failed attempt (a store already
  // seeded under another key refuses it at open) leaves an earlier seeding's key and marker
  // as they were, so the store stays usable.
  const masterKey = crypto.randomBytes(32).toString('base64');
  log(`seeding ${opts.sessions} sessions into ${store.replace(/\/\/[^@]*@/, '//…@')}`);
  const seeded = spawnSync(opts.seedBin, [store, String(opts.sessions), idsFile, String(opts.workingSet)], {
    env: { ...process.env, RELIER_MASTER_KEY: masterKey },
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  if (seeded.status !== 0) {
    throw new Error(`seed_sessions failed (a store that holds rows sealed under another master key refuses it: drop and create the database, or delete the SQLite file, first): ${seeded.stderr}`);
  }
  log(seeded.stderr.trim());
  fs.writeFileSync(keyFile, masterKey, { mode: 0o600 });
  if (opts.data) {
    fs.writeFileSync(marker, shape);
  }
  return { masterKey, idsFile };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  for (const [bin, how] of [[opts.relierBin, 'cargo build --release -p relier-cli'],
    [opts.seedBin, 'cargo build --release -p relier-store --example seed_sessions'],
    ...(opts.rate ? [[opts.openLoopBin, 'cargo build --release -p relier-gateway --example open_loop']] : [])]) {
    if (!fs.existsSync(bin)) {
      die(`${path.relative(ROOT, bin)} is missing: ${how}`);
    }
  }
  const problem = relierPreflight(opts.relierBin);
  if (problem) {
    die(problem);
  }
  const machine = machineInfo();
  const ports = { express: await freePort(), relier: await freePort() };
  const secrets = { express: 'unused-unused-unused', relier: crypto.randomBytes(24).toString('base64url') };
  const result = await inTempDir('relier-bench-scale-', async (tmp) => {
    const data = opts.data ? path.resolve(opts.data) : tmp;
    fs.mkdirSync(data, { recursive: true });
    const store = opts.store || `sqlite://${path.join(data, 'relier.db')}`;
    const { masterKey, idsFile } = seed(opts, data, store);
    const op = await startOp(tmp, ports, secrets);
    const relier = await startRelier(opts.relierBin, tmp, ports.relier, op.issuer, secrets.relier, {
      store,
      masterKey,
      extra: ['', '[session]', `cache_capacity = ${opts.cache}`,
        ...(opts.touchInterval ? [`touch_interval = "${opts.touchInterval}"`] : []),
        ...(opts.touchWritesPerSecond ? [`touch_writes_per_second = ${opts.touchWritesPerSecond}`] : [])],
    });
    const script = wrkScript(tmp, idsFile);
    log('warm-up 5 s (discarded)');
    await runWrk(`${relier.url}`, script, { ...opts, duration: 5 });
    const sampler = rssSampler(relier.child.pid);
    const anon = rssSampler(relier.child.pid, 200, 'RssAnon');
    if (opts.rate) {
      const res = await runOpenLoop(relier.url, idsFile, opts);
      const peak = { peakRssKiB: sampler.stop(), peakAnonKiB: anon.stop() };
      await stopChild(relier.child);
      await stopChild(op.child);
      return { ...res, ...peak };
    }
    const out = await runWrk(`${relier.url}`, script, opts);
    const peakRssKiB = sampler.stop();
    const peakAnonKiB = anon.stop();
    process.stderr.write(`${out.trimEnd().replace(/^/gm, '[wrk] ')}\n`);
    if (/Non-2xx/.test(out) || /Socket errors/.test(out)) {
      throw new Error('wrk saw non-2xx responses or socket errors: the sessions did not all check');
    }
    await stopChild(relier.child);
    await stopChild(op.child);
    return {
      rps: Number(/Requests\/sec:\s*([\d.]+)/.exec(out)?.[1]),
      p50: latency(out, 50),
      p99: latency(out, 99),
      peakRssKiB,
      peakAnonKiB,
    };
  });
  const missRate = Math.max(0, 1 - opts.cache / opts.workingSet);
  process.stdout.write([
    machineLine(machine),
    `${opts.sessions} sessions in ${opts.store ? opts.store.replace(/:\/\/.*/, '') : 'sqlite'}; cookies drawn from ${opts.workingSet} of them; cache_capacity ${opts.cache} (≈ ${(missRate * 100).toFixed(0)} % of checks miss the cache); ${opts.rate ? `open loop, ${opts.rate} checks/s due over ${opts.connections} connections for ${opts.duration}s (p99.9 ${fmtMs(result.p999)}, max ${fmtMs(result.max)})` : `wrk -t2 -c${opts.connections} -d${opts.duration}s`}.`,
    '',
    '| req/s | p50 | p99 | peak RSS | of which own memory (RssAnon) |',
    '| ---: | ---: | ---: | ---: | ---: |',
    `| ${result.rps.toFixed(0)} | ${fmtMs(result.p50)} | ${fmtMs(result.p99)} | ${(result.peakRssKiB / 1024).toFixed(1)} MiB | ${(result.peakAnonKiB / 1024).toFixed(1)} MiB |`,
    '',
  ].join('\n'));
}

await main();
