// The main of a hot command, `sign-blob` or `verify-blob`, built once per command as one file of its own
// (dist/bin/<command>-main.cjs, tsup.config.ts): a one-shot run then loads this file, not the twenty-odd chunks
// the split build spreads the same code over (issue 19: each module Node loads costs about half a millisecond),
// and the bin runs it with a code cache (core's code-cached-bundle.ts). Every other command runs from the split build.
export { main } from '../main.js';
