import { libraryConfig } from '../../tsup.base.js';

// `errors` is its own entry (`@cosignkit/core/errors`): the KMS plugin reports errors with CosignkitError without
// loading the rest of core at start-up.
export default libraryConfig({ entry: ['src/index.ts', 'src/errors.ts'] });
