import { libraryConfig } from '../../tsup.base.js';

// Light entries beside the index (`@cosignkit/core/errors`, `/config`, `/duration`), each importing only the errors:
// the KMS plugin reports errors and reads the agent's settings without loading the rest of core at start-up.
export default libraryConfig({
  entry: {
    index: 'src/index.ts',
    errors: 'src/errors.ts',
    config: 'src/config.ts',
    duration: 'src/shared/duration.ts',
  },
});
