// CPU cost of a login: relier's gateway against express-openid-connect (Auth0's Express
// middleware, whose callback is openid-client), same OP, same driver, same run.
//
// Usage (from the repository root):
//   npm ci --prefix tests/op && npm ci --prefix bench/check
//   cargo build --release -p relier-cli
//   node bench/check/login.mjs [--logins 400] [--warmup 50] [--only express|relier]
//                              [--store postgres://…] [--relier-bin PATH]
//
// What it does, all on 127.0.0.1: starts the test OP (tests/op/server.mjs) with the clients
// `rp-express` and `rp-relier` (client_secret_basic, code flow), the Express app and
// `relier serve` (SQLite store unless --store), then per server: --warmup discarded logins,
// then --logins headless logins one after the other (start → OP → callback → session
// cookie), reading the server process's CPU time (utime + stime of all its threads,
// /proc/PID/stat) and context switches (/proc/PID/task/*/status) before and after. Prints
// a markdown table: CPU per login, context switches per login, wall time per login.
// The OP and this driver use CPU too; they are not counted.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

import {
  ROOT, die, fmtMs, headlessLogin, inTempDir, log, machineInfo, machineLine,
  parseFlags, relierPreflight, rpPortsAndSecrets, startExpress, startOp, startRelier, stopChild,
} from './lib.mjs';

function parseArgs(argv) {
  const opts = parseFlags(argv, {
    only: '',
    logins: 400,
    warmup: 50,
    store: '',
    relierBin: path.join(ROOT, 'target', 'release', 'relier'),
  }, import.meta.url);
  if (opts.only !== '' && !['express', 'relier'].includes(opts.only)) {
    die('--only takes express or relier');
  }
  for (const k of ['logins', 'warmup']) {
    if (!Number.isInteger(opts[k]) || opts[k] < (k === 'warmup' ? 0 : 1) || opts[k] > 100_000) {
      die(`--${k} must be an integer in [${k === 'warmup' ? 0 : 1}, 100000]`);
    }
  }
  return opts;
}

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

// CPU seconds (user + system, all threads) of a process.
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name (which may contain spaces) start at ") "
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after ") "
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

// Voluntary + involuntary context switches over all the process's threads.
function contextSwitches(pid) {
  let total = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s*(\d+)$/gm)) {
        total += Number(m[1]);
      }
    } catch {
      // the thread ended meanwhile
    }
  }
  return total;
}

async function measure(name, startUrl, origin, cookieName, pid, opts) {
  log(`${name}: ${opts.warmup} warm-up logins`);
  for (let i = 0; i < opts.warmup; i++) {
    await headlessLogin(startUrl, origin, cookieName);
  }
  const cpu0 = cpuSeconds(pid);
  const cs0 = contextSwitches(pid);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < opts.logins; i++) {
    await headlessLogin(startUrl, origin, cookieName);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = (cpuSeconds(pid) - cpu0) * 1000;
  const cs = contextSwitches(pid) - cs0;
  const result = {
    name,
    cpuMsPerLogin: cpu / opts.logins,
    ctxPerLogin: cs / opts.logins,
    wallMsPerLogin: wall / opts.logins,
  };
  log(`${name}: ${JSON.stringify(result)}`);
  return result;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const wantExpress = opts.only !== 'relier';
  const wantRelier = opts.only !== 'express';
  if (wantRelier) {
    const problem = relierPreflight(opts.relierBin);
    if (problem) {
      die(problem);
    }
  }
  const machine = machineInfo();
  const { ports, secrets } = await rpPortsAndSecrets();
  const results = await inTempDir('relier-bench-login-', async (tmp) => {
    const out = [];
    const op = await startOp(tmp, ports, secrets);
    if (wantExpress) {
      const express = await startExpress(ports.express, op.issuer, secrets.express);
      out.push(await measure('express-openid-connect (openid-client)', `${express.url}/login`, express.url, 'appSession', express.child.pid, opts));
      await stopChild(express.child);
    }
    if (wantRelier) {
      // The login rate limit is per client address: the driver is one client.
      const options = { store: opts.store || undefined, extra: ['', '[limits]', 'login_per_minute = 0'] };
      const relier = await startRelier(opts.relierBin, tmp, ports.relier, op.issuer, secrets.relier, options);
      out.push(await measure(`relier (${opts.store ? opts.store.replace(/:\/\/.*/, '') : 'sqlite'})`, `${relier.url}/auth/login/local`, relier.url, 'relier_session', relier.child.pid, opts));
      await stopChild(relier.child);
    }
    await stopChild(op.child);
    return out;
  });
  const reference = results.find((r) => r.name.startsWith('express'));
  const lines = [
    machineLine(machine),
    `${opts.logins} logins per server after ${opts.warmup} warm-up logins, one after the other, same OP and driver.`,
    '',
    '| server | CPU per login | context switches per login | wall time per login | CPU vs express |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    const ratio = reference ? `${((r.cpuMsPerLogin / reference.cpuMsPerLogin) * 100).toFixed(0)} %` : 'n/a';
    lines.push(`| ${r.name} | ${fmtMs(r.cpuMsPerLogin)} | ${r.ctxPerLogin.toFixed(0)} | ${fmtMs(r.wallMsPerLogin)} | ${ratio} |`);
  }
  lines.push('');
  process.stdout.write(lines.join('\n'));
}

await main();
