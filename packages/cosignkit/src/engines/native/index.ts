export { nativeSignBlob } from './sign-blob.js';
export type { NativeSignBlobOptions } from './sign-blob.js';
export { nativeVerifyBlob } from './verify-blob.js';
export type { NativeVerifyBlobOptions } from './verify-blob.js';
export { BUNDLE_V03_MEDIA_TYPE, keyBundleJson } from './bundle-json.js';
export type { KeyBundleInput } from './bundle-json.js';
