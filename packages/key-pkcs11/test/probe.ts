// proveNonExtractable for the conformance kit: reads CKA_VALUE of a private key through a session of its own.
import { createRequire } from 'node:module';
import type * as Graphene from 'graphene-pk11';

export const graphene = createRequire(import.meta.url)('graphene-pk11') as typeof Graphene;
const CKR_ATTRIBUTE_SENSITIVE = 0x11;

/** A session on the token labelled `tokenLabel`, in this process (so it shares the backend's login). */
export function probeSession(modulePath: string, tokenLabel: string): Graphene.Session {
  const module = graphene.Module.load(modulePath);
  module.initialize({ flags: 2 }); // already initialized by the backend: graphene ignores that answer
  const slots = module.getSlots(true);
  for (let i = 0; i < slots.length; i++) {
    const slot = slots.items(i);
    if (slot.getToken().label.trim() === tokenLabel) {
      return slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
    }
  }
  throw new Error(`the probe found no token labelled ${tokenLabel}`);
}

/** Throws unless the private key labelled `label` is sensitive, non-extractable and its CKA_VALUE unreadable. */
export function proveValueUnreadable(session: Graphene.Session, label: string): void {
  const found = session.find({ class: graphene.ObjectClass.PRIVATE_KEY, label });
  if (found.length !== 1) throw new Error(`probe found ${found.length} private keys labelled ${label}`);
  const key = found.items(0);
  const flags = key.getAttribute({ sensitive: null, extractable: null, token: null, private: null });
  if (flags.sensitive !== true || flags.extractable !== false || flags.private !== true || flags.token !== true) {
    throw new Error(`private key attributes are ${JSON.stringify(flags)}`);
  }
  let value: Buffer | undefined;
  try {
    value = key.getAttribute('value') as Buffer;
  } catch (error) {
    if ((error as { code?: number }).code !== CKR_ATTRIBUTE_SENSITIVE) throw error;
    return; // CKR_ATTRIBUTE_SENSITIVE: the private value cannot be read out
  }
  throw new Error(`CKA_VALUE of the private key was readable (${value?.length ?? 0} bytes)`);
}
