// The upstream behind both reverse proxies of proxy.mjs (relier `serve` with [upstream] and
// Apache + mod_auth_openidc), and the "bare upstream" baseline: a trivial node HTTP server.
//
//   GET /__headers  -> 200, the request's headers as JSON (the runner checks that each proxy
//                      passes the signed-in user's identity)
//   GET /stream     -> 200, "hello\n" streamed: the head (chunked, no length) goes out first,
//                      the body in a later write, as from any app that streams its response
//                      (a proxy that does not set TCP_NODELAY stalls on it: Nagle's algorithm
//                      holds its second small write until the client's delayed ACK, ~40 ms)
//   anything else   -> 200, "hello\n" (text/plain, 6 bytes) with Content-Length, head and body
//                      in one write
//
// Configured through the environment: PORT (127.0.0.1 only). Keep-alive as node's default.
// stdout carries exactly one line of JSON once it listens: {"url":"http://127.0.0.1:PORT"}.
// It exits when its stdin ends (so a crashed runner never leaves an orphan), on SIGTERM, or
// on SIGINT.

import * as http from 'node:http';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error('upstream: PORT is not set');
  process.exit(2);
}

const HELLO = Buffer.from('hello\n');

const server = http.createServer((req, res) => {
  if (req.url === '/__headers') {
    const body = Buffer.from(JSON.stringify(req.headers));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
    return;
  }
  if (req.url === '/stream') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.flushHeaders();
    setImmediate(() => res.end(HELLO));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': HELLO.length });
  res.end(HELLO);
});
// Longer than any run's idle gap, so that neither proxy loses its pooled connections to the
// upstream between the warm-up and the measured run.
server.keepAliveTimeout = 60_000;

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});

const stop = () => process.exit(0);
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
