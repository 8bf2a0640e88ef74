// A separate process that appends to a log: `node append-worker.mjs <log> <count> <tag>`. It loads the
// package's TypeScript sources with Node's type stripping (a resolve hook maps `./x.js` to `./x.ts`), so the
// concurrency test needs no build.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (error) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return next(`${specifier.slice(0, -3)}.ts`, context);
      throw error;
    }
  },
});

const [log, count, tag] = process.argv.slice(2);
const { appendToLog } = await import('../src/log/log-append.ts');
for (let i = 0; i < Number(count); i++) {
  const envelope = {
    payloadType: 'text/plain',
    payload: Buffer.from(`${tag}-${i}`),
    signatures: [{ keyid: tag, sig: Buffer.from([1, 2, 3]) }],
  };
  const entry = await appendToLog(log, envelope);
  process.stdout.write(`${entry.seq} ${entry.envelope}\n`);
}
