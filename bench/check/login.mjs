// CPU cost and wall time of a login: relier's gateway against express-openid-connect (Auth0's
// Express middleware, whose callback is openid-client) and Apache + mod_auth_openidc, same OP,
// same driver, same run.
//
// Usage (from the repository root):
//   npm ci --prefix tests/op && npm ci --prefix bench/check
//   cargo build --release -p relier-cli
//   node bench/check/login.mjs [--logins 400] [--warmup 50] [--rounds 1]
//                              [--only express,relier,apache] [--store postgres://…]
//                              [--relier-bin PATH]
//
// --only: a comma-separated list of express, relier, apache (default express,relier). apache
// needs `apt-get install -y apache2 libapache2-mod-auth-openidc` (bench/check/apache.mjs runs
// it as a child, no system service); with apache in the list, relier runs in reverse-proxy
// mode too ([upstream], the same trivial upstream as Apache's), as in proxy.mjs.
// --rounds N: measures the servers one after the other N times (alternating, which holds
// still under a noisy machine) and reports every round and min / median / max.
//
// What it does, all on 127.0.0.1: starts the test OP (tests/op/server.mjs) with the clients
// `rp-express`, `rp-relier`, `rp-apache` (client_secret_basic, code flow), the servers
// (relier on SQLite unless --store), then per server and round: --warmup discarded logins
// (first round only), then --logins headless logins one after the other (start → OP →
// callback → session cookie), reading the server's CPU time (utime + stime of all its
// threads, /proc/PID/stat; Apache: the parent, its live workers and the reaped ones) and
// context switches (/proc/PID/task/*/status) before and after. Prints a markdown table: CPU
// per login, context switches per login, wall time per login. The OP and this driver use
// CPU too; they are not counted.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { apachePreflight, apacheVersions, startApache } from './apache.mjs';
import {
  ROOT, childPids, cpuSeconds, die, fmtMs, headlessLogin, inTempDir, log, machineInfo,
  machineLine, parseFlags, relierPreflight, rpPortsAndSecrets, spread, startExpress, startOp,
  startRelier, startUpstream, stopChild, treeCpuSeconds,
} from './lib.mjs';

const SERVERS = ['express', 'relier', 'apache'];

function parseArgs(argv) {
  const opts = parseFlags(argv, {
    only: 'express,relier',
    logins: 400,
    warmup: 50,
    rounds: 1,
    store: '',
    relierBin: path.join(ROOT, 'target', 'release', 'relier'),
  }, import.meta.url);
  opts.servers = opts.only.split(',').map((s) => s.trim()).filter(Boolean);
  if (opts.servers.length === 0 || opts.servers.some((s) => !SERVERS.includes(s))) {
    die(`--only takes a comma-separated list of ${SERVERS.join(', ')}`);
  }
  for (const [k, min] of [['logins', 1], ['warmup', 0], ['rounds', 1]]) {
    if (!Number.isInteger(opts[k]) || opts[k] < min || opts[k] > 100_000) {
      die(`--${k} must be an integer in [${min}, 100000]`);
    }
  }
  return opts;
}

// Voluntary + involuntary context switches over all the threads of the processes.
function contextSwitches(pids) {
  let total = 0;
  for (const pid of pids) {
    let tids = [];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      // the process ended meanwhile
    }
    for (const tid of tids) {
      try {
        const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
        for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s*(\d+)$/gm)) {
          total += Number(m[1]);
        }
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return total;
}

// One server's measured logins. `s`: { name, startUrl, origin, cookieName, cpu(), pids() }.
async function measure(s, logins) {
  const cpu0 = s.cpu();
  const cs0 = contextSwitches(s.pids());
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < logins; i++) {
    await headlessLogin(s.startUrl, s.origin, s.cookieName);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = (s.cpu() - cpu0) * 1000;
  const cs = contextSwitches(s.pids()) - cs0;
  const result = {
    name: s.name,
    cpuMsPerLogin: cpu / logins,
    ctxPerLogin: cs / logins,
    wallMsPerLogin: wall / logins,
  };
  log(`${s.name}: ${JSON.stringify(result)}`);
  return result;
}

// Starts the servers of opts.servers; returns their descriptions for measure().
async function startServers(tmp, op, ports, secrets, opts) {
  const servers = [];
  const single = (pid) => ({ cpu: () => cpuSeconds(pid), pids: () => [pid] });
  const upstream = opts.servers.includes('apache') ? await startUpstream(ports.upstream) : null;
  if (opts.servers.includes('express')) {
    const express = await startExpress(ports.express, op.issuer, secrets.express);
    servers.push({ name: 'express-openid-connect (openid-client)', startUrl: `${express.url}/login`, origin: express.url, cookieName: 'appSession', ...single(express.child.pid) });
  }
  if (opts.servers.includes('relier')) {
    // The login rate limit is per client address: the driver is one client.
    const extra = ['', '[limits]', 'login_per_minute = 0', ...(upstream ? ['', '[upstream]', `url = "${upstream.url}"`] : [])];
    const relier = await startRelier(opts.relierBin, tmp, ports.relier, op.issuer, secrets.relier, { store: opts.store || undefined, extra });
    const name = `relier (${opts.store ? opts.store.replace(/:\/\/.*/, '') : 'sqlite'}${upstream ? ', reverse proxy' : ''})`;
    servers.push({ name, startUrl: `${relier.url}/auth/login/local`, origin: relier.url, cookieName: 'relier_session', ...single(relier.child.pid) });
  }
  if (opts.servers.includes('apache')) {
    const apache = await startApache(tmp, ports.apache, op.issuer, secrets.apache, upstream.url);
    servers.push({
      name: 'Apache + mod_auth_openidc',
      startUrl: `${apache.url}/`,
      origin: apache.url,
      cookieName: 'mod_auth_openidc_session',
      cpu: () => treeCpuSeconds(apache.pid),
      pids: () => [apache.pid, ...childPids(apache.pid)],
    });
  }
  return servers;
}

function report(machine, opts, rounds) {
  const lines = [
    machineLine(machine),
    ...(opts.servers.includes('apache') ? [apacheVersions()] : []),
    `${opts.logins} logins per server and round after ${opts.warmup} warm-up logins, one after the other, same OP and driver; ${opts.rounds} round(s), the servers alternating.`,
    '',
  ];
  const reference = rounds[0].find((r) => r.name.startsWith('express'));
  lines.push(
    '| round | server | CPU per login | context switches per login | wall time per login |' + (reference ? ' CPU vs express |' : ''),
    '| ---: | --- | ---: | ---: | ---: |' + (reference ? ' ---: |' : ''),
  );
  rounds.forEach((round, i) => {
    const ref = round.find((r) => r.name.startsWith('express'));
    for (const r of round) {
      const ratio = ref ? ` ${((r.cpuMsPerLogin / ref.cpuMsPerLogin) * 100).toFixed(0)} % |` : '';
      lines.push(`| ${i + 1} | ${r.name} | ${fmtMs(r.cpuMsPerLogin)} | ${r.ctxPerLogin.toFixed(0)} | ${fmtMs(r.wallMsPerLogin)} |${ratio}`);
    }
  });
  if (rounds.length > 1) {
    lines.push('', '| server | CPU per login min / median / max | wall time per login min / median / max |', '| --- | ---: | ---: |');
    for (const { name } of rounds[0]) {
      const mine = rounds.map((round) => round.find((r) => r.name === name));
      const cpu = spread(mine.map((r) => r.cpuMsPerLogin));
      const wall = spread(mine.map((r) => r.wallMsPerLogin));
      lines.push(`| ${name} | ${fmtMs(cpu.min)} / ${fmtMs(cpu.median)} / ${fmtMs(cpu.max)} | ${fmtMs(wall.min)} / ${fmtMs(wall.median)} / ${fmtMs(wall.max)} |`);
    }
  }
  const median = (prefix, field) => {
    const mine = rounds.map((round) => round.find((r) => r.name.startsWith(prefix))).filter(Boolean);
    return mine.length ? spread(mine.map((r) => r[field])).median : null;
  };
  const relierCpu = median('relier', 'cpuMsPerLogin');
  const apacheCpu = median('Apache', 'cpuMsPerLogin');
  if (relierCpu !== null && apacheCpu !== null) {
    // issue 20 §6: a full login's wall time and RP CPU no higher than mod_auth_openidc's
    const relierWall = median('relier', 'wallMsPerLogin');
    const apacheWall = median('Apache', 'wallMsPerLogin');
    lines.push(
      '',
      `- login wall time ≤ mod_auth_openidc's (medians): ${fmtMs(relierWall)} vs ${fmtMs(apacheWall)} — ${relierWall <= apacheWall ? 'met' : 'NOT met'}`,
      `- login RP CPU ≤ mod_auth_openidc's (medians): ${fmtMs(relierCpu)} vs ${fmtMs(apacheCpu)} — ${relierCpu <= apacheCpu ? 'met' : 'NOT met'}`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const problem = (opts.servers.includes('relier') && relierPreflight(opts.relierBin))
    || (opts.servers.includes('apache') && apachePreflight());
  if (problem) {
    die(problem);
  }
  const machine = machineInfo();
  const { ports, secrets } = await rpPortsAndSecrets([...opts.servers, 'upstream']);
  const rounds = await inTempDir('relier-bench-login-', async (tmp) => {
    const op = await startOp(tmp, ports, secrets);
    const servers = await startServers(tmp, op, ports, secrets, opts);
    for (const s of servers) {
      log(`${s.name}: ${opts.warmup} warm-up logins`);
      for (let i = 0; i < opts.warmup; i++) {
        await headlessLogin(s.startUrl, s.origin, s.cookieName);
      }
    }
    const out = [];
    for (let round = 0; round < opts.rounds; round++) {
      const results = [];
      for (const s of servers) {
        results.push(await measure(s, opts.logins));
      }
      out.push(results);
    }
    return out;
  });
  process.stdout.write(report(machine, opts, rounds));
}

await main();
