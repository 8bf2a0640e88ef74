// The floor of a one-shot keyless sign-blob in Node (issue 14): start Node, make the ephemeral P-256 key,
// one Fulcio signingCert round trip (token, public key, proof of possession), sign the file's digest, one
// hashedrekord POST to Rekor, nothing else: no flags, no bundle, no checks. Plain node:http (loaded as
// CommonJS, the cheapest HTTP client Node has). Any Node CLI that signs keyless against the same stack costs
// at least this. Usage: node keyless-sign-floor.cjs FULCIO_URL REKOR_URL FILE (token in SIGSTORE_ID_TOKEN).
const { createHash, generateKeyPairSync, sign } = require('node:crypto');
const { readFileSync } = require('node:fs');
const http = require('node:http');

const [fulcioUrl, rekorUrl, file] = process.argv.slice(2);
const token = process.env.SIGSTORE_ID_TOKEN;

function post(url, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () =>
        r.statusCode >= 200 && r.statusCode < 300
          ? resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
          : reject(new Error(`${url}: HTTP ${r.statusCode}`)),
      );
    });
    request.on('error', reject);
    request.end(body);
  });
}

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
const bytes = readFileSync(file);
const digest = createHash('sha256').update(bytes).digest();
post(
  `${fulcioUrl}/api/v2/signingCert`,
  JSON.stringify({
    credentials: { oidcIdentityToken: token },
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: publicKey.export({ type: 'spki', format: 'pem' }) },
      proofOfPossession: sign('sha256', Buffer.from(claims.email ?? claims.sub), privateKey).toString('base64'),
    },
  }),
)
  .then((answer) => {
    const leaf = answer.signedCertificateEmbeddedSct.chain.certificates[0];
    const signature = sign('sha256', bytes, privateKey).toString('base64'); // over the digest, as hashedrekord
    return post(
      `${rekorUrl}/api/v1/log/entries`,
      JSON.stringify({
        apiVersion: '0.0.1',
        kind: 'hashedrekord',
        spec: {
          data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
          signature: { content: signature, publicKey: { content: Buffer.from(leaf).toString('base64') } },
        },
      }),
    );
  })
  .catch((error) => {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  });
