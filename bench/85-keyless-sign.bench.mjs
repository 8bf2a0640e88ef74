// Issue 14 figures: keyless `sign-blob` per process against the local stack (`cosignkit dev-stack`, i.e.
// @sigstore/mock's Fulcio and Rekor over HTTP on loopback) beside the real cosign on the same stack, and
// in-process keyless signatures of 1,000 small blobs under one Fulcio certificate, log uploads in parallel.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { goalAgainstFloor, median } from './lib/context.mjs';

const RUNS = 10;

export default async function keyless(ctx) {
  const { dir, cosignkit: ck, fmt } = ctx;
  // The stack runs in its own process: timeProcess blocks this one's event loop.
  const stackDir = join(dir, 'keyless-stack');
  const child = spawn(ck, ['dev-stack', '--dir', stackDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(stackDir, 'stack.json'))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('cosignkit dev-stack did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const info = JSON.parse(readFileSync(join(stackDir, 'stack.json'), 'utf8'));
    const file = join(dir, 'keyless.txt');
    await writeFile(file, randomBytes(1024));
    const cosignEnv = {
      TUF_ROOT: join(dir, 'keyless-tuf'),
      SIGSTORE_ROOT_FILE: join(stackDir, 'fulcio_root.pem'),
      SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: join(stackDir, 'ctlog_public.pem'),
      SIGSTORE_REKOR_PUBLIC_KEY: join(stackDir, 'rekor_public.pem'),
    };
    // Same services for both: Fulcio and Rekor (cosign 2.5 cannot talk to the mock TSA).
    const ckSignRun = () =>
      ctx.timeProcess(
        [
          ck,
          'sign-blob',
          '--fulcio-url',
          info.fulcioUrl,
          '--rekor-url',
          info.rekorUrl,
          '--bundle',
          join(dir, 'k.json'),
          file,
        ],
        { env: { SIGSTORE_ID_TOKEN: info.token }, runs: 1 },
      );
    const coSignRun = () =>
      ctx.timeProcess(
        [
          'cosign',
          'sign-blob',
          '--new-bundle-format',
          '--fulcio-url',
          info.fulcioUrl,
          '--rekor-url',
          info.rekorUrl,
          '--identity-token',
          info.token,
          '--bundle',
          join(dir, 'c.json'),
          '--yes',
          file,
        ],
        { env: cosignEnv, runs: 1 },
      );

    // The floor, in the same run: Node's start and the two round trips alone (bench/lib/keyless-sign-floor.cjs:
    // key, Fulcio, signature, Rekor on plain node:http, nothing else), and Node's start alone.
    const floorRun = () =>
      ctx.timeProcess(
        [process.execPath, join(ctx.root, 'bench/lib/keyless-sign-floor.cjs'), info.fulcioUrl, info.rekorUrl, file],
        { env: { SIGSTORE_ID_TOKEN: info.token }, runs: 1 },
      );
    const nodeRun = () => ctx.timeProcess([process.execPath, '-e', '0'], { runs: 1 });
    // Interleaved rounds (each a warm-up and a timed run per tool), so load on the machine hits all alike.
    const series = { ckSign: [], coSign: [], floor: [], node: [] };
    for (let round = 0; round < RUNS; round++) {
      series.ckSign.push(ckSignRun());
      series.coSign.push(coSignRun());
      series.floor.push(floorRun());
      series.node.push(nodeRun());
    }
    const [ckSign, coSign, floor, node] = [series.ckSign, series.coSign, series.floor, series.node].map(median);

    const sigstore = await import(join(ctx.root, 'packages/sigstore/dist/index.js'));
    const blobs = Array.from({ length: 1000 }, () => randomBytes(256));
    const run = async (services, inFlight) => {
      const { signer, key } = sigstore.createKeylessSigner({ services, getToken: async () => info.token });
      await key.material(); // the certificate, once: the figure is the signing and logging
      const start = performance.now();
      let next = 0;
      const bundles = [];
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < blobs.length) {
            const i = next++;
            bundles[i] = await signer.signDigest(createHash('sha256').update(blobs[i]).digest());
          }
        }),
      );
      const rate = blobs.length / ((performance.now() - start) / 1000);
      const certificates = new Set(bundles.map((b) => b.verificationMaterial.certificate.rawBytes)).size;
      return { rate, certificates };
    };
    // The bound: the same number of bare hashedrekord POSTs to the mock Rekor, bodies made beforehand.
    const { generateKeyPairSync, sign } = await import('node:crypto');
    const throwaway = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = Buffer.from(throwaway.publicKey.export({ type: 'spki', format: 'pem' })).toString('base64');
    const bodies = blobs.map((b) => {
      const d = createHash('sha256').update(b).digest();
      return JSON.stringify({
        apiVersion: '0.0.1',
        kind: 'hashedrekord',
        spec: {
          data: { hash: { algorithm: 'sha256', value: d.toString('hex') } },
          signature: {
            content: sign('sha256', b, throwaway.privateKey).toString('base64'),
            publicKey: { content: pem },
          },
        },
      });
    });
    let nextBody = 0;
    const rawStart = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (nextBody < bodies.length) {
          // node:http, the client the signer uses (service-fetch.ts), so the bound is like for like.
          await new Promise((resolve, reject) => {
            const request = http.request(
              `${info.rekorUrl}/api/v1/log/entries`,
              { method: 'POST', headers: { 'content-type': 'application/json' } },
              (response) => {
                response.resume();
                response.on('end', resolve);
                response.on('error', reject);
              },
            );
            request.on('error', reject);
            request.end(bodies[nextBody++]);
          });
        }
      }),
    );
    const rawRate = bodies.length / ((performance.now() - rawStart) / 1000);
    const logged = await run({ fulcioUrl: info.fulcioUrl, rekorUrl: info.rekorUrl }, 32);
    const stamped = await run({ fulcioUrl: info.fulcioUrl, rekorUrl: info.rekorUrl, tsaUrl: info.tsaUrl }, 32);

    return {
      title: 'Keyless signing on the local stack (issue 14)',
      intro:
        "The stack is `cosignkit dev-stack` in its own process: @sigstore/mock's Fulcio and Rekor v1 over HTTP on " +
        'loopback. Per-process figures are the median of 10 interleaved rounds (each a warm-up and a timed run of every series): a fresh ephemeral key, a Fulcio ' +
        'certificate and a Rekor entry each time, v0.3 bundle written. In-process: 1,000 blobs of 256 B, one ' +
        'certificate, 32 signatures in flight, each with its own Rekor upload (and, in the second row, an RFC 3161 timestamp).',
      rows: [
        {
          name: 'keyless `cosignkit sign-blob` per process',
          value: fmt.ms(ckSign),
          baseline: 'keyless `cosign sign-blob` (2.5)',
          baselineValue: fmt.ms(coSign),
          ratio: fmt.ratio(ckSign / coSign),
          goal: goalAgainstFloor('≤ 1.0×', floor > coSign),
          met: ckSign <= coSign,
        },
        {
          name: 'floor: `node -e 0`',
          value: fmt.ms(node),
        },
        {
          name: 'floor: Node start + Fulcio and Rekor round trips alone',
          value: fmt.ms(floor),
          baseline: 'keyless `cosign sign-blob` (2.5)',
          baselineValue: fmt.ms(coSign),
          ratio: fmt.ratio(floor / coSign),
        },
        {
          name: 'keyless `cosignkit sign-blob` per process, against the floor',
          value: fmt.ms(ckSign),
          baseline: 'the floor above',
          baselineValue: fmt.ms(floor),
          ratio: fmt.ratio(ckSign / floor),
        },
        {
          name: `in-process keyless signatures + Rekor entry (1,000 blobs, ${logged.certificates} certificate)`,
          value: fmt.rate(logged.rate),
          baseline: 'bare POSTs to the mock Rekor (no signing)',
          baselineValue: fmt.rate(rawRate),
          ratio: fmt.ratio(logged.rate / rawRate),
          goal: '≥ 500/s',
          met: logged.rate >= 500,
        },
        {
          name: `in-process keyless signatures + Rekor entry + timestamp (${stamped.certificates} certificate)`,
          value: fmt.rate(stamped.rate),
        },
      ],
      notes:
        'In-process: bounded by the log; each signature is one HTTP round trip to the mock Rekor (a single Node ' +
        'process that signs a SET and a checkpoint per entry), and the rate stays near the bare-POST baseline. Per ' +
        'process, both tools wait for the same mock Fulcio (pure-JS WebCrypto: 0.2–0.5 s per certificate on a loaded ' +
        "machine); cosignkit adds Node's start-up and module loading, cosign a Go binary's start. The floor is " +
        'what any Node CLI pays on the same stack: Node starting, an ephemeral key, one Fulcio request, one Rekor ' +
        'request (bench/lib/keyless-sign-floor.cjs, plain node:http, no flags, no bundle written); when it is ' +
        "above cosign's figure the ≤ 1.0× goal is below the floor, and the row against the floor is the one to read.",
    };
  } finally {
    child.kill('SIGTERM');
  }
}
