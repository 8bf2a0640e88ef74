// A separate process that generates key pairs in a loop with the file backend, so a test can kill it with
// SIGKILL at arbitrary points: `node pair-worker.mjs <dir>`. The package's TypeScript sources load with Node's
// type stripping (a resolve hook maps `./x.js` to `./x.ts`); @cosignkit/core comes from its build.
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

const [dir] = process.argv.slice(2);
const { writeKeyPair } = await import('../src/key-pair-writer.ts');
const key = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${'A'.repeat(64)}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;
const pub = `-----BEGIN PUBLIC KEY-----\n${'B'.repeat(64)}\n-----END PUBLIC KEY-----\n`;
for (let i = 0; ; i++) {
  // Pre-generated content: the loop spends its time in the writer, where the kills should land.
  const stem = `${dir}/k${process.pid}-${i}`;
  await writeKeyPair(`${stem}.key`, key, `${stem}.pub`, pub);
}
