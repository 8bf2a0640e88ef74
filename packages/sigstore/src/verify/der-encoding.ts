import type { ASN1Obj } from '@sigstore/core';

/**
 * The DER bytes of an ASN.1 node exactly as @sigstore/core's `toDER()` re-encodes them, without the
 * recursion: its parser accepts only single-byte tags and minimal definite lengths (strict DER) and keeps
 * each node's content bytes as `value`, so a node that has not been changed since it was parsed re-encodes
 * to tag, length and `value`, byte for byte. `toDER()` re-encodes every sub-node into a growing buffer; on
 * a certificate that costs more than the signature check it feeds. Only for nodes nobody has modified (a
 * spliced `subs` list is re-encoded by `toDER()`, not here).
 */
export function encodeParsed(node: ASN1Obj): Buffer {
  return encodeNode(node.tag.toDER(), [node.value]);
}

/** A DER node of the given tag byte whose content is the concatenation of `parts`. */
export function encodeNode(tag: number, parts: Buffer[]): Buffer {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  return Buffer.concat([Buffer.from([tag]), encodeLength(length), ...parts]);
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
