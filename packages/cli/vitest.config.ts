import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The suites start the real CLI and the real cosign as child processes; the build runs first.
    globalSetup: ['./test/global-setup.ts'],
    // The plugin would start an agent on its first call: the suites start the agents they want themselves.
    env: { COSIGNKIT_AGENT_AUTOSTART: '0' },
  },
});
