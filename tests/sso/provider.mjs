// A real OpenID Connect provider for Sigillo's single sign-on tests: the certified
// `oidc-provider` package (tests/consumers/node_modules), on 127.0.0.1 over plain http.
//
// Run: node provider.mjs <sigillo origin> <client secret>. It prints "READY <port>" once
// listening. The person who signs in is the `login_hint` of the authorization request,
// taken as their email ("unverified…" addresses are not verified; "deny" refuses):
// the interaction endpoints below log them in and consent at once, so a test drives the
// whole flow with a plain HTTP client.
//
// Clients: `sigillo` is honest. The others answer tokens the way an attacker or a broken
// provider would, so the tests see Sigillo refuse each: the ID token's payload edited
// after signing, signed by another key under the same or an unknown key id, or signed
// correctly for another audience, another issuer, an expired time or another nonce.
import crypto from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'consumers', 'package.json'));
const { default: Provider } = await import(require.resolve('oidc-provider'));

const [sigillo, clientSecret] = process.argv.slice(2);
const KID = 'test-key';
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const rogueKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: KID, use: 'sig', alg: 'RS256' };

const now = () => Math.floor(Date.now() / 1000);
// client id -> how its ID tokens are spoiled ([claims changes, signing key, kid, re-sign])
const SPOILED = {
  'sigillo-tampered': [{ email: 'mallory@allowed.test', sub: 'mallory' }, null, KID, false],
  'sigillo-rogue-key': [{}, rogueKey, KID, true],
  'sigillo-unknown-kid': [{}, rogueKey, 'rotated-key', true],
  'sigillo-wrong-aud': [{ aud: 'someone-else' }, privateKey, KID, true],
  'sigillo-wrong-iss': [{ iss: 'https://evil.example' }, privateKey, KID, true],
  'sigillo-expired': [{ exp: now() - 3600, iat: now() - 7200 }, privateKey, KID, true],
  'sigillo-wrong-nonce': [{ nonce: 'not-the-nonce' }, privateKey, KID, true],
};
const NAMES = ['test', 'tampered', 'rogue-key', 'unknown-kid', 'wrong-aud', 'wrong-iss',
  'expired', 'wrong-nonce', 'domains'];
const redirects = NAMES.map((name) => `${sigillo}/login/sso/${name}/callback`);
const clients = ['sigillo', ...Object.keys(SPOILED)].map((id) => ({
  client_id: id,
  client_secret: clientSecret,
  redirect_uris: redirects,
  grant_types: ['authorization_code'],
  response_types: ['code'],
}));

const b64 = (value) => Buffer.from(value).toString('base64url');

function spoil(idToken, clientId) {
  const [changes, key, kid, resign] = SPOILED[clientId];
  const [header, payload, signature] = idToken.split('.');
  const claims = { ...JSON.parse(Buffer.from(payload, 'base64url')), ...changes };
  if (!resign) return `${header}.${b64(JSON.stringify(claims))}.${signature}`;
  const input = `${b64(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }))}.${b64(JSON.stringify(claims))}`;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

let provider;
const server = http.createServer(async (req, res) => {
  if (!req.url.startsWith('/interaction/')) {
    provider.callback()(req, res);
    return;
  }
  try {
    const { prompt, params, session } = await provider.interactionDetails(req, res);
    if (prompt.name === 'login') {
      const result = params.login_hint === 'deny'
        ? { error: 'access_denied', error_description: 'the user said no' }
        : { login: { accountId: String(params.login_hint || 'alice@allowed.test') } };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      return;
    }
    const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    grant.addOIDCScope('openid email profile');
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  } catch (error) {
    res.statusCode = 500;
    res.end(String(error));
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  provider = new Provider(`http://127.0.0.1:${port}`, {
    clients,
    jwks: { keys: [jwk] },
    cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: `sub-${id}`, email: id, email_verified: !id.startsWith('unverified'), name: `Person ${id.split('@')[0]}` };
        },
      };
    },
  });
  provider.use(async (ctx, next) => {
    await next();
    const clientId = ctx.oidc?.client?.clientId;
    if (ctx.path === '/token' && ctx.body?.id_token && SPOILED[clientId]) {
      ctx.body = { ...ctx.body, id_token: spoil(ctx.body.id_token, clientId) };
    }
  });
  process.stdout.write(`READY ${port}\n`);
});
