// One server for the benchmark, in its own process: `full` (every check, audit on) or `bare` (a Fastify
// route that only signs the same statement). Prints its URL on stdout.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { BackendRegistry } from '@cosignkit/core';
import { createSignerServer, createServerLogger, parseServerConfig, StatementSigner } from '../dist/index.js';

const [mode, configJson, dir] = process.argv.slice(2);
const raw = JSON.parse(configJson);
// BENCH_AUDIT_DIR moves the audit log (e.g. to /dev/shm, to see what fsync costs).
if (process.env.BENCH_AUDIT_DIR) raw.audit.log = `${process.env.BENCH_AUDIT_DIR}/audit-${process.pid}.log`;
const config = parseServerConfig(raw, dir);
const registry = new BackendRegistry({ env: { ...process.env, COSIGN_PASSWORD: '' }, importer: (s) => import(s) });
let url;
let close;
if (mode === 'full') {
  // Logs on (info, one JSON line per request), through the same buffered writer the server gives stdout,
  // to /dev/null so that a pipe's reader is not what is measured.
  const logger = createServerLogger('info', '/dev/null');
  const server = await createSignerServer({ config, registry, logger });
  url = await server.listen();
  close = () => server.close();
} else {
  const signer = await StatementSigner.open(registry, config.signing.key);
  const app = Fastify({
    https: {
      cert: readFileSync(config.tls.cert),
      key: readFileSync(config.tls.key),
      ca: readFileSync(config.tls.clientCa),
      requestCert: true,
      rejectUnauthorized: true,
    },
  });
  app.post('/sign', async (request) => {
    const body = request.body;
    const signed = await signer.sign(StatementSigner.payload(body.subject, body.predicateType, body.predicate));
    return { envelope: signed.envelopeJson, bundle: signed.bundle };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `https://127.0.0.1:${app.server.address().port}`;
  close = () => app.close();
}
process.stdout.write(`${url}\n`);
process.once('SIGTERM', async () => {
  await close();
  process.exit(0);
});
