// The floor under batch signing and verifying (issue 16): a bare Node script doing only the per-file work any
// implementation of `cosignkit sign-blob -r DIR` / `verify-blob -r DIR` must do on the same files, the fastest
// way Node offers, and nothing else (no CLI, no key decryption, no checks of hostile input, no progress, no
// per-item reporting). It prints {"work": ms, "files": n} on stdout: `work` is the time from its first line
// to its end, that is, without Node's start (the wall time of the process, measured by the caller, has it).
//   node batch-floor.mjs sign DIR one|pool|poolsign [IN_FLIGHT]
//       read, SHA-256 (the bundle's digest), one node:crypto ECDSA P-256 signature (which hashes again:
//       node:crypto cannot sign a digest), the bundle bytes written to an O_EXCL temp and renamed into place.
//       one: all on the main thread with plain syscalls; pool: read, hash and sign on the main thread, the
//       writes on the libuv thread pool, IN_FLIGHT (default 8) at once; poolsign: read and hash on the main
//       thread, the signature (node:crypto's asynchronous sign) and the writes on the thread pool, so the
//       two hashes and the signature run on both cores. The caller takes the fastest mode as the floor.
//   node batch-floor.mjs verify DIR PUB [IN_FLIGHT]
//       read the bundle, parse it, read the file, SHA-256, compare, one node:crypto verify on the thread pool
//       (IN_FLIGHT at once) over the file's bytes as read: the asynchronous verify copies its input at the
//       call, so no copy of our own is needed.
// The key for `sign` is made here: any P-256 key costs the same to sign with.
import { createPublicKey, generateKeyPairSync, hash, sign, verify } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';

const started = performance.now();
const [mode, dir, arg, inFlightArg] = process.argv.slice(2);
const inFlight = Number(inFlightArg ?? 8);
const scratch = Buffer.allocUnsafe(1 << 20);
/** The file's bytes as a view of one scratch buffer: valid until the next read. */
function read(path) {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let length = 0;
    while (length < size) {
      const n = readSync(fd, scratch, length, size - length, length);
      if (n === 0) break;
      length += n;
    }
    return scratch.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}
const files = readdirSync(dir)
  .filter((name) => !name.endsWith('.sigstore.json') && !name.endsWith('.tmp'))
  .map((name) => join(dir, name));

if (mode === 'sign') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const hint = hash('sha256', publicKey.export({ type: 'spki', format: 'der' }), 'base64');
  const head =
    '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":' +
    `{"hint":"${hint}"}},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"`;
  let counter = 0;
  const paths = (file) => {
    const out = `${file}.sigstore.json`;
    const temp = `${dir}/.${out.slice(dir.length + 1)}.${process.pid}.${(counter++).toString(16).padStart(12, '0')}.tmp`;
    return { out, temp };
  };
  const bundle = (digest, signature) => `${head}${digest}","signature":"${signature.toString('base64')}"}}`;
  const write = async (file, data) => {
    const { out, temp } = paths(file);
    const handle = await open(temp, 'wx', 0o644);
    await handle.write(data);
    await handle.close();
    await rename(temp, out);
  };
  let next = 0;
  if (arg === 'pool') {
    const lane = async () => {
      while (next < files.length) {
        const file = files[next++];
        const data = read(file);
        await write(file, bundle(hash('sha256', data, 'base64'), sign('sha256', data, privateKey)));
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
  } else if (arg === 'poolsign') {
    const lane = async () => {
      while (next < files.length) {
        const file = files[next++];
        const data = read(file);
        const digest = hash('sha256', data, 'base64');
        // The asynchronous sign copies `data` at the call: the next read may reuse the scratch buffer.
        const signature = await new Promise((resolve, reject) =>
          sign('sha256', data, privateKey, (error, s) => (error ? reject(error) : resolve(s))),
        );
        await write(file, bundle(digest, signature));
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
  } else if (arg === 'one') {
    for (const file of files) {
      const data = read(file);
      const { out, temp } = paths(file);
      const fd = openSync(temp, 'wx', 0o644);
      writeSync(fd, bundle(hash('sha256', data, 'base64'), sign('sha256', data, privateKey)));
      closeSync(fd);
      renameSync(temp, out);
    }
  } else {
    throw new Error('usage: batch-floor.mjs sign DIR one|pool|poolsign [IN_FLIGHT]');
  }
} else if (mode === 'verify') {
  const publicKey = createPublicKey(readFileSync(arg));
  let next = 0;
  let bad = 0;
  const lane = async () => {
    while (next < files.length) {
      const file = files[next++];
      const bundle = JSON.parse(readFileSync(`${file}.sigstore.json`, 'utf8'));
      const data = read(file);
      if (hash('sha256', data, 'base64') !== bundle.messageSignature.messageDigest.digest) bad++;
      const signature = Buffer.from(bundle.messageSignature.signature, 'base64');
      const ok = await new Promise((resolve) =>
        verify('sha256', data, publicKey, signature, (error, result) => resolve(!error && result)),
      );
      if (!ok) bad++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  if (bad > 0) throw new Error(`${bad} files did not verify`);
} else {
  throw new Error('usage: batch-floor.mjs sign DIR one|pool|poolsign [IN_FLIGHT] | verify DIR PUB [IN_FLIGHT]');
}
process.stdout.write(`${JSON.stringify({ work: performance.now() - started, files: files.length })}\n`);
