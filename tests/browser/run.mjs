// Real-browser test of ./scripts/demo: headless Chromium (playwright-core, the system's
// Chromium at CHROMIUM_PATH or /usr/bin/chromium) runs the demo's story —
//   sign-in page → sign up with a password → link the Demo OP (through the OP's own login
//   form) → sign out → "Login with Demo OP" lands in the same local account → unlink → sign out
// — saves target/demo-signin.png and target/demo-signed-in.png, then stops the demo with
// SIGINT and checks that the application and the OP are gone.
//
// Usage: node tests/browser/run.mjs   (after `npm ci --prefix tests/browser`)

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const target = path.join(root, 'target');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const STARTUP_TIMEOUT_MS = 15 * 60_000; // the demo may have to build on a fresh machine
const STEP_TIMEOUT_MS = 20_000;
const USER = 'carol';
const PASSWORD = 'correct horse battery';

function fail(message) {
  console.error(`browser test: FAILED: ${message}`);
  process.exit(1);
}

if (!fs.existsSync(chromiumPath)) {
  fail(`Chromium not found at ${chromiumPath}. Install it (Debian/Ubuntu, as root: `
    + '`apt-get update && apt-get install -y chromium`) or set CHROMIUM_PATH to a Chromium binary.');
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

function accepts(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

// Starts ./scripts/demo; resolves with its URL and the OP's test user once it printed them.
function startDemo(port) {
  const child = spawn(path.join(root, 'scripts', 'demo'), [], {
    cwd: root,
    env: { ...process.env, RELIER_DEMO_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`demo not ready within ${STARTUP_TIMEOUT_MS / 1000} s\n${stderr}`)), STARTUP_TIMEOUT_MS);
    child.stdout.on('data', (d) => {
      out += d;
      const url = out.match(/^open (http:\/\/127\.0\.0\.1:\d+\/)$/m);
      const user = out.match(/^Demo OP test user: (\S+)\s+password: (\S+)$/m);
      if (url && user) {
        clearTimeout(timer);
        resolve({ url: url[1], opUser: user[1], opPassword: user[2] });
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`demo exited early (code ${code}, signal ${signal})\n${stderr}`));
    });
  });
  return { child, ready, exited, stderr: () => stderr };
}

function check(cond, message) {
  if (!cond) {
    throw new Error(message);
  }
}

async function heading(page) {
  return (await page.locator('h1').first().textContent())?.trim();
}

// Waits until the page's heading is exactly `text`.
async function headingIs(page, text) {
  const re = new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
  await page.locator('h1', { hasText: re }).waitFor();
}

// Runs `click` (which starts a login at the OP) and signs in at the OP's own form when it
// shows it (an OP session may skip it); returns whether the form was shown. Ends when the
// application's callback answered.
async function throughOp(page, base, op, click) {
  const callback = page.waitForResponse((r) => r.url().startsWith(`${base}auth/callback/`));
  const form = page.waitForURL((u) => !u.href.startsWith(base) && u.pathname.startsWith('/interaction/'))
    .then(() => 'form', () => 'none');
  await click();
  const first = await Promise.race([callback.then(() => 'callback'), form]);
  if (first === 'form') {
    op.origin = new URL(page.url()).origin;
    await page.fill('input[name="username"]', op.opUser);
    await page.fill('input[name="password"]', op.opPassword);
    await page.click('button[type="submit"]');
  }
  await callback;
  return first === 'form';
}

async function story(page, base, op) {
  const signedIn = `Signed in as ${USER}`;
  // 1. The sign-in page.
  await page.goto(base);
  await headingIs(page, 'Sign in');
  check(await page.locator('a', { hasText: 'Login with Demo OP' }).count() === 1, 'no "Login with Demo OP"');
  check(await page.locator('input[type="hidden"][name="csrf_token"]').count() >= 2, 'forms without csrf_token');
  await page.screenshot({ path: path.join(target, 'demo-signin.png'), fullPage: true });

  // 2. Sign up with a password.
  const signup = page.locator('form[action="/signup"]');
  await signup.locator('input[name="username"]').fill(USER);
  await signup.locator('input[name="password"]').fill(PASSWORD);
  await signup.locator('button').click();
  await headingIs(page, signedIn);

  // 3. Link the provider through the OP's login form.
  const shown = await throughOp(page, base, op, () => page.click('button:has-text("Link Demo OP")'));
  check(shown, 'the OP did not show its login form when linking');
  await headingIs(page, signedIn);
  const table = await page.locator('table').textContent();
  check(table?.includes(op.opUser) && table?.includes(op.origin), `linked identity not shown: ${table}`);
  await page.screenshot({ path: path.join(target, 'demo-signed-in.png'), fullPage: true });

  // 4. Sign out; 5. "Login with Demo OP" lands in the same local account.
  await page.click('button:has-text("Sign out")');
  await headingIs(page, 'Sign in');
  await throughOp(page, base, op, () => page.click('a:has-text("Login with Demo OP")'));
  await headingIs(page, signedIn);
  const me = await (await page.request.get(`${base}me`)).json();
  check(me.username === USER && me.identities.length === 1 && me.identities[0].sub === op.opUser,
    `/me: ${JSON.stringify(me)}`);

  // 6. Unlink; 7. sign out.
  await page.click('button:has-text("Unlink Demo OP")');
  await page.locator('p', { hasText: 'No external identity is linked' }).waitFor();
  await page.click('button:has-text("Sign out")');
  await headingIs(page, 'Sign in');
  check((await page.request.get(`${base}me`)).status() === 401, '/me after sign-out is not 401');
}

async function stopDemo(demo, ports) {
  demo.child.kill('SIGINT');
  const timeout = new Promise((resolve) => { setTimeout(() => resolve('timeout'), 20_000).unref(); });
  const result = await Promise.race([demo.exited, timeout]);
  check(result !== 'timeout', 'the demo did not stop within 20 s of SIGINT');
  for (const port of ports) {
    check(!(await accepts(port)), `port ${port} still accepts connections after the demo stopped`);
  }
}

const started = Date.now();
fs.mkdirSync(target, { recursive: true });
const port = await freePort();
const demo = startDemo(port);
let browser;
let page;
let ok = false;
try {
  const { url: base, opUser, opPassword } = await demo.ready;
  console.error(`browser test: demo ready at ${base} after ${Math.round((Date.now() - started) / 1000)} s`);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  page = await context.newPage();
  const op = { opUser, opPassword, origin: undefined };
  await story(page, base, op);
  await browser.close();
  browser = undefined;
  await stopDemo(demo, [port, Number(new URL(op.origin).port)]);
  ok = true;
} catch (err) {
  console.error(`browser test: FAILED: ${err?.stack ?? err}`);
  if (page) {
    console.error(`--- page ${page.url()} ---\n${await page.locator('body').innerText().catch(() => '?')}`);
    await page.screenshot({ path: path.join(target, 'demo-failure.png') }).catch(() => {});
  }
  console.error(`--- demo stderr ---\n${demo.stderr()}`);
} finally {
  if (browser) {
    await browser.close().catch(() => {});
  }
  if (demo.child.exitCode === null && demo.child.signalCode === null) {
    demo.child.kill('SIGTERM');
    await demo.exited;
  }
}
if (!ok) {
  process.exit(1);
}
console.error(`browser test: passed in ${Math.round((Date.now() - started) / 1000)} s; screenshots in target/demo-signin.png and target/demo-signed-in.png`);
