// Load benchmark of relier's gateway `GET /auth/check` with a live session,
// against express-openid-connect (Auth0's Express middleware) as the reference,
// on the same machine in the same run.
//
// Usage (from the repository root):
//   npm ci --prefix tests/op && npm ci --prefix bench/check
//   cargo build --release -p relier-cli
//   node bench/check/run.mjs [--only express|relier] [--duration 20] [--warmup 5]
//                            [--connections 50] [--threads 2] [--relier-bin PATH]
//                            [--store postgres://…] [--instances 2]
//
// --store runs relier on that store instead of an SQLite file; --instances N starts N
// `relier serve` processes on it (same master key, the first one's public URL; N > 1 needs
// --store) and puts the load on all of them at once, one wrk each, connections and
// threads split.
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

import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  ROOT, die, expectStatus, fmtMs, freePort, headlessLogin, inTempDir, log, machineInfo,
  parseFlags, relierPreflight, rpPortsAndSecrets, rssSampler, startExpress,
  startOp, startRelier, stopChild,
} from './lib.mjs';
import { parseWrk, runWrk } from './wrk.mjs';

// ---------------------------------------------------------------------------
// arguments

function parseArgs(argv) {
  const opts = parseFlags(argv, {
    only: '',
    duration: 20,
    warmup: 5,
    connections: 50,
    threads: 2,
    relierBin: path.join(ROOT, 'target', 'release', 'relier'),
    store: '',
    instances: 1,
  }, import.meta.url);
  if (opts.only !== '' && !['express', 'relier'].includes(opts.only)) {
    die('--only takes express or relier');
  }
  if (!Number.isInteger(opts.instances) || opts.instances < 1 || opts.instances > 8
      || (opts.instances > 1 && !opts.store)) {
    die('--instances takes 1 to 8, and more than 1 needs --store (a shared store)');
  }
  for (const k of ['duration', 'warmup', 'connections', 'threads']) {
    if (!Number.isInteger(opts[k]) || opts[k] < (k === 'warmup' ? 0 : 1) || opts[k] > 600) {
      die(`--${k} must be an integer in [${k === 'warmup' ? 0 : 1}, 600]`);
    }
  }
  return opts;
}

// Load on every target at once (one wrk per target, the connections and threads split
// between them): requests/s summed, latency percentiles the worst target's, peak RSS the
// largest process's.
async function benchmark(name, targets, cookie, opts) {
  const share = {
    ...opts,
    connections: Math.max(1, Math.floor(opts.connections / targets.length)),
    threads: Math.max(1, Math.floor(opts.threads / targets.length)),
  };
  const urls = targets.map((t) => t.url).join(' + ');
  if (opts.warmup > 0) {
    log(`${name}: warm-up ${opts.warmup}s (discarded)`);
    const warm = await Promise.all(targets.map((t) => runWrk(t.url, cookie, opts.warmup, share)));
    log(`${name}: warm-up ${warm.map((o) => parseWrk(o).rps).reduce((a, b) => a + b, 0).toFixed(0)} req/s`);
  }
  log(`${name}: wrk -t${share.threads} -c${share.connections} -d${opts.duration}s --latency -H 'Cookie: ${cookie.slice(0, 24)}…' on ${urls}`);
  const samplers = targets.map((t) => rssSampler(t.pid));
  const outs = await Promise.all(targets.map((t) => runWrk(t.url, cookie, opts.duration, share)));
  const peakRssKiB = Math.max(...samplers.map((x) => x.stop()));
  const parts = outs.map(parseWrk);
  for (const out of outs) {
    process.stderr.write(`${out.trimEnd().replace(/^/gm, `[wrk ${name}] `)}\n`);
  }
  for (const r of parts) {
    if (r.non2xx > 0 || r.socketErrors) {
      throw new Error(`${name}: ${r.non2xx} non-2xx responses, socket errors: ${r.socketErrors ?? 'none'} — the numbers would not measure a live session`);
    }
  }
  return {
    name,
    url: urls,
    rps: parts.reduce((a, r) => a + r.rps, 0),
    p50: Math.max(...parts.map((r) => r.p50)),
    p99: Math.max(...parts.map((r) => r.p99)),
    peakRssKiB,
  };
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

  const { ports, secrets } = await rpPortsAndSecrets();

  const results = [];
  const identities = {};
  await inTempDir('relier-bench-check-', async (tmp) => {
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
      const masterKey = crypto.randomBytes(32).toString('base64');
      const first = `http://127.0.0.1:${ports.relier}`;
      relier = [];
      for (let i = 0; i < opts.instances; i++) {
        const port = i === 0 ? ports.relier : await freePort();
        relier.push(await startRelier(opts.relierBin, tmp, port, op.issuer, secrets.relier, {
          store: opts.store || undefined, masterKey, publicUrl: first, name: `relier-${i}`,
        }));
      }
      relierCookie = await headlessLogin(`${first}/auth/login/local`, first, 'relier_session');
      log(`relier: logged in, cookie ${relierCookie.length} bytes`);
      for (const r of relier) {
        identities.relier = await expectStatus(`${r.url}/auth/check`, relierCookie, 200);
        await expectStatus(`${r.url}/auth/check`, null, 401);
      }
      log(`relier: /auth/check 200 with cookie ${JSON.stringify(identities.relier)}, 401 without`);
    }

    // The OP is idle from here on; it stays up because a check may consult it
    // (it would in a real deployment too).
    if (wantExpress) {
      results.push(await benchmark('express-openid-connect', [{ url: `${express.url}/check`, pid: express.child.pid }], expressCookie, opts));
      // stop it so that it does not hold memory or timers during relier's run
      await stopChild(express.child);
    }
    if (wantRelier) {
      results.push(await benchmark('relier', relier.map((r) => ({ url: `${r.url}/auth/check`, pid: r.child.pid })), relierCookie, opts));
      for (const r of relier) {
        await stopChild(r.child);
      }
    }
    await stopChild(op.child);
  });

  const out = [
    `Machine: ${machine.nproc} CPUs (${machine.model}), ${machine.memGiB} GiB RAM, Linux ${machine.kernel}; node ${machine.node}; ${machine.wrk.replace(/\s*\[.*$/, '')}; git ${machine.gitRev}; ${machine.date}; load average before the run ${machine.loadavg}`,
    `Load: wrk -t${opts.threads} -c${opts.connections} -d${opts.duration}s --latency (after a discarded ${opts.warmup}s warm-up), one live session cookie, loopback; wrk and the server share the machine's CPUs. relier: ${opts.instances} instance(s) on ${opts.store ? opts.store.replace(/:\/\/.*/, '') : 'sqlite'}.`,
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
