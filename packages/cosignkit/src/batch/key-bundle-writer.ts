import { keyBundleJson } from '../engines/native/bundle-json.js';

/** Markers that cannot occur in a bundle's other fields: base64 and the fixed strings have no '!'. */
const DIGEST_MARK = '!digest!';
const SIGNATURE_MARK = '!signature!';

/**
 * keyBundleJson for a batch's SHA-256 key bundles, as a template filled per file: the same bytes (the two
 * base64 strings are the only parts that vary, and base64 needs no JSON escaping), without an object graph and
 * a JSON.stringify per file. The template is keyBundleJson's own output with the two values swapped for
 * markers (parse and stringify keep its key order and compact form), so the two cannot drift.
 */
export function keyBundleWriter(keyHint: Uint8Array): (digest: Uint8Array, base64Signature: string) => string {
  const shape = JSON.parse(
    keyBundleJson({ keyHint, digestAlgorithm: 'sha256', digest: new Uint8Array(32), signature: new Uint8Array(1) }),
  ) as { messageSignature: { messageDigest: { digest: string }; signature: string } };
  shape.messageSignature.messageDigest.digest = DIGEST_MARK;
  shape.messageSignature.signature = SIGNATURE_MARK;
  const template = JSON.stringify(shape);
  const [head, rest] = splitOnce(template, `"${DIGEST_MARK}"`);
  const [middle, tail] = splitOnce(rest, `"${SIGNATURE_MARK}"`);
  return (digest, base64Signature) =>
    `${head}"${Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('base64')}"${middle}"${base64Signature}"${tail}`;
}

function splitOnce(text: string, mark: string): [string, string] {
  const at = text.indexOf(mark);
  return [text.slice(0, at), text.slice(at + mark.length)];
}
