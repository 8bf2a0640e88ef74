export { pae } from './pae.js';
export { decodeBase64, encodeBase64 } from './base64.js';
export { envelopeFromJson, envelopeToJson, parseEnvelope, serializeEnvelope } from './envelope.js';
export type { Envelope, EnvelopeJson, EnvelopeSignature } from './envelope.js';
export { envelopeDigest } from './envelope-digest.js';
export { signEnvelope } from './sign.js';
export type { EnvelopeSigner, SignEnvelopeOptions } from './sign.js';
export { trustedKey } from './trusted-key.js';
export type { TrustedKey } from './trusted-key.js';
export { verifyEnvelope, verifySignature } from './verify.js';
export type { EnvelopeVerification, SignatureOver, SignatureResult, VerifyEnvelopeOptions } from './verify.js';
export {
  fetchKeyMap,
  fetchSignedKeyMap,
  keyManifestSignatureLocation,
  parseKeyMap,
  readKeyMap,
  readSignedKeyMap,
  serializeKeyMap,
  verifyKeyManifest,
} from './key-map.js';
export { attestationId } from './attestation-id.js';
export type { AttestationId } from './attestation-id.js';
export { gitBindingProblems, gitSubjectName, parseGitSubject } from './git-subject.js';
export type { GitSubject } from './git-subject.js';
export { buildStatement, IN_TOTO_PAYLOAD_TYPE, readStatement, STATEMENT_V01, STATEMENT_V1 } from './statement.js';
export type { Statement, Subject } from './statement.js';
export { subjectHasDigest, subjectsFromFiles } from './subjects.js';
export { PREDICATE_TYPES, resolvePredicateType } from './predicate-types.js';
export { cosignStatementPayload } from './cosign-predicate.js';
export type { CosignStatementInput } from './cosign-predicate.js';
export { goJson } from './go-json.js';
export {
  BUNDLE_V03_MEDIA_TYPE,
  dsseBundleFromJson,
  parseDsseBundle,
  publicKeyHint,
  serializeDsseBundle,
  serializeLegacyAttestationBundle,
} from './bundle.js';
export type { DsseBundle } from './bundle.js';
export { envelopeFromText, readEnvelopeFile } from './read-envelope-file.js';
export type { EnvelopeSource } from './read-envelope-file.js';
export { resolveJsonPointer } from './json-pointer.js';
export { evaluatePolicy, needsStatement, parseSubjectRequirement } from './policy.js';
export type { DssePolicy, UnmetRule } from './policy.js';
export { canonicalEntry, GENESIS_HASH } from './log/log-entry.js';
export type { LogEntry } from './log/log-entry.js';
export { appendEntries, appendToLog, envelopeSubjects } from './log/log-append.js';
export type { AppendOptions, PendingEntry } from './log/log-append.js';
export { LogWriter, type LogWriterOptions } from './log/log-writer.js';
export { verifyLog } from './log/log-verify.js';
export type { LogProblem, LogVerification } from './log/log-verify.js';
export { headPath, readHead } from './log/log-head.js';
export type { LogHead } from './log/log-head.js';
export { withFileLock } from './log/log-lock.js';
export type { LockOptions } from './log/log-lock.js';
export { canonicalJson } from './jcs.js';
