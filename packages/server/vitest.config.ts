import { defineConfig } from 'vitest/config';

// Files run one at a time: the quota and kill -9 tests measure rates, and the machine has few cores.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 120_000, fileParallelism: false } });
