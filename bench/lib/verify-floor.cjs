// The floor of a one-shot verify-blob in Node (issue 19): start Node, read the PEM public key, the base64
// signature and the file, verify one ECDSA signature with node:crypto, print "Verified OK". Nothing else: no
// argument parsing, no config, no error handling. Any Node CLI that verifies a blob costs at least this.
const { createPublicKey, verify } = require('node:crypto');
const { readFileSync } = require('node:fs');

const [keyPath, sigPath, filePath] = process.argv.slice(2);
const key = createPublicKey(readFileSync(keyPath));
const signature = Buffer.from(readFileSync(sigPath, 'utf8').trim(), 'base64');
if (!verify('sha256', readFileSync(filePath), key, signature)) throw new Error('signature does not verify');
process.stdout.write('Verified OK\n');
