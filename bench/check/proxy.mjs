// Reverse-proxy benchmark: authenticated requests through relier (`serve` with [upstream])
// against Apache + mod_auth_openidc (Debian packages) in front of the same upstream, and the
// bare upstream itself, on the same machine in the same run.
//
// Usage (from the repository root):
//   apt-get update && apt-get install -y wrk apache2 libapache2-mod-auth-openidc
//   npm ci --prefix tests/op && npm ci --prefix bench/check
//   cargo build --release -p relier-cli
//   node bench/check/proxy.mjs [--rounds 3] [--duration 20] [--warmup 5] [--connections 50]
//                              [--threads 2] [--only upstream,hyper,relier,apache]
//                              [--paths /,/stream] [--relier-bin PATH] [--hyper-bin PATH]
//
// --only hyper (the raw baseline) needs
//   cargo build --release -p relier-gateway --example bare_proxy
// (crates/relier-gateway/examples/bare_proxy.rs: hyper alone relaying to the same upstream,
// nothing of relier in between — what any hyper-based proxy pays on this machine).
//
// --paths: the upstream paths requested, each measured on every target: `/` answers with a
// Content-Length, head and body in one write; `/stream` streams (head first, then the body in
// a later write; chunked), see upstream.mjs.
//
// What it does, all on 127.0.0.1:
//   1. starts the test OP (tests/op/server.mjs) with the clients `rp-relier` and `rp-apache`
//      (client_secret_basic, code flow) and the upstream (bench/check/upstream.mjs, a trivial
//      node server: 200 "hello\n", whole or streamed);
//   2. starts `relier serve` (SQLite store) with `[upstream] url = <the upstream>`, and Apache
//      (bench/check/apache.mjs: apache2 -DFOREGROUND, a config generated from
//      apache/httpd.conf.in: mod_auth_openidc with OIDCProviderMetadataURL at the test OP,
//      mod_proxy_http to the upstream, Debian's mpm_event settings);
//   3. logs in through each headlessly (the test OP logs `alice` in by itself) to get its
//      session cookie, checks that GET / answers the upstream's 200 with the cookie and not
//      without, and that the upstream sees the user's identity headers;
//   4. per round, for each target and path in turn (the order rotates every round): on the
//      first round a discarded --warmup run, then `wrk -t2 -c50 -d20s --latency -H 'Cookie:
//      …' URL/PATH`, reading the server's CPU time before and after (/proc/PID/stat utime +
//      stime, all threads; Apache: the parent, its live workers and the workers reaped
//      meanwhile);
//   5. stops everything and prints markdown tables on stdout: every run, min / median / max
//      per target and path, and the targets of issue 20 §6 checked on the medians.
// The upstream's CPU is not counted in a proxy's; wrk and the servers share the CPUs.
// Every wrk run is bounded by -d (and killed if it overruns); every child process is
// stopped on exit. BENCH_JSON=FILE also writes the raw results.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { apachePreflight, apacheVersions, startApache } from './apache.mjs';
import {
  ROOT, cpuSeconds, die, fmtMs, headlessLogin, inTempDir, log, machineInfo, machineLine,
  firstJsonLine, navigate, parseFlags, relierPreflight, rpPortsAndSecrets, spread, startChild,
  startOp, startRelier, startUpstream, treeCpuSeconds,
} from './lib.mjs';
import { parseWrk, runWrk } from './wrk.mjs';

const TARGETS = ['upstream', 'hyper', 'relier', 'apache'];
const LABELS = {
  upstream: 'bare upstream (node)',
  hyper: 'bare hyper proxy (no auth)',
  relier: 'relier serve [upstream]',
  apache: 'Apache + mod_auth_openidc',
};

function parseArgs(argv) {
  const opts = parseFlags(argv, {
    only: TARGETS.join(','),
    rounds: 1,
    duration: 20,
    warmup: 5,
    connections: 50,
    threads: 2,
    paths: '/,/stream',
    relierBin: path.join(ROOT, 'target', 'release', 'relier'),
    hyperBin: path.join(ROOT, 'target', 'release', 'examples', 'bare_proxy'),
  }, import.meta.url);
  opts.targets = opts.only.split(',').map((s) => s.trim()).filter(Boolean);
  if (opts.targets.length === 0 || opts.targets.some((t) => !TARGETS.includes(t))) {
    die(`--only takes a comma-separated list of ${TARGETS.join(', ')}`);
  }
  opts.pathList = opts.paths.split(',').map((s) => s.trim()).filter(Boolean);
  if (opts.pathList.length === 0 || opts.pathList.some((p) => !p.startsWith('/'))) {
    die('--paths takes a comma-separated list of paths, each starting with /');
  }
  for (const [k, min, max] of [['rounds', 1, 50], ['duration', 1, 600], ['warmup', 0, 600], ['connections', 1, 10_000], ['threads', 1, 64]]) {
    if (!Number.isInteger(opts[k]) || opts[k] < min || opts[k] > max) {
      die(`--${k} must be an integer in [${min}, ${max}]`);
    }
  }
  return opts;
}

// Checks a proxy with its session cookie: GET / is the upstream's answer, GET /__headers
// carries the identity header `identity`, and GET / without the cookie is not let through.
async function checkProxy(name, url, cookie, identity) {
  const ok = await navigate(`${url}/`, cookie);
  if (ok.status !== 200) {
    throw new Error(`${name}: GET / with the session cookie answered ${ok.status}`);
  }
  const anon = await navigate(`${url}/`, null);
  if (anon.status === 200) {
    throw new Error(`${name}: GET / without a session cookie answered 200`);
  }
  const headers = await fetch(`${url}/__headers`, { headers: { cookie }, signal: AbortSignal.timeout(10_000) });
  const seen = headers.ok ? await headers.json() : {};
  if (!seen[identity]) {
    throw new Error(`${name}: the upstream did not get ${identity} (${headers.status}: ${JSON.stringify(seen)})`);
  }
  log(`${name}: GET / 200 with the session cookie, ${anon.status} without; upstream sees ${identity}: ${seen[identity]}`);
}

// Starts the servers; returns the targets: { key, name, url, cookie, cpu() }.
async function startTargets(tmp, opts) {
  const { ports, secrets } = await rpPortsAndSecrets(['relier', 'apache', 'upstream', 'hyper']);
  const op = await startOp(tmp, ports, secrets);
  const upstream = await startUpstream(ports.upstream);
  const targets = [];
  if (opts.targets.includes('upstream')) {
    const { pid } = upstream.child;
    targets.push({ key: 'upstream', url: upstream.url, cookie: null, cpu: () => cpuSeconds(pid) });
  }
  if (opts.targets.includes('hyper')) {
    const upstreamAddr = new URL(upstream.url).host;
    const child = startChild('hyper', opts.hyperBin, [`127.0.0.1:${ports.hyper}`, upstreamAddr]);
    const { url } = await firstJsonLine(child, 10_000);
    log(`bare hyper proxy: ${url} -> ${upstreamAddr} (pid ${child.pid})`);
    const { pid } = child;
    targets.push({ key: 'hyper', url, cookie: null, cpu: () => cpuSeconds(pid) });
  }
  if (opts.targets.includes('relier')) {
    const extra = ['', '[upstream]', `url = "${upstream.url}"`];
    const relier = await startRelier(opts.relierBin, tmp, ports.relier, op.issuer, secrets.relier, { extra });
    const cookie = await headlessLogin(`${relier.url}/auth/login/local`, relier.url, 'relier_session');
    await checkProxy('relier', relier.url, cookie, 'x-relier-subject');
    const { pid } = relier.child;
    targets.push({ key: 'relier', url: relier.url, cookie, cpu: () => cpuSeconds(pid) });
  }
  if (opts.targets.includes('apache')) {
    const apache = await startApache(tmp, ports.apache, op.issuer, secrets.apache, upstream.url);
    const cookie = await headlessLogin(`${apache.url}/`, apache.url, 'mod_auth_openidc_session');
    await checkProxy('apache', apache.url, cookie, 'oidc_claim_sub');
    targets.push({ key: 'apache', url: apache.url, cookie, cpu: () => treeCpuSeconds(apache.pid), diagnostics: apache.errorLog });
  }
  return targets.map((t) => ({ ...t, name: LABELS[t.key] }));
}

// One measured wrk run on a target and path, with the server's CPU time around it.
async function measure(t, urlPath, opts) {
  const cpu0 = t.cpu();
  const out = await runWrk(`${t.url}${urlPath}`, t.cookie, opts.duration, opts);
  const cpu = t.cpu() - cpu0;
  process.stderr.write(`${out.trimEnd().replace(/^/gm, `[wrk ${t.key} ${urlPath}] `)}\n`);
  const r = parseWrk(out);
  // A few closed keep-alive connections are tolerated and reported: Apache's event MPM closes
  // the keep-alive connections of a worker process that has reached its connection limit
  // (ThreadsPerChild) until it has started another process (wrk reconnects). The warm-up
  // leaves it with enough processes; without one, a short run fails here.
  if (r.non2xx > 0 || r.socketErrorCount > r.requests / 200) {
    throw new Error(`${t.name}: ${r.non2xx} non-2xx responses, socket errors: ${r.socketErrors ?? 'none'} — the numbers would not measure authenticated requests\n${t.diagnostics?.() ?? ''}`);
  }
  const result = { key: t.key, path: urlPath, rps: r.rps, p50: r.p50, p99: r.p99, requests: r.requests, socketErrors: r.socketErrorCount, cpuS: cpu, cpuPer10k: (cpu / r.requests) * 10_000 };
  log(`${t.key} ${urlPath}: ${r.rps.toFixed(0)} req/s, p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)}, CPU ${cpu.toFixed(2)} s for ${r.requests} requests`);
  return result;
}

function runsTable(runs) {
  const lines = [
    '| round | target | path | req/s | p50 | p99 | server CPU per 10k requests | socket errors |',
    '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of runs) {
    lines.push(`| ${r.round} | ${LABELS[r.key]} | \`${r.path}\` | ${r.rps.toFixed(0)} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${r.cpuPer10k.toFixed(2)} s | ${r.socketErrors} |`);
  }
  return lines;
}

// stats: path -> key -> { rps, p50, p99, cpu } (each min / median / max)
function summaryTable(stats) {
  const lines = [
    '| target | path | req/s min / median / max | p50 median | p99 median | server CPU per 10k requests min / median / max |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const [urlPath, byKey] of Object.entries(stats)) {
    for (const [key, s] of Object.entries(byKey)) {
      lines.push(`| ${LABELS[key]} | \`${urlPath}\` | ${s.rps.min.toFixed(0)} / ${s.rps.median.toFixed(0)} / ${s.rps.max.toFixed(0)} | ${fmtMs(s.p50.median)} | ${fmtMs(s.p99.median)} | ${s.cpu.min.toFixed(2)} / ${s.cpu.median.toFixed(2)} / ${s.cpu.max.toFixed(2)} s |`);
    }
  }
  return lines;
}

// relier / Apache per round for one path: requests/s and CPU per request ratios.
function pairedRatios(runs, urlPath) {
  const rounds = [...new Set(runs.map((r) => r.round))];
  const out = { rps: [], cpu: [] };
  for (const round of rounds) {
    const r = runs.find((x) => x.round === round && x.path === urlPath && x.key === 'relier');
    const a = runs.find((x) => x.round === round && x.path === urlPath && x.key === 'apache');
    if (r && a) {
      out.rps.push(r.rps / a.rps);
      out.cpu.push(r.cpuPer10k / a.cpuPer10k);
    }
  }
  return out;
}

// Issue 20 §6, on the medians of one path (and relier / Apache round by round).
function targetChecks(urlPath, byKey, runs) {
  const r = byKey.relier;
  const a = byKey.apache;
  const u = byKey.upstream;
  const out = [];
  const check = (what, value, pass) => out.push(`- \`${urlPath}\`: ${what}: ${value} — ${pass ? 'met' : 'NOT met'}`);
  if (r && a) {
    const paired = pairedRatios(runs, urlPath);
    const perRound = (list, fmt) => (list.length > 1 ? ` (round by round: ${list.map(fmt).join(', ')})` : '');
    check('req/s ≥ 2× mod_auth_openidc', `${(r.rps.median / a.rps.median).toFixed(2)}×${perRound(paired.rps, (x) => `${x.toFixed(2)}×`)}`, r.rps.median >= 2 * a.rps.median);
    check('CPU per request ≤ ½ mod_auth_openidc', `${((r.cpu.median / a.cpu.median) * 100).toFixed(0)} %${perRound(paired.cpu, (x) => `${(x * 100).toFixed(0)} %`)}`, r.cpu.median <= a.cpu.median / 2);
    check('p50 below mod_auth_openidc', `${fmtMs(r.p50.median)} vs ${fmtMs(a.p50.median)}`, r.p50.median < a.p50.median);
    check('p99 below mod_auth_openidc', `${fmtMs(r.p99.median)} vs ${fmtMs(a.p99.median)}`, r.p99.median < a.p99.median);
  }
  if (r && u) {
    check('req/s ≥ 50 % of the bare upstream', `${((r.rps.median / u.rps.median) * 100).toFixed(0)} %`, r.rps.median >= u.rps.median / 2);
  }
  const h = byKey.hyper;
  const pct = (x, y) => `${((x / y) * 100).toFixed(0)} %`;
  if (h && u) {
    out.push(`- \`${urlPath}\`: (baseline) the bare hyper proxy serves ${pct(h.rps.median, u.rps.median)} of the bare upstream's req/s`);
  }
  if (h && r) {
    out.push(`- \`${urlPath}\`: (baseline) relier serves ${pct(r.rps.median, h.rps.median)} of the bare hyper proxy's req/s at ${pct(r.cpu.median, h.cpu.median)} of its CPU per request`);
  }
  return out;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (spawnSync('wrk', ['-v']).error) {
    die('wrk is not on PATH (Debian/Ubuntu: `apt-get update && apt-get install -y wrk`)');
  }
  const problem = (opts.targets.includes('relier') && relierPreflight(opts.relierBin))
    || (opts.targets.includes('hyper') && !fs.existsSync(opts.hyperBin)
      && `${path.relative(ROOT, opts.hyperBin)} does not exist: build it with \`cargo build --release -p relier-gateway --example bare_proxy\``)
    || (opts.targets.includes('apache') && apachePreflight());
  if (problem) {
    die(problem);
  }
  const machine = machineInfo();
  const runs = await inTempDir('relier-bench-proxy-', async (tmp) => {
    const targets = await startTargets(tmp, opts);
    // per path, the targets one after the other: relier's and Apache's runs of a path are
    // neighbours in every round, so that a change of the machine's load hits both alike
    const cases = opts.pathList.flatMap((urlPath) => targets.map((t) => ({ t, urlPath })));
    const out = [];
    for (let round = 1; round <= opts.rounds; round++) {
      // rotate the order every round, so that no run always follows the same one
      const shift = (round - 1) % cases.length;
      for (const { t, urlPath } of [...cases.slice(shift), ...cases.slice(0, shift)]) {
        if (round === 1 && opts.warmup > 0) {
          log(`${t.key} ${urlPath}: warm-up ${opts.warmup}s (discarded)`);
          await runWrk(`${t.url}${urlPath}`, t.cookie, opts.warmup, opts);
        }
        log(`round ${round}: ${t.key}: wrk -t${opts.threads} -c${opts.connections} -d${opts.duration}s --latency ${t.url}${urlPath}`);
        out.push({ round, ...(await measure(t, urlPath, opts)) });
      }
    }
    return out;
  });
  const stats = {};
  for (const urlPath of opts.pathList) {
    stats[urlPath] = {};
    for (const key of TARGETS) {
      const mine = runs.filter((r) => r.key === key && r.path === urlPath);
      if (mine.length > 0) {
        stats[urlPath][key] = {
          rps: spread(mine.map((r) => r.rps)),
          p50: spread(mine.map((r) => r.p50)),
          p99: spread(mine.map((r) => r.p99)),
          cpu: spread(mine.map((r) => r.cpuPer10k)),
        };
      }
    }
  }
  const report = [
    machineLine(machine),
    `${machine.wrk.replace(/\s*\[.*$/, '')}; ${opts.targets.includes('apache') ? apacheVersions() : ''}`,
    `Load: wrk -t${opts.threads} -c${opts.connections} -d${opts.duration}s --latency, keep-alive, GET ${opts.pathList.join(' and ')} with one live session cookie (none for the bare upstream), after a discarded ${opts.warmup}s warm-up per target and path; ${opts.rounds} round(s), the order rotating. Server CPU: the proxy's process(es) only.`,
    '',
    ...runsTable(runs),
    '',
    ...(opts.rounds > 1 ? [...summaryTable(stats), ''] : []),
    ...Object.entries(stats).flatMap(([urlPath, byKey]) => targetChecks(urlPath, byKey, runs)),
    '',
  ];
  process.stdout.write(report.join('\n'));
  if (process.env.BENCH_JSON) {
    fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({ machine, opts: { ...opts, relierBin: path.relative(ROOT, opts.relierBin) }, runs, stats }, null, 2));
  }
}

await main();
