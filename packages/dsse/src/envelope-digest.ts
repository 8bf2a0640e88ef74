import { createHash } from 'node:crypto';
import { serializeEnvelope, type Envelope } from './envelope.js';

/**
 * The envelope's identity in the log: lower-case hex SHA-256 of its canonical serialization (compact JSON,
 * standard base64, cosign's field order). The same envelope has the same digest whether it was read from a
 * pretty-printed file, a URL-safe encoding or a Sigstore bundle.
 */
export function envelopeDigest(envelope: Envelope): string {
  return createHash('sha256').update(serializeEnvelope(envelope)).digest('hex');
}
