import { libraryConfig } from '../../tsup.base.js';

// sign-worker.ts is a file of its own: it is what a signing thread loads (sign-threads.ts finds it beside the bundle).
export default libraryConfig({ entry: ['src/index.ts', 'src/sign-worker.ts'] });
