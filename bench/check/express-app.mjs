// Reference server for the /auth/check load benchmark: an Express app with
// Auth0's express-openid-connect middleware (versions pinned in package.json /
// package-lock.json) doing the same job as relier's gateway `GET /auth/check`:
//
//   GET /check  -> 200 + X-Auth-Request-User / X-Auth-Request-Email headers
//                  when the request carries a valid `appSession` cookie,
//                  else 401.
//
// Started by run.mjs; configured through the environment:
//   PORT            port to listen on (127.0.0.1 only)
//   ISSUER          the OP's issuer URL (discovery is fetched at start-up)
//   CLIENT_ID       client registered at the OP (client_secret_basic)
//   CLIENT_SECRET
//   SESSION_SECRET  32+ characters; the key the session cookie is encrypted with
//
// stdout carries exactly one line of JSON once it listens: {"url":"http://127.0.0.1:PORT"}.
// It exits when its stdin ends (so a crashed runner never leaves an orphan),
// on SIGTERM, or on SIGINT.

import express from 'express';
import eoc from 'express-openid-connect';

import { exitWithParent } from './child.mjs';

const { auth } = eoc;

function need(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`express-app: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const port = Number(need('PORT'));
const baseURL = `http://127.0.0.1:${port}`;

const app = express();
app.disable('x-powered-by');
app.disable('etag');

app.use(auth({
  authRequired: false,
  issuerBaseURL: need('ISSUER'),
  baseURL,
  clientID: need('CLIENT_ID'),
  clientSecret: need('CLIENT_SECRET'),
  secret: need('SESSION_SECRET'),
  authorizationParams: {
    response_type: 'code',
    scope: 'openid profile email',
  },
}));

app.get('/check', (req, res) => {
  if (!req.oidc.isAuthenticated()) {
    res.status(401).end();
    return;
  }
  const { user } = req.oidc;
  res.set('X-Auth-Request-User', String(user.sub));
  if (user.email) {
    res.set('X-Auth-Request-Email', String(user.email));
  }
  res.status(200).end();
});

// Where the middleware sends the browser after /callback.
app.get('/', (req, res) => {
  res.type('text/plain').send(req.oidc.isAuthenticated() ? 'logged in\n' : 'anonymous\n');
});

const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: baseURL })}\n`);
  console.error(`express-app: listening on ${baseURL}`);
});
server.keepAliveTimeout = 65_000;

exitWithParent('express-app');
