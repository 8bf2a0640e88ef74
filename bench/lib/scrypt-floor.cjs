// The floor of a one-shot sign-blob in Node (issue 19): start Node, read the cosign key file, run its scrypt
// once (the password from COSIGN_PASSWORD), nothing else. Any Node CLI that decrypts the key costs at least this.
const { scrypt } = require('node:crypto');
const { readFileSync } = require('node:fs');

const pem = readFileSync(process.argv[2], 'utf8');
const body = pem
  .split('\n')
  .filter((line) => line && !line.startsWith('-----'))
  .join('');
const { kdf } = JSON.parse(Buffer.from(body, 'base64').toString('utf8'));
const salt = Buffer.from(kdf.salt, 'base64');
scrypt(process.env.COSIGN_PASSWORD ?? '', salt, 32, { ...kdf.params, maxmem: 256 * 1024 * 1024 }, (error) => {
  if (error) throw error;
});
