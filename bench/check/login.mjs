// CPU cost and wall time of a login: relier's gateway against express-openid-connect (Auth0's
// Express middleware, whose callback is openid-client 4), a bare openid-client 6 server (node
// `http` calling openid-client directly, no Express) and Apache + mod_auth_openidc, same OP,
// same driver, same run; relier and the bare server each with client_secret_basic and with
// private_key_jwt.
//
// Usage (from the repository root):
//   npm ci --prefix tests/op && npm ci --prefix bench/check
//   cargo build --release -p relier-cli
//   node bench/check/login.mjs [--logins 400] [--warmup 50] [--rounds 1]
//                              [--only express,relier,apache] [--store postgres://…]
//                              [--key-alg ES256|RS256] [--relier-bin PATH]
//
// --only: a comma-separated list of express, relier, relier-pkjwt, openid-client,
// openid-client-pkjwt, apache (default express,relier). relier and openid-client authenticate
// with client_secret_basic; relier-pkjwt with private_key_jwt and the store's key (the OP
// fetches it from the gateway's jwks_uri), openid-client-pkjwt with private_key_jwt and a key
// made here (the OP has its public JWK inline); --key-alg: both keys' algorithm, ES256
// (default) or RS256 (2048-bit RSA). apache needs `apt-get install -y
// apache2 libapache2-mod-auth-openidc` (bench/check/apache.mjs runs it as a child, no system
// service); with apache in the list, relier runs in reverse-proxy mode too ([upstream], the
// same trivial upstream as Apache's), as in proxy.mjs.
// --rounds N: measures the servers one after the other N times (alternating, the order
// rotating each round, which holds still under a noisy machine) and reports every round and
// min / median / max.
//
// What it does, all on 127.0.0.1: starts the test OP (tests/op/server.mjs) with a client per
// server (`rp-express`, `rp-relier`, `rp-relier-pkjwt`, `rp-openid-client`,
// `rp-openid-client-pkjwt`, `rp-apache`; code flow), the servers (relier on SQLite unless
// --store, each relier its own database), then per server and round: --warmup discarded
// logins (first round only), then --logins headless logins one after the other (start → OP →
// callback → session cookie), reading the server's CPU time (utime + stime of all its
// threads, /proc/PID/stat; Apache: the parent, its live workers and the reaped ones) and
// context switches (/proc/PID/task/*/status) before and after. Prints a markdown table: CPU
// per login, context switches per login, wall time per login; with both relier variants, or a
// relier variant and the bare server with the same method, the ratios of issue 21 per round.
// The OP and this driver use CPU too; they are not counted.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { apachePreflight, apacheVersions, startApache } from './apache.mjs';
import {
  ROOT, childPids, cpuSeconds, die, clientJwks, fmtMs, headlessLogin, inTempDir, log,
  machineInfo, machineLine, parseFlags, relierPreflight, rpPortsAndSecrets, spread,
  startExpress, startOp, startOpenidClient, startRelier, startUpstream, treeCpuSeconds,
} from './lib.mjs';

const SERVERS = ['express', 'relier', 'relier-pkjwt', 'openid-client', 'openid-client-pkjwt', 'apache'];
// The name each server's rows carry (the ratios below find them by it).
const LABELS = {
  relier: 'relier client_secret_basic',
  'relier-pkjwt': 'relier private_key_jwt',
  'openid-client': 'openid-client 6 (bare node http) client_secret_basic',
  'openid-client-pkjwt': 'openid-client 6 (bare node http) private_key_jwt',
};

function parseArgs(argv) {
  const opts = parseFlags(argv, {
    only: 'express,relier',
    logins: 400,
    warmup: 50,
    rounds: 1,
    store: '',
    keyAlg: 'ES256',
    relierBin: path.join(ROOT, 'target', 'release', 'relier'),
  }, import.meta.url);
  opts.servers = opts.only.split(',').map((s) => s.trim()).filter(Boolean);
  if (opts.servers.length === 0 || opts.servers.some((s) => !SERVERS.includes(s))) {
    die(`--only takes a comma-separated list of ${SERVERS.join(', ')}`);
  }
  if (!['ES256', 'RS256'].includes(opts.keyAlg)) {
    die('--key-alg takes ES256 or RS256');
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

// The OP's clients of the servers that are not in lib.mjs's REDIRECT_PATHS: both
// private_key_jwt clients and the bare openid-client server's client_secret_basic one.
function extraClients(opts, ports, secrets, keys) {
  const common = { response_types: ['code'], grant_types: ['authorization_code', 'refresh_token'] };
  const pkjwt = { token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: opts.keyAlg };
  const clients = [];
  const on = (name) => opts.servers.includes(name);
  if (on('relier-pkjwt')) {
    const base = `http://127.0.0.1:${ports['relier-pkjwt']}`;
    clients.push({ ...common, ...pkjwt, client_id: 'rp-relier-pkjwt', redirect_uris: [`${base}/auth/callback/local`], jwks_uri: `${base}/.well-known/jwks.json` });
  }
  if (on('openid-client')) {
    clients.push({ ...common, token_endpoint_auth_method: 'client_secret_basic', client_id: 'rp-openid-client', client_secret: secrets['openid-client'], redirect_uris: [`http://127.0.0.1:${ports['openid-client']}/callback`] });
  }
  if (on('openid-client-pkjwt')) {
    clients.push({ ...common, ...pkjwt, client_id: 'rp-openid-client-pkjwt', redirect_uris: [`http://127.0.0.1:${ports['openid-client-pkjwt']}/callback`], jwks: { keys: [keys.publicJwk] } });
  }
  return clients;
}

// Starts the servers of opts.servers; returns their descriptions for measure().
async function startServers(tmp, op, ports, secrets, keys, opts) {
  const servers = [];
  const single = (pid) => ({ cpu: () => cpuSeconds(pid), pids: () => [pid] });
  const upstream = opts.servers.includes('apache') ? await startUpstream(ports.upstream) : null;
  if (opts.servers.includes('express')) {
    const express = await startExpress(ports.express, op.issuer, secrets.express);
    servers.push({ name: 'express-openid-connect (openid-client)', startUrl: `${express.url}/login`, origin: express.url, cookieName: 'appSession', ...single(express.child.pid) });
  }
  for (const variant of ['relier', 'relier-pkjwt'].filter((v) => opts.servers.includes(v))) {
    // The login rate limit is per client address: the driver is one client.
    const extra = ['', '[limits]', 'login_per_minute = 0', '', '[keys]', `alg = "${opts.keyAlg}"`, ...(upstream ? ['', '[upstream]', `url = "${upstream.url}"`] : [])];
    const store = opts.store || `sqlite://${tmp}/${variant}.db`;
    const privateKeyJwt = variant === 'relier-pkjwt';
    const relier = await startRelier(opts.relierBin, tmp, ports[variant], op.issuer, secrets[variant], { store, extra, name: variant, privateKeyJwt });
    const where = `${opts.store ? opts.store.replace(/:\/\/.*/, '') : 'sqlite'}${upstream ? ', reverse proxy' : ''}`;
    servers.push({ name: `${LABELS[variant]} (${where})`, key: variant, startUrl: `${relier.url}/auth/login/local`, origin: relier.url, cookieName: 'relier_session', ...single(relier.child.pid) });
  }
  for (const variant of ['openid-client', 'openid-client-pkjwt'].filter((v) => opts.servers.includes(v))) {
    const auth = variant === 'openid-client' ? { secret: secrets[variant] } : { privateJwk: keys.privateJwk };
    const oc = await startOpenidClient(ports[variant], op.issuer, `rp-${variant}`, auth);
    servers.push({ name: LABELS[variant], key: variant, startUrl: `${oc.url}/login`, origin: oc.url, cookieName: 'oc_session', ...single(oc.child.pid) });
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

// Issue 21 §1: per round, relier's private_key_jwt login CPU at most 1.2× its
// client_secret_basic one, and each at most ¼ of the bare openid-client server's with the
// same method.
function issue21Lines(rounds) {
  const cpu = (round, key) => round.find((r) => r.key === key)?.cpuMsPerLogin;
  const checks = [
    ['relier private_key_jwt / relier client_secret_basic', 'relier-pkjwt', 'relier', 1.2],
    ['relier client_secret_basic / openid-client client_secret_basic', 'relier', 'openid-client', 0.25],
    ['relier private_key_jwt / openid-client private_key_jwt', 'relier-pkjwt', 'openid-client-pkjwt', 0.25],
  ].filter(([, a, b]) => cpu(rounds[0], a) !== undefined && cpu(rounds[0], b) !== undefined);
  if (checks.length === 0) {
    return [];
  }
  const lines = ['', `| RP CPU ratio (target) | ${rounds.map((_, i) => `round ${i + 1}`).join(' | ')} | met in every round |`,
    `| --- | ${rounds.map(() => '---:').join(' | ')} | --- |`];
  for (const [label, a, b, max] of checks) {
    const ratios = rounds.map((round) => cpu(round, a) / cpu(round, b));
    lines.push(`| ${label} (≤ ${max}) | ${ratios.map((r) => r.toFixed(2)).join(' | ')} | ${ratios.every((r) => r <= max) ? 'met' : 'NOT met'} |`);
  }
  return lines;
}

function report(machine, opts, rounds) {
  const lines = [
    machineLine(machine),
    ...(opts.servers.includes('apache') ? [apacheVersions()] : []),
    `${opts.logins} logins per server and round after ${opts.warmup} warm-up logins, one after the other, same OP and driver; ${opts.rounds} round(s), the servers alternating (the order rotating each round); private_key_jwt keys ${opts.keyAlg}.`,
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
  lines.push(...issue21Lines(rounds));
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
  const wantsRelier = opts.servers.some((s) => s.startsWith('relier'));
  const problem = (wantsRelier && relierPreflight(opts.relierBin))
    || (opts.servers.includes('apache') && apachePreflight());
  if (problem) {
    die(problem);
  }
  if (opts.store && opts.servers.includes('relier') && opts.servers.includes('relier-pkjwt')) {
    die('--store: one relier variant at a time (each needs its own database)');
  }
  const machine = machineInfo();
  const { ports, secrets } = await rpPortsAndSecrets([...opts.servers, 'upstream']);
  const keys = clientJwks('bench-openid-client', opts.keyAlg);
  const rounds = await inTempDir('relier-bench-login-', async (tmp) => {
    const op = await startOp(tmp, ports, secrets, { clients: extraClients(opts, ports, secrets, keys) });
    const servers = await startServers(tmp, op, ports, secrets, keys, opts);
    for (const s of servers) {
      log(`${s.name}: ${opts.warmup} warm-up logins`);
      for (let i = 0; i < opts.warmup; i++) {
        await headlessLogin(s.startUrl, s.origin, s.cookieName);
      }
    }
    const out = [];
    for (let round = 0; round < opts.rounds; round++) {
      const results = [];
      // The order rotates each round; the rows keep the configured order.
      for (let i = 0; i < servers.length; i++) {
        const s = servers[(i + round) % servers.length];
        results.push({ ...(await measure(s, opts.logins)), key: s.key });
      }
      out.push(servers.map((s) => results.find((r) => r.name === s.name)));
    }
    return out;
  });
  process.stdout.write(report(machine, opts, rounds));
}

await main();
