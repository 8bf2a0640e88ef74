import { availableParallelism } from 'node:os';
import { KEY_BACKEND_SPEC_VERSION, type BackendContext, type KeyBackend, type KeyRef } from '@cosignkit/core';
import { keyIdOf } from './key-uri.js';
import { parsePkcs11Uri, type Pkcs11Uri } from './pkcs11-uri.js';
import { acquireModule, releaseModule } from './module-cache.js';
import { Pkcs11KeyManager } from './pkcs11-key-manager.js';
import { resolveModulePath, resolvePin } from './store-options.js';
import { TokenConnection } from './token-connection.js';
import { selectToken } from './token-select.js';

/** Sessions per token when the config names no `backends.pkcs11.sessions`. */
export const DEFAULT_SESSIONS = 8;

/**
 * Signing threads per token when the config names no `backends.pkcs11.signThreads`: one per core but one (the
 * main thread keeps a core: on 2 cores, a second thread made both the rate and the event-loop delay worse), at
 * least one, at most four (more is not measured).
 */
export function defaultSignThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** The PKCS#11 backend: `pkcs11:` references (RFC 7512) opened through graphene-pk11. */
export function pkcs11Backend(): KeyBackend {
  return {
    specVersion: KEY_BACKEND_SPEC_VERSION,
    name: 'pkcs11',
    schemes: ['pkcs11'],
    capabilities: {
      generate: true,
      delete: true,
      algorithms: ['ecdsa-p256-sha256', 'ecdsa-p384-sha384'],
      extractable: false,
    },
    open: openPkcs11Store,
    keyIdOf,
  };
}

/** Opens the token a `pkcs11:` reference points at, logged in, as a Pkcs11KeyManager. */
export async function openPkcs11Store(ref: KeyRef, context: BackendContext): Promise<Pkcs11KeyManager> {
  const uri = withConfiguredToken(parsePkcs11Uri(ref), context);
  const modulePath = resolveModulePath(uri, ref, context);
  const module = acquireModule(modulePath);
  try {
    const token = selectToken(module, uri);
    const configured = Number(context.options.sessions);
    const threads = Number(context.options.signThreads);
    const connection = await TokenConnection.connect({
      modulePath,
      token,
      pin: () => resolvePin(uri, ref, context),
      sessions: Number.isInteger(configured) && configured > 0 ? configured : DEFAULT_SESSIONS,
      // 0 is allowed: sign on the main thread (C_SignInit there, C_Sign on the libuv pool).
      signThreads:
        context.options.signThreads !== undefined && Number.isInteger(threads) && threads >= 0
          ? threads
          : defaultSignThreads(),
      logger: context.logger,
    });
    return new Pkcs11KeyManager({
      connection,
      store: ref,
      logger: context.logger,
      onClose: () => releaseModule(modulePath),
    });
  } catch (error) {
    try {
      releaseModule(modulePath);
    } catch (finalizeError) {
      context.logger.warn('pkcs11: finalizing the module after a failed open also failed', {
        modulePath,
        error: (finalizeError as Error).message,
      });
    }
    throw error;
  }
}

/** `backends.pkcs11.token` names the token when the reference names none (`pkcs11:`, `--backend pkcs11`). */
function withConfiguredToken(uri: Pkcs11Uri, context: BackendContext): Pkcs11Uri {
  const token = context.options.token;
  const named = [uri.token, uri.serial, uri.slotId, uri.manufacturer, uri.model].some((v) => v !== undefined);
  return named || typeof token !== 'string' || token === '' ? uri : { ...uri, token };
}
