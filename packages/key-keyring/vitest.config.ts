import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The whole project's suite shares 2 cores: a keyring round trip must not fail a test by being slow. The
    // 1 s default is unit-tested; the error tests time the real calls themselves and set their own timeout.
    env: { COSIGNKIT_KEYRING_TIMEOUT_MS: '10000' },
  },
});
