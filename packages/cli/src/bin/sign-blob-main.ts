// sign-blob's hot bundle entry (dist/bin/sign-blob-main.cjs, tsup.config.ts): blob-main.ts's main, and a
// keyless sign-blob's Fulcio request started as the bundle loads, before main runs (early-certificate-start.ts
// decides: only when the line makes the request certain). The request cannot leave any sooner from the bin:
// its connection is made on the first tick after the bin's synchronous start, which loads this bundle; here
// the deciding code shares the bundle's copies of the flags, the config reader and the code cache.
import { startEarlyCertificate } from './early-certificate-start.js';

export { main } from './blob-main.js';

startEarlyCertificate(process.argv.slice(2), process.env);
