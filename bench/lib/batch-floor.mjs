// The floor under batch signing and verifying (issue 16): a bare Node script doing exactly the per-file work
// of `cosignkit sign-blob -r DIR` / `verify-blob -r DIR` on the same files, and nothing else (no CLI, no key
// decryption, no progress, no per-item reporting).
//   node batch-floor.mjs sign DIR one|two|pool
//                                             read, SHA-256, one node:crypto ECDSA P-256 signature (which hashes
//                                             again: node:crypto cannot sign a digest), the same bundle bytes
//                                             written to an O_EXCL temp and renamed into place. `one`: all on
//                                             one thread; `two`: four writer threads create and rename the
//                                             files while the main thread reads and signs; `pool`: the files
//                                             written on the libuv thread pool, 8 in flight (cosignkit's shape).
//   node batch-floor.mjs verify DIR PUB       read the bundle, parse it, read the file, SHA-256, compare, one
//                                             node:crypto verify (on the thread pool, 8 in flight, as cosignkit).
// The key for `sign` is made here: any P-256 key costs the same to sign with.
import { generateKeyPairSync, hash, createPublicKey, sign, verify } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const [mode, dir, arg] = process.argv.slice(2);
const scratch = Buffer.allocUnsafe(1 << 20);
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
  const one = (file) => {
    const data = read(file);
    const digest = hash('sha256', data, 'base64');
    const signature = sign('sha256', data, privateKey).toString('base64');
    const out = `${file}.sigstore.json`;
    return {
      out,
      temp: `${dir}/.${out.slice(dir.length + 1)}.${process.pid}.${(counter++).toString(16).padStart(12, '0')}.tmp`,
      data: `${head}${digest}","signature":"${signature}"}}`,
    };
  };
  if (arg === 'two') {
    // Four writer threads, items dealt in turn, eight in flight (a shape tried for cosignkit: slower here).
    const writers = Array.from(
      { length: 4 },
      () =>
        new Worker(
          `const { parentPort } = require('node:worker_threads'); const fs = require('node:fs');
       let done = []; let flushing = false;
       parentPort.on('message', (o) => {
         const fd = fs.openSync(o.temp, 'wx', 0o644); fs.writeSync(fd, o.data); fs.closeSync(fd); fs.renameSync(o.temp, o.out);
         done.push(1);
         if (!flushing) { flushing = true; setImmediate(() => { flushing = false; parentPort.postMessage(done.length); done = []; }); }
       });`,
          { eval: true },
        ),
    );
    let inFlight = 0;
    let next = 0;
    let wake;
    for (const writer of writers) {
      writer.on('message', (n) => {
        inFlight -= n;
        wake?.();
      });
    }
    while (next < files.length || inFlight > 0) {
      while (inFlight < 8 && next < files.length) {
        writers[next % writers.length].postMessage(one(files[next++]));
        inFlight++;
      }
      await new Promise((resolve) => (wake = resolve));
    }
    await Promise.all(writers.map((writer) => writer.terminate()));
  } else if (arg === 'pool') {
    let next = 0;
    const lane = async () => {
      while (next < files.length) {
        const o = one(files[next++]);
        const handle = await open(o.temp, 'wx', 0o644);
        await handle.write(o.data);
        await handle.close();
        await rename(o.temp, o.out);
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
  } else {
    for (const file of files) {
      const o = one(file);
      const fd = openSync(o.temp, 'wx', 0o644);
      writeSync(fd, o.data);
      closeSync(fd);
      renameSync(o.temp, o.out);
    }
  }
} else if (mode === 'verify') {
  const publicKey = createPublicKey(readFileSync(arg));
  let next = 0;
  let bad = 0;
  const lane = async () => {
    while (next < files.length) {
      const file = files[next++];
      const bundle = JSON.parse(readFileSync(`${file}.sigstore.json`, 'utf8'));
      const data = Buffer.from(read(file));
      const digest = hash('sha256', data, 'base64');
      if (digest !== bundle.messageSignature.messageDigest.digest) bad++;
      const signature = Buffer.from(bundle.messageSignature.signature, 'base64');
      const ok = await new Promise((resolve) =>
        verify('sha256', data, publicKey, signature, (error, result) => resolve(!error && result)),
      );
      if (!ok) bad++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  if (bad > 0) throw new Error(`${bad} files did not verify`);
} else {
  throw new Error('usage: batch-floor.mjs sign DIR one|two|pool | verify DIR PUB');
}
