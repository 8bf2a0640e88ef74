import { libraryConfig } from '../../tsup.base.js';

// `cosignkit/blob` beside the index: the file roles alone, for commands that must start fast (src/blob.ts).
export default libraryConfig({ entry: { index: 'src/index.ts', blob: 'src/blob.ts' } });
