// A separate process that writes one large file with core's atomic writer, so a test can kill it with
// SIGKILL while its temp file exists: `node atomic-write-worker.mjs <path> <megabytes>`. Loads the TypeScript
// sources with Node's type stripping (a resolve hook maps `./x.js` to `./x.ts`): no build needed.
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

const [path, megabytes] = process.argv.slice(2);
const { writeFileAtomic } = await import('../../src/shared/atomic-write.ts');
const data = Buffer.alloc(Number(megabytes) * 1024 * 1024, 0x61);
for (;;) {
  // Written again and again (each time to a new temp) until the test kills this process.
  await writeFileAtomic(path, data, { mode: 0o644, overwrite: true });
}
