import { defineConfig } from 'vitest/config';

// Forks, not threads: a PKCS#11 module is process-wide state (one C_Initialize, one SOFTHSM2_CONF), so each
// test file needs a process of its own.
// The plugin would start an agent on its first call: these tests run it without one.
export default defineConfig({
  test: { testTimeout: 60_000, hookTimeout: 120_000, pool: 'forks', env: { COSIGNKIT_AGENT_AUTOSTART: '0' } },
});
