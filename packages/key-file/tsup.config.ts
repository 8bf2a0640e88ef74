import { libraryConfig } from '../../tsup.base.js';

// `@cosignkit/key-file/scrypt-prestart` beside the index: the CLI's entry starts scrypt before it loads anything
// else, and the index would load core and the ciphers first (src/scrypt-prestart.ts).
export default libraryConfig({ entry: { index: 'src/index.ts', 'scrypt-prestart': 'src/scrypt-prestart.ts' } });
