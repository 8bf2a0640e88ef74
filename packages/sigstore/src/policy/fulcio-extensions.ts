import { ASN1Obj, type X509Certificate } from '@sigstore/core';

/**
 * Fulcio's certificate extensions (OID arc 1.3.6.1.4.1.57264.1), by the names Fulcio's documentation uses.
 * The v1 extensions (.1–.6) hold raw strings; the v2 ones (.8 onwards) hold a DER UTF8String.
 */
export interface FulcioExtensions {
  issuer?: string;
  githubWorkflowTrigger?: string;
  githubWorkflowSha?: string;
  githubWorkflowName?: string;
  githubWorkflowRepository?: string;
  githubWorkflowRef?: string;
  buildSignerURI?: string;
  buildSignerDigest?: string;
  runnerEnvironment?: string;
  sourceRepositoryURI?: string;
  sourceRepositoryDigest?: string;
  sourceRepositoryRef?: string;
  sourceRepositoryIdentifier?: string;
  sourceRepositoryOwnerURI?: string;
  sourceRepositoryOwnerIdentifier?: string;
  buildConfigURI?: string;
  buildConfigDigest?: string;
  buildTrigger?: string;
  runInvocationURI?: string;
  sourceRepositoryVisibilityAtSigning?: string;
}

const ARC = '1.3.6.1.4.1.57264.1.';
const V1: Record<string, keyof FulcioExtensions> = {
  1: 'issuer',
  2: 'githubWorkflowTrigger',
  3: 'githubWorkflowSha',
  4: 'githubWorkflowName',
  5: 'githubWorkflowRepository',
  6: 'githubWorkflowRef',
};
const V2: Record<string, keyof FulcioExtensions> = {
  8: 'issuer',
  9: 'buildSignerURI',
  10: 'buildSignerDigest',
  11: 'runnerEnvironment',
  12: 'sourceRepositoryURI',
  13: 'sourceRepositoryDigest',
  14: 'sourceRepositoryRef',
  15: 'sourceRepositoryIdentifier',
  16: 'sourceRepositoryOwnerURI',
  17: 'sourceRepositoryOwnerIdentifier',
  18: 'buildConfigURI',
  19: 'buildConfigDigest',
  20: 'buildTrigger',
  21: 'runInvocationURI',
  22: 'sourceRepositoryVisibilityAtSigning',
};
const USERNAME_OID = '1.3.6.1.4.1.57264.1.7';

/** Reads the Fulcio extensions of a certificate; the v2 issuer (.8) wins over the deprecated v1 (.1). */
export function fulcioExtensions(cert: X509Certificate): FulcioExtensions {
  const found: FulcioExtensions = {};
  let v1Issuer: string | undefined;
  for (const ext of cert.extensions) {
    const oid = ext.subs[0]?.toOID();
    if (oid === undefined || !oid.startsWith(ARC)) continue;
    const arc = oid.slice(ARC.length);
    const value = ext.subs[ext.subs.length - 1]!.value;
    if (V1[arc] !== undefined) {
      const text = value.toString('utf8');
      if (arc === '1') v1Issuer = text;
      else found[V1[arc]!] = text;
    } else if (V2[arc] !== undefined) {
      try {
        found[V2[arc]!] = ASN1Obj.parseBuffer(Buffer.from(value)).value.toString('utf8');
      } catch {
        // an undecodable v2 value is left out; policy on it then fails as "missing"
      }
    }
  }
  if (found.issuer === undefined && v1Issuer !== undefined) found.issuer = v1Issuer;
  return found;
}

/**
 * Every subject alternative name cosign compares `--certificate-identity` with: email, URI and Fulcio's
 * username otherName (cosign also reads DNS and IP names, which Fulcio never issues).
 */
export function subjectAlternativeNames(cert: X509Certificate): string[] {
  const ext = cert.extSubjectAltName;
  if (!ext) return [];
  return [ext.rfc822Name, ext.uri, ext.otherName(USERNAME_OID)].filter((v): v is string => v !== undefined);
}
