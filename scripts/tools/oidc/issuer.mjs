// A real OpenID Connect issuer for the tests: oauth2-mock-server (pinned in
// package.json beside this file) with one RS256 key, on 127.0.0.1 only.
// It publishes discovery and the JWKS and signs tokens at /token like any
// issuer. For the tests to ask for exactly the token they need, a
// client_credentials request may also set these form fields:
//   sub, aud, client_id, scope (space separated), scp (space separated; sent as an
//   array claim), iss, exp_in and nbf_in (seconds from now, may be
//   negative), kid (the header's kid; the token is still signed with the
//   issuer's key).
// Tokens of the other grants (authorization code with PKCE, as the /docs
// Authorize button would use; password; refresh) are the issuer's own, made
// for the audience OIDC_AUDIENCE (default typedapi-test, as authtest's).
// Usage: node issuer.mjs PORTFILE  (writes the bound port there when ready)
import { writeFileSync } from 'node:fs';
import { OAuth2Server } from 'oauth2-mock-server';

const portFile = process.argv[2];
const audience = process.env.OIDC_AUDIENCE || 'typedapi-test';
const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');

server.service.on('beforeTokenSigning', (token, req) => {
  const b = req.body ?? {};
  const now = Math.floor(Date.now() / 1000);
  if (b.grant_type !== 'client_credentials' && token.payload.aud === undefined) {
    token.payload.aud = audience; // an access token (the ID token names the client)
  }
  for (const k of ['sub', 'aud', 'client_id', 'scope', 'iss']) {
    if (typeof b[k] === 'string' && b[k] !== '') token.payload[k] = b[k];
  }
  if (typeof b.scp === 'string') {
    token.payload.scp = b.scp.split(' ').filter(Boolean);
    delete token.payload.scope;
  }
  if (b.exp_in !== undefined) token.payload.exp = now + Number(b.exp_in);
  if (b.nbf_in !== undefined) token.payload.nbf = now + Number(b.nbf_in);
  if (typeof b.kid === 'string' && b.kid !== '') token.header.kid = b.kid;
});

await server.start(0, '127.0.0.1');
const { port } = server.address();
// Named by its address, not "localhost": the tests reach it only on 127.0.0.1.
server.issuer.url = `http://127.0.0.1:${port}`;
if (portFile) writeFileSync(portFile, String(port));
console.error(`oidc-issuer: ${server.issuer.url} (pid ${process.pid})`);

const stop = async () => { await server.stop(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
