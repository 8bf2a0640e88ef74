import { libraryConfig } from '../../tsup.base.js';

// Light entries beside the index (`@cosignkit/core/errors`, `/config`, `/duration`, `/compile-cache`), each
// importing only the errors (or nothing): the KMS plugin reports errors, reads the agent's settings and turns on
// its private code cache without loading the rest of core at start-up.
export default libraryConfig({
  entry: {
    index: 'src/index.ts',
    errors: 'src/errors.ts',
    config: 'src/config.ts',
    duration: 'src/shared/duration.ts',
    'compile-cache': 'src/shared/compile-cache.ts',
  },
});
