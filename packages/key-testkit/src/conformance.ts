import { afterAll, describe, it } from 'vitest';
import {
  CosignkitError,
  KEY_ALGORITHMS,
  parseKeyRef,
  storeKeyOf,
  type KeyAlgorithm,
  type KeyInfo,
  type KeyManager,
} from '@cosignkit/core';
import { ensure, must } from './assertions.js';
import { ConformanceError } from './conformance-error.js';
import type { ConformanceOptions } from './conformance-options.js';
import { defaultContext } from './default-context.js';
import { uniqueLabel } from './labels.js';
import { SecretWatch } from './secret-watch.js';
import type { Subject } from './subject.js';
import { checkAbortedSigning } from './checks/abort.js';
import { checkCloseIdempotent } from './checks/close.js';
import { checkConcurrentSigning } from './checks/concurrency.js';
import { checkContractShape, checkSelection } from './checks/contract-shape.js';
import { checkDelete, checkDeleteRefused, checkUnknownKey } from './checks/delete.js';
import {
  checkDuplicateLabelRefused,
  checkGenerate,
  checkGenerateRefused,
  checkUndeclaredAlgorithmRefused,
} from './checks/generate.js';
import { checkKeyInfo } from './checks/key-info.js';
import { checkListed, checkListShape } from './checks/list-keys.js';
import { checkNonExtractable } from './checks/non-extractable.js';
import { checkPublicKeyViews } from './checks/public-key.js';
import { checkRefReopens } from './checks/reopen.js';
import { checkSecretHygiene } from './checks/secret-hygiene.js';
import { checkDigestLength, checkPrepare, checkSignature, checkSignMessage } from './checks/sign.js';
import { checkVerifySignature } from './checks/verify.js';

// Hardware is slow (a TPM signs in tens of milliseconds, 32 at once queue up): generous limits, so a third
// party's vitest config need not change.
const TEST_TIMEOUT = 120_000;

/**
 * Registers the KeyBackend conformance suite with vitest. Call it at the top level of a `*.test.ts` file.
 * Tests a backend cannot pass by declaration (no generate, no delete, extractable keys) are skipped, never
 * weakened.
 */
export function keyBackendConformance(options: ConformanceOptions): void {
  const { backend } = options;
  const caps = backend.capabilities ?? { generate: false, delete: false, algorithms: [], extractable: true };
  const algorithms: readonly KeyAlgorithm[] = options.algorithms ?? caps.algorithms ?? [];
  const undeclared = KEY_ALGORITHMS.filter((a) => !(caps.algorithms ?? []).includes(a));
  // Every secret handed to the backend and everything it says back is watched for leaks.
  const watch = new SecretWatch();
  const given = defaultContext(options.context);
  const context = { ...given, secrets: watch.secrets(given.secrets), logger: watch.logger(given.logger) };
  // The probe gets the manager the backend made, not the kit's recording proxy, to reach its internals.
  let unwrapped: KeyManager | undefined;
  const live = new Map<string, KeyInfo>();

  // The store is opened by the first test that needs it, not in beforeAll: a store that cannot be opened
  // then fails each test with the reason (vitest would report a failed hook as skipped tests), and
  // storeRef runs after every beforeAll of the caller. Both are called once: a storeRef that makes a temp
  // dir must not make two.
  let storeRef: Promise<string> | undefined;
  let opening: Promise<Subject> | undefined;
  const store = (): Promise<string> => (storeRef ??= Promise.resolve().then(() => options.storeRef()));
  const need = (): Promise<Subject> =>
    (opening ??= store().then(async (ref) => {
      const manager = await must('opening the store', () => backend.open(parseKeyRef(ref), context));
      unwrapped = manager;
      return { backend, manager: watch.manager(manager), context, storeRef: ref };
    }));
  /** A test on the opened store. */
  const test = (
    name: string,
    skip: boolean,
    fn: (subject: Subject, skipNow: (note: string) => never) => Promise<void> | void,
  ): void => {
    it.skipIf(skip)(
      name,
      async (ctx) => {
        try {
          // Some capabilities show only on the opened manager (an optional method): such tests skip from inside.
          await fn(await need(), (note) => ctx.skip(note) as never);
        } catch (error) {
          // A failure quoting a leaky backend's message must not print the leaked password in the CI log.
          watch.redact(error);
          throw error;
        }
      },
      TEST_TIMEOUT,
    );
  };

  // The tests of one key build on each other: never concurrent, never shuffled, whatever the config says.
  describe(`KeyBackend conformance: ${options.name}`, { concurrent: false, shuffle: false }, () => {
    afterAll(async () => {
      const problems: unknown[] = [];
      const subject = await opening?.catch(() => undefined);
      if (subject && caps.delete) {
        for (const info of live.values()) {
          // KEY_NOT_FOUND: a failed delete test removed it after all, which is all cleanup wants.
          await subject.manager.deleteKey(info.id).catch((error: unknown) => {
            if (!(CosignkitError.isInstance(error) && error.code === 'KEY_NOT_FOUND')) problems.push(error);
          });
        }
      }
      await subject?.manager.close().catch((error: unknown) => problems.push(error));
      await options.teardown?.().catch((error: unknown) => problems.push(error));
      for (const problem of problems) watch.redact(problem);
      if (problems.length === 1) throw problems[0];
      if (problems.length > 1) throw new AggregateError(problems, 'conformance cleanup failed');
    }, TEST_TIMEOUT);

    describe('contract', () => {
      // These two need no store: they run even when it cannot be opened.
      it('declares specVersion 1, a name, schemes and consistent capabilities', () => checkContractShape(backend));
      it(
        'serves the store reference and the selected algorithms',
        async () => checkSelection(backend, await store(), algorithms),
        TEST_TIMEOUT,
      );
      test('opens the store as a manager of this backend, listing well-formed keys', false, async (s) => {
        ensure(s.manager.backend === backend.name, `manager.backend is ${s.manager.backend}, expected ${backend.name}`);
        await checkListShape(s);
      });
      test('answers KEY_NOT_FOUND for an unknown key id', false, checkUnknownKey);
      test('refuses to generate (capability generate: false)', caps.generate, checkGenerateRefused);
      test(
        `refuses undeclared algorithms (${undeclared.join(', ') || 'none'})`,
        !caps.generate || undeclared.length === 0,
        async (s) => {
          for (const algorithm of undeclared) await checkUndeclaredAlgorithmRefused(s, algorithm);
        },
      );
      test('close() is idempotent', false, checkCloseIdempotent);
      it.skipIf(!options.otherStoreRef)(
        'tells two stores apart: references into different stores never share one (storeIdOf)',
        async () => {
          const mine = parseKeyRef(await store());
          const other = parseKeyRef(await options.otherStoreRef!());
          ensure(
            storeKeyOf(backend, mine) !== storeKeyOf(backend, other),
            `${mine.text} and ${other.text} would share one opened store: give the backend a storeIdOf`,
          );
        },
        TEST_TIMEOUT,
      );
    });

    for (const algorithm of algorithms) {
      describe(algorithm, () => {
        let info: KeyInfo | undefined;
        let label = '';
        const key = (): KeyInfo => {
          if (!info) throw new ConformanceError(`no ${algorithm} key to test (getting one failed earlier)`);
          return info;
        };

        if (caps.generate) {
          test('generates a key under a fresh label', false, async (s) => {
            label = uniqueLabel(algorithm);
            info = await checkGenerate(s, algorithm, label);
            live.set(info.id, info);
          });
        } else {
          test('finds a key of this algorithm in the store (capability generate: false)', false, async (s) => {
            info = (await checkListShape(s)).find((k) => k.algorithm === algorithm);
            ensure(info, `the backend cannot generate keys and the store holds no ${algorithm} key to test`);
          });
        }
        test('lists the key with its algorithm, backend and fingerprint', false, async (s) => {
          checkKeyInfo(s, key());
          await checkListed(s, key());
        });
        test(
          'getPublicKey, getPublicKeyPem, getPublicKeyFingerprint and getAlgorithm agree with node:crypto',
          false,
          (s) => checkPublicKeyViews(s, key()),
        );
        test('KeyInfo.ref reopens the same key', false, (s) => checkRefReopens(s, key()));
        test('refuses a second key under a taken label (KEY_EXISTS)', !caps.generate, (s) =>
          checkDuplicateLabelRefused(s, key(), label),
        );
        test('signs; node:crypto verifies the signature', false, async (s) => {
          await checkSignature(s, key());
          await checkSignMessage(s, key());
        });
        test('prepare() readies the key and signing still verifies (skipped without prepare)', false, (s, skipNow) => {
          if (typeof s.manager.prepare !== 'function') skipNow('the backend offers no prepare()');
          return checkPrepare(s, key());
        });
        test('refuses a digest of the wrong length (DIGEST_LENGTH)', false, (s) => checkDigestLength(s, key()));
        test('verifySignature accepts its own signature and rejects tampering and other keys', false, (s) =>
          checkVerifySignature(s, key()),
        );
        test('refuses to sign for an aborted signal (ABORTED)', false, (s) => checkAbortedSigning(s, key()));
        test('signs 32 requests at once, all valid', false, (s) => checkConcurrentSigning(s, key(), 32));
        test('keeps the private key inside (capability extractable: false)', caps.extractable, (s) =>
          checkNonExtractable({ ...s, manager: unwrapped ?? s.manager }, key(), options.proveNonExtractable),
        );
        test('deletes the key; it is gone (KEY_NOT_FOUND)', !caps.delete || !caps.generate, async (s) => {
          await checkDelete(s, key());
          live.delete(key().id);
        });
        // Only on a key the kit made: a lying backend must not cost a third party a seeded key.
        test('refuses to delete (capability delete: false)', caps.delete || !caps.generate, (s) =>
          checkDeleteRefused(s, key()),
        );
      });
    }

    describe('hygiene', () => {
      test('never puts a password or PIN it was given into logs, error messages or KeyInfo', false, (s) =>
        checkSecretHygiene(s, watch),
      );
    });
  });
}
