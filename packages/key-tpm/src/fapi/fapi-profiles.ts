import type { KeyAlgorithm } from '@cosignkit/core';

export type TpmCurve = 'p256' | 'p384';

export interface TpmProfile {
  curve: TpmCurve;
  algorithm: KeyAlgorithm;
  /** The FAPI profile name, also the first segment of every key path under it. */
  name: string;
  /** The persistent handle of the profile's storage root key (the parent of every key under it). */
  srkHandle: number;
  /** TPM2_ALG_ID of the signing hash. */
  hashAlg: number;
  /** The profile file's contents. */
  json: Record<string, unknown>;
}

/**
 * Debian's P_ECCP256SHA256 profile, and its P-384 twin (Debian ships none): same shape, curve and hashes
 * changed, and its own SRK handle so the two storage keys can both be persistent.
 */
function eccProfile(curveId: string, hash: string, srkHandle: string): Record<string, unknown> {
  return {
    type: 'TPM2_ALG_ECC',
    nameAlg: hash,
    srk_template: `system,restricted,decrypt,${srkHandle}`,
    srk_description: 'Storage root key SRK',
    srk_persistent: 0,
    ek_template: 'system,restricted,decrypt',
    ek_description: 'Endorsement key EK',
    ecc_signing_scheme: { scheme: 'TPM2_ALG_ECDSA', details: { hashAlg: hash } },
    sym_mode: 'TPM2_ALG_CFB',
    sym_parameters: { algorithm: 'TPM2_ALG_AES', keyBits: '128', mode: 'TPM2_ALG_CFB' },
    sym_block_size: 16,
    pcr_selection: [
      { hash: 'TPM2_ALG_SHA1', pcrSelect: [] },
      { hash: 'TPM2_ALG_SHA256', pcrSelect: Array.from({ length: 24 }, (_, i) => i) },
    ],
    curveID: curveId,
    ek_policy: {
      description: 'Endorsement hierarchy used for policy secret.',
      policy: [{ type: 'POLICYSECRET', objectName: '4000000b' }],
    },
  };
}

export const PROFILES: Readonly<Record<TpmCurve, TpmProfile>> = {
  p256: {
    curve: 'p256',
    algorithm: 'ecdsa-p256-sha256',
    name: 'P_ECCP256SHA256',
    srkHandle: 0x81000001,
    hashAlg: 0x000b,
    json: eccProfile('TPM2_ECC_NIST_P256', 'TPM2_ALG_SHA256', '0x81000001'),
  },
  p384: {
    curve: 'p384',
    algorithm: 'ecdsa-p384-sha384',
    name: 'P_ECCP384SHA384',
    srkHandle: 0x81000002,
    hashAlg: 0x000c,
    json: eccProfile('TPM2_ECC_NIST_P384', 'TPM2_ALG_SHA384', '0x81000002'),
  },
};

export const CURVES = Object.keys(PROFILES) as TpmCurve[];

export function profileOfAlgorithm(algorithm: KeyAlgorithm): TpmProfile | undefined {
  return Object.values(PROFILES).find((p) => p.algorithm === algorithm);
}

/** FAPI path of a key: `/<profile>/HS/SRK/<name>` (a user key under the storage root key of the owner hierarchy). */
export function keyPath(profile: TpmProfile, name: string): string {
  return `/${profile.name}/HS/SRK/${name}`;
}
