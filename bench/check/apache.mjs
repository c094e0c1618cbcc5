// Apache 2.4 + mod_auth_openidc (Debian packages) as the reference reverse proxy of proxy.mjs
// and login.mjs: a config generated from apache/httpd.conf.in in a temporary directory, the
// server in the foreground (`apache2 -DFOREGROUND`) as a child of the runner, on 127.0.0.1.
// No system service is involved. The child dies with the runner (prctl PDEATHSIG through
// `setpriv --pdeathsig`), and is stopped by SIGTERM like every other child.

import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { log, navigate, sleep, startChild } from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const APACHE = '/usr/sbin/apache2';
const MODULE = '/usr/lib/apache2/modules/mod_auth_openidc.so';

// Why Apache cannot run here, or null.
export function apachePreflight() {
  if (!fs.existsSync(APACHE) || !fs.existsSync(MODULE)) {
    return `${APACHE} or ${MODULE} is missing: \`apt-get update && apt-get install -y apache2 libapache2-mod-auth-openidc\``;
  }
  if (spawnSync('setpriv', ['--version']).error) {
    return 'setpriv (util-linux) is not on PATH';
  }
  return null;
}

// "Apache/2.4.71 (Debian), mod_auth_openidc 2.4.12.3-2+deb12u5" (the Debian package versions).
export function apacheVersions() {
  const v = /Server version:\s*(.*)/.exec(spawnSync(APACHE, ['-v'], { encoding: 'utf8' }).stdout ?? '')?.[1]?.trim() ?? '?';
  const pkg = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'libapache2-mod-auth-openidc'], { encoding: 'utf8' }).stdout?.trim() || '?';
  return `${v}, mod_auth_openidc ${pkg} (Debian package)`;
}

// The worker user: www-data when the runner is root (Apache refuses to serve as root), else
// the runner's own user (Apache cannot switch).
function runAs() {
  if (process.getuid?.() === 0) {
    return { user: 'www-data', group: 'www-data' };
  }
  return { user: `#${process.getuid()}`, group: `#${process.getgid()}` };
}

// Starts Apache on 127.0.0.1:port proxying to `upstream`, authenticating with the client
// `rp-apache` / `secret` at `issuer`. Resolves once it answers (an unauthenticated request
// gets a redirect to the OP). Returns { child, url, pid }.
export async function startApache(tmp, port, issuer, secret, upstream) {
  const dir = path.join(tmp, 'apache');
  fs.mkdirSync(dir, { mode: 0o755 });
  // the workers (www-data) open nothing under tmp after start-up, but let them traverse it
  fs.chmodSync(tmp, 0o711);
  const { user, group } = runAs();
  const values = {
    DIR: dir,
    PORT: String(port),
    ISSUER: issuer,
    SECRET: secret,
    PASSPHRASE: crypto.randomBytes(32).toString('base64url'),
    UPSTREAM: upstream,
    USER: user,
    GROUP: group,
  };
  const conf = fs.readFileSync(path.join(HERE, 'apache', 'httpd.conf.in'), 'utf8')
    .replace(/@([A-Z]+)@/g, (m, k) => values[k] ?? m);
  const confPath = path.join(dir, 'httpd.conf');
  fs.writeFileSync(confPath, conf);
  const check = spawnSync(APACHE, ['-t', '-f', confPath], { encoding: 'utf8' });
  if (check.status !== 0) {
    throw new Error(`apache2 -t: ${(check.stderr || check.stdout).trim()}`);
  }
  const child = startChild('apache', 'setpriv', ['--pdeathsig', 'TERM', '--', APACHE, '-f', confPath, '-DFOREGROUND'], { cwd: dir });
  child.stdout.resume();
  const url = `http://127.0.0.1:${port}`;
  const errorLog = () => {
    try {
      return fs.readFileSync(path.join(dir, 'error.log'), 'utf8').slice(-4000);
    } catch {
      return '';
    }
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`apache2 exited (${child.exitCode ?? child.signalCode}):\n${child.stderrTail()}\n${errorLog()}`);
    }
    try {
      const res = await navigate(`${url}/`, null);
      if (res.status === 302 && (res.location ?? '').startsWith(issuer)) {
        break;
      }
      throw new Error(`apache: GET / without a session answered ${res.status}, expected a redirect to the OP:\n${errorLog()}`);
    } catch (err) {
      if (err.message.startsWith('apache:')) {
        throw err;
      }
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`apache2 did not answer within 30 s:\n${child.stderrTail()}\n${errorLog()}`);
    }
    await sleep(100);
  }
  log(`apache: ${url} (pid ${child.pid})`);
  return { child, url, pid: child.pid, errorLog };
}
