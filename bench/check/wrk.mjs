// wrk (https://github.com/wg/wrk) for the load benchmarks: one bounded run, its output
// parsed. Needs wrk on PATH (Debian: `apt-get update && apt-get install -y wrk`).

import { startChild } from './lib.mjs';

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

// requests/s, p50 and p99 in ms, the request count, non-2xx/3xx responses, socket errors.
export function parseWrk(text) {
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
    // connect + read + write + timeout
    socketErrorCount: sockErr ? [...sockErr[1].matchAll(/\d+/g)].reduce((a, m) => a + Number(m[0]), 0) : 0,
  };
}

// `wrk -t{threads} -c{connections} -d{seconds}s --latency [-H 'Cookie: …'] URL`; resolves
// with its output. `opts.headers` adds more `-H` lines; `opts.script` (a Lua file) and
// `opts.scriptArgs` go to `-s` and after `--`.
export function runWrk(url, cookie, seconds, opts) {
  const args = [
    `-t${opts.threads}`, `-c${opts.connections}`, `-d${seconds}s`, '--latency',
    '--timeout', '5s',
    ...(cookie ? ['-H', `Cookie: ${cookie}`] : []),
    ...(opts.headers ?? []).flatMap((h) => ['-H', h]),
    ...(opts.script ? ['-s', opts.script] : []),
    url,
    ...(opts.scriptArgs ? ['--', ...opts.scriptArgs] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = startChild('wrk', 'wrk', args);
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => { out += chunk; });
    // wrk stops by itself after -d; this is only a guard against a hang.
    const guard = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    // 'close': the process has exited and its stdout is read to the end
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (code !== 0) {
        reject(new Error(`wrk exited ${code ?? signal}:\n${out}\n${child.stderrTail()}`));
      } else {
        resolve(out);
      }
    });
  });
}
