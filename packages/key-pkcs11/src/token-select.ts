import type { Module, Slot, Token } from 'graphene-pk11';
import { CosignkitError } from '@cosignkit/core';
import type { Pkcs11Uri } from './pkcs11-uri.js';
import { wrapPkcs11Error } from './pkcs11-errors.js';

const CKF_TOKEN_INITIALIZED = 0x400;

export interface SelectedToken {
  slot: Slot;
  /** CK_SLOT_ID as a decimal string (slot ids are CK_ULONG: may exceed 2^53 on some modules). */
  slotId: string;
  label: string;
  serial: string;
  /** CKF_ flags of the token (login required, protected authentication path…). */
  flags: number;
}

/** The one initialized token that matches the URI's token attributes (the first when several match). */
export function selectToken(module: Module, uri: Pkcs11Uri): SelectedToken {
  let slots;
  try {
    slots = module.getSlots(true);
  } catch (error) {
    throw wrapPkcs11Error(error, 'cannot list the slots of the PKCS#11 module');
  }
  const candidates: SelectedToken[] = [];
  for (let i = 0; i < slots.length; i++) {
    const slot = slots.items(i);
    let token: Token;
    try {
      token = slot.getToken();
    } catch {
      continue; // a slot whose token went away between C_GetSlotList and C_GetTokenInfo
    }
    if (!(token.flags & CKF_TOKEN_INITIALIZED)) continue;
    const selected = {
      slot,
      slotId: slot.handle.readBigUInt64LE(0).toString(),
      label: token.label.trim(),
      serial: token.serialNumber.trim(),
      flags: token.flags,
    };
    if (matches(uri, selected, token)) candidates.push(selected);
  }
  const found = candidates[0];
  if (!found) {
    throw new CosignkitError('TOKEN_NOT_FOUND', `no PKCS#11 token matches ${describe(uri)}`, {
      details: { criteria: describe(uri) },
    });
  }
  return found;
}

function matches(uri: Pkcs11Uri, selected: SelectedToken, token: Token): boolean {
  if (uri.token !== undefined && uri.token !== selected.label) return false;
  if (uri.serial !== undefined && uri.serial !== selected.serial) return false;
  if (uri.manufacturer !== undefined && uri.manufacturer !== token.manufacturerID.trim()) return false;
  if (uri.model !== undefined && uri.model !== token.model.trim()) return false;
  if (uri.slotId !== undefined && String(uri.slotId) !== selected.slotId) return false;
  return true;
}

/** The token criteria in words (no secrets: the URI's query is not shown). */
export function describe(uri: Pkcs11Uri): string {
  const parts: string[] = [];
  if (uri.token !== undefined) parts.push(`token="${uri.token}"`);
  if (uri.serial !== undefined) parts.push(`serial="${uri.serial}"`);
  if (uri.manufacturer !== undefined) parts.push(`manufacturer="${uri.manufacturer}"`);
  if (uri.model !== undefined) parts.push(`model="${uri.model}"`);
  if (uri.slotId !== undefined) parts.push(`slot-id=${uri.slotId}`);
  return parts.length ? parts.join(' ') : 'any initialized token';
}
