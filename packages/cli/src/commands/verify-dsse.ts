import {
  attestationId,
  evaluatePolicy,
  fetchKeyMap,
  fetchSignedKeyMap,
  readSignedKeyMap,
  parseSubjectRequirement,
  readEnvelopeFile,
  readKeyMap,
  trustedKey,
  verifyEnvelope,
  type DssePolicy,
  type TrustedKey,
} from '@cosignkit/dsse';
import { parseDuration, parsePublicKeyPem, readPublicKeyText } from '@cosignkit/core';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';
import { KEYLESS_FLAGS, KEYLESS_HELP, verifyDsseKeyless } from '../keyless-verify-options.js';

const FLAGS = {
  dsse: { type: 'string' },
  'key-file': { type: 'string' },
  keys: { type: 'string' },
  'keys-url': { type: 'string' },
  'keys-root-key': { type: 'string' },
  'signature-over': { type: 'string' },
  'require-repo': { type: 'string' },
  'require-commit': { type: 'string' },
  'require-keyid': { type: 'string' },
  'require-signers': { type: 'string' },
  'require-subject': { type: 'string' },
  'require-predicate-type': { type: 'string' },
  'payload-type': { type: 'string' },
  'max-age': { type: 'string' },
  'time-field': { type: 'string' },
  'sigstore-bundle': { type: 'string' },
  'sigstore-identity': { type: 'string' },
  'sigstore-issuer': { type: 'string' },
  'trusted-root': { type: 'string' },
  'insecure-ignore-tlog': { type: 'boolean' },
  ...KEYLESS_FLAGS,
} as const;

const command: Command = {
  summary: 'verify a DSSE envelope against trusted keys and a policy',
  configOnUse: true,
  help: `Usage: cosignkit verify-dsse --dsse <file> (--key-file <pem> | --keys <keymap.json> | --keys-url <url>) [policy flags]

Verifies every signature of a DSSE envelope (a bare envelope or a Sigstore bundle) against the trusted
keys, then the policy. ECDSA signatures in DER or raw r‖s and Ed25519 are accepted.
Exit codes: 0 verified; 2 a signature invalid, a keyid unknown, or a policy rule unmet; 3 the file, the
envelope or a key cannot be parsed. With --json, prints each signer and each unmet rule.

Trust (one of):
  --key-file <pem>                  one public key, tried for every signature whatever its keyid
  --keys <file>                     a key map: {"<keyid>": "<PEM public key>", …}
  --keys-url <url>                  the same key map fetched over HTTPS (plain HTTP only from localhost)
  --keys-root-key <pem>             with --keys or --keys-url: the map is a root-signed manifest; its
                                    detached signature (keys.json → keys.sig, fetched beside it) must
                                    verify with this pinned root key before any key in it is trusted
                                    (unsigned or wrongly signed: exit 2). Make one with sign-key-manifest.
  --signature-over pae|payload      pae (default, the DSSE standard); payload: Ed25519 signatures over the
                                    raw decoded payload, as ReleaseGate's ed25519 mode signs (only when asked:
                                    such a signature does not bind the payloadType)

Policy:
  --require-keyid <id>              a valid signature by this keyid (a key map name, or the key's
                                    sha256 fingerprint with --key-file)
  --require-signers <id1,id2,…>     a valid signature by each of these keyids
  --require-subject <name[@sha256:hex]>  an in-toto subject with this name (and digest)
  --require-predicate-type <uri>    the in-toto predicate type (a URI or a cosign --type name)
  --require-repo <owner/repo>       a subject git+https://github.com/<owner/repo>@<sha> (and the predicate's
                                    repo field, where it has one, agrees)
  --require-commit <sha>            such a subject at this commit (with --require-repo: the same subject)
  --max-age <duration>              the statement is at most this old (90s, 15m, 12h, 7d, 2w), by the
                                    timestamp at --time-field in the predicate
  --time-field <json-pointer>       where the timestamp is in the predicate (default /issued_at);
                                    RFC 3339 with Z or ±hh:mm, or Unix seconds (no offset: exit 3)
  --payload-type <type>             the envelope's payloadType must be this (else exit 3)`,
  async run(context) {
    const flags = parseFlags('verify-dsse', context.argv, FLAGS, { min: 0, max: 0, names: '' });
    if (stringFlag(flags, 'sigstore-bundle') !== undefined) {
      if (stringFlag(flags, 'dsse') !== undefined)
        throw usageError('verify-dsse', '--dsse and --sigstore-bundle exclude each other');
      return verifyDsseKeyless(context, flags, policyOf(flags));
    }
    const dsse = stringFlag(flags, 'dsse');
    if (dsse === undefined) throw usageError('verify-dsse', 'missing --dsse <file>');
    const trustFlags = (['key-file', 'keys', 'keys-url'] as const).filter((f) => stringFlag(flags, f) !== undefined);
    if (trustFlags.length !== 1)
      throw usageError('verify-dsse', 'pass exactly one of --key-file, --keys or --keys-url');
    const policy = policyOf(flags);
    const over = stringFlag(flags, 'signature-over') ?? 'pae';
    if (over !== 'pae' && over !== 'payload') throw usageError('verify-dsse', '--signature-over takes pae or payload');
    if (stringFlag(flags, 'keys-root-key') !== undefined && stringFlag(flags, 'key-file') !== undefined)
      throw usageError('verify-dsse', '--keys-root-key goes with --keys or --keys-url');
    const { envelope } = await readEnvelopeFile(dsse);
    const keys = await trustedKeys(flags, context.signal);
    const verification = verifyEnvelope(envelope, keys, { signatureOver: over });
    const id = attestationId(envelope);
    const { unmet, statement } = evaluatePolicy(envelope, verification, policy);
    const verified = unmet.length === 0 && verification.signatures.length > 0;
    const data = {
      verified,
      attestation_id: id.id,
      attestationIdSource: id.source,
      signatureOver: over,
      payloadType: envelope.payloadType,
      ...(statement ? { predicateType: statement.predicateType, subjects: statement.subject } : {}),
      signatures: verification.signatures,
      unmet,
    };
    const lines = verification.signatures.map((s) =>
      s.valid
        ? `signature ${s.index}: valid, signed by ${s.signer === s.fingerprint ? s.fingerprint : `${s.signer} (${s.fingerprint})`}`
        : `signature ${s.index}: ${s.problem === 'unknown-keyid' ? `unknown keyid "${s.keyid}"` : 'INVALID'}`,
    );
    for (const rule of unmet.filter((u) => u.rule !== 'signatures')) lines.push(`unmet ${rule.rule}: ${rule.message}`);
    if (!verified) {
      return {
        exitCode: 2,
        text: lines.join('\n'),
        data,
        notes: [`cosignkit: verification failed: ${unmet[0]?.message ?? 'no signatures'} [VERIFICATION_FAILED]`],
      };
    }
    lines.push(`attestation_id: ${id.id}${id.source === 'payload' ? ' (sha256 of the payload)' : ''}`);
    lines.push('Verified OK');
    return { text: lines.join('\n'), data };
  },
};

function policyOf(flags: ReturnType<typeof parseFlags>): DssePolicy {
  const policy: DssePolicy = {};
  const keyid = stringFlag(flags, 'require-keyid');
  if (keyid !== undefined) policy.requireKeyid = keyid;
  const signers = stringFlag(flags, 'require-signers');
  if (signers !== undefined) {
    policy.requireSigners = signers
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (policy.requireSigners.length === 0)
      throw usageError('verify-dsse', '--require-signers needs at least one keyid');
  }
  const subject = stringFlag(flags, 'require-subject');
  if (subject !== undefined) policy.requireSubject = parseSubjectRequirement(subject);
  const predicateType = stringFlag(flags, 'require-predicate-type');
  if (predicateType !== undefined) policy.requirePredicateType = predicateType;
  const payloadType = stringFlag(flags, 'payload-type');
  if (payloadType !== undefined) policy.payloadType = payloadType;
  const repo = stringFlag(flags, 'require-repo');
  if (repo !== undefined) {
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repo))
      throw usageError('verify-dsse', '--require-repo takes OWNER/REPO');
    policy.requireRepo = repo;
  }
  const commit = stringFlag(flags, 'require-commit');
  if (commit !== undefined) {
    if (!/^[0-9a-fA-F]{7,64}$/.test(commit)) throw usageError('verify-dsse', '--require-commit takes a hex commit sha');
    policy.requireCommit = commit;
  }
  const maxAge = stringFlag(flags, 'max-age');
  if (maxAge !== undefined) policy.maxAgeMs = parseDuration(maxAge);
  const timeField = stringFlag(flags, 'time-field');
  if (timeField !== undefined) {
    if (maxAge === undefined) throw usageError('verify-dsse', '--time-field goes with --max-age');
    if (!timeField.startsWith('/'))
      throw usageError('verify-dsse', '--time-field is a JSON pointer such as /issued_at');
    policy.timeField = timeField;
  }
  return policy;
}

async function trustedKeys(flags: ReturnType<typeof parseFlags>, signal: AbortSignal): Promise<TrustedKey[]> {
  const keyFile = stringFlag(flags, 'key-file');
  if (keyFile !== undefined) {
    return [trustedKey(parsePublicKeyPem(await readPublicKeyText(keyFile), keyFile), undefined, true)];
  }
  const rootPath = stringFlag(flags, 'keys-root-key');
  const root = rootPath === undefined ? undefined : parsePublicKeyPem(await readPublicKeyText(rootPath), rootPath);
  const keys = stringFlag(flags, 'keys');
  if (keys !== undefined) return root ? readSignedKeyMap(keys, root) : readKeyMap(keys);
  const url = stringFlag(flags, 'keys-url')!;
  return root ? fetchSignedKeyMap(url, root, { signal }) : fetchKeyMap(url, { signal });
}

// Keyless verification (issue 13): its flags and help live in keyless-verify-options.ts.
command.help += `

Keyless, instead of --dsse and keys (seed 003):
  --sigstore-bundle <file>          a Sigstore bundle with a DSSE envelope and a Fulcio certificate
  --sigstore-identity <san>         the signer's exact identity (as --certificate-identity)
  --sigstore-issuer <url>           the exact OIDC issuer (as --certificate-oidc-issuer)
  and the policy flags above; trust and log flags as below.

${KEYLESS_HELP}`;

export default command;
