// The CLI's main for `sign-blob` and `verify-blob`, built as one file of its own (tsup.config.ts): a one-shot
// blob command then loads this file, not the twenty-odd chunks the split build spreads the same code over
// (issue 19: each module Node loads costs about half a millisecond). The bin imports it only for those two
// commands; every other command runs from the split build's main.
export { main } from '../main.js';
