import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Session } from 'graphene-pk11';
import { CosignkitError, type Logger } from '@cosignkit/core';
import { graphene } from './graphene.js';
import { CKR_USER_ALREADY_LOGGED_IN, CKR_USER_NOT_LOGGED_IN, pkcs11Code, wrapPkcs11Error } from './pkcs11-errors.js';
import { SessionPool } from './session-pool.js';
import { SignThreads } from './sign-threads.js';
import type { SelectedToken } from './token-select.js';

const CKF_LOGIN_REQUIRED = 0x4;
const CKF_PROTECTED_AUTHENTICATION_PATH = 0x100;

export interface ConnectOptions {
  modulePath: string;
  token: SelectedToken;
  /** Asked only when the token needs a login. */
  pin: () => Promise<string>;
  sessions: number;
  /** Signing threads (0: sign on this thread, C_Sign on the libuv pool). */
  signThreads: number;
  logger: Logger;
}

/**
 * One logged-in token in this process. PKCS#11 login state belongs to the application, not the session:
 * every store opened on the same token shares one connection, one login and one session pool; the last
 * `release()` logs out and closes the sessions.
 */
export class TokenConnection {
  readonly modulePath: string;
  readonly token: SelectedToken;
  readonly pool: SessionPool;
  /** Where signatures are made, when signing runs off the main thread. */
  readonly signThreads: SignThreads | undefined;
  /** Per-connection memo of looked-up objects, dropped when handles may have died. */
  readonly cache = new Map<string, unknown>();
  #users = 1;
  #exclusive: Promise<unknown> = Promise.resolve();
  #pinCheck: { salt: Buffer; hash: Buffer } | undefined;
  #loggedIn = false;
  /** True when our C_Login succeeded (so the logout is ours too). */
  #ownLogin = false;
  readonly #logger: Logger;

  private constructor(options: ConnectOptions) {
    const { modulePath, token, sessions, logger } = options;
    this.modulePath = modulePath;
    this.token = token;
    this.#logger = logger;
    this.signThreads =
      options.signThreads > 0
        ? new SignThreads({ modulePath, slot: token.slot.handle, threads: options.signThreads, logger })
        : undefined;
    const { SessionFlag } = graphene();
    this.pool = new SessionPool(() => {
      try {
        return token.slot.open(SessionFlag.SERIAL_SESSION | SessionFlag.RW_SESSION);
      } catch (error) {
        throw wrapPkcs11Error(error, `cannot open a session on token "${token.label}"`);
      }
    }, sessions);
  }

  get needsLogin(): boolean {
    return (this.token.flags & CKF_LOGIN_REQUIRED) !== 0;
  }

  /** Logs in once; a later opener's PIN is checked against the one that logged in. */
  async login(pin: () => Promise<string>): Promise<void> {
    if (!this.needsLogin) return;
    if (this.token.flags & CKF_PROTECTED_AUTHENTICATION_PATH) {
      // The PIN is entered on the device's own keypad: C_Login with no PIN.
      if (!this.#loggedIn) await this.pool.use((s) => this.#loginOn(s, undefined));
      return;
    }
    const value = await pin();
    if (this.#loggedIn) {
      if (this.#pinCheck && !samePin(this.#pinCheck, value)) {
        // The token would answer CKR_USER_ALREADY_LOGGED_IN to any PIN now: compare with the one that worked.
        throw new CosignkitError('PIN_INCORRECT', `the PIN is incorrect for token "${this.token.label}"`);
      }
      return;
    }
    await this.pool.use((s) => this.#loginOn(s, value));
    if (this.#ownLogin) {
      const salt = randomBytes(16);
      this.#pinCheck = { salt, hash: pinHash(salt, value) };
    }
  }

  #loginOn(session: Session, pin: string | undefined): void {
    try {
      session.login(pin as string);
      this.#ownLogin = true;
    } catch (error) {
      if (pkcs11Code(error) !== CKR_USER_ALREADY_LOGGED_IN) {
        throw wrapPkcs11Error(error, `cannot log in to token "${this.token.label}"`);
      }
      // Other code in this process (outside cosignkit) logged in first: the login state is shared, the PIN
      // was not checked, and the logout is theirs to do.
      this.#logger.debug('pkcs11: token already logged in by this process', { token: this.token.label });
    }
    this.#loggedIn = true;
    this.cache.clear();
  }

  /** Runs `fn` after every earlier exclusive task (check-then-create of a label must not interleave). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#exclusive.then(fn, fn);
    this.#exclusive = run.catch(() => undefined);
    return run;
  }

  retain(): this {
    this.#users++;
    return this;
  }

  /** Drops one user; the last logs out and closes the sessions (the module is the caller's to release). */
  release(): Promise<void> {
    if (--this.#users > 0) return Promise.resolve();
    const key = keyOf(this.modulePath, this.token.slotId);
    connections.delete(key);
    // A connect() to the same token meanwhile waits for this logout, or the logout would hit its login.
    const done = this.#shutDown();
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    closing.set(key, settled);
    void settled.then(() => {
      if (closing.get(key) === settled) closing.delete(key);
    });
    return done;
  }

  async #shutDown(): Promise<void> {
    const errors: unknown[] = [];
    // The threads' sessions close before the logout and before the module can be finalized.
    await this.signThreads?.close();
    if (this.#loggedIn && this.#ownLogin) {
      try {
        await this.pool.use((s) => s.logout());
      } catch (error) {
        if (pkcs11Code(error) !== CKR_USER_NOT_LOGGED_IN) errors.push(wrapPkcs11Error(error, 'cannot log out'));
      }
      this.#loggedIn = false;
    }
    this.cache.clear();
    try {
      await this.pool.close();
    } catch (error) {
      errors.push(wrapPkcs11Error(error, 'cannot close the PKCS#11 sessions'));
    }
    this.#logger.debug('pkcs11: token released', { token: this.token.label });
    if (errors.length) throw errors[0];
  }

  /** The shared connection to a token, created and logged in on first use. */
  static async connect(options: ConnectOptions): Promise<TokenConnection> {
    const key = keyOf(options.modulePath, options.token.slotId);
    // No await unless a shutdown is under way: between an `await` and the lookup below, the last user of the
    // connection could start its shutdown, and this login would then be killed by that logout.
    for (let shutDown = closing.get(key); shutDown; shutDown = closing.get(key)) await shutDown;
    const known = connections.get(key);
    if (known) {
      // Retained before any await: the last user's release() in between would otherwise shut it down under us.
      known.connection.retain();
      try {
        await known.ready;
        await known.connection.login(options.pin);
      } catch (error) {
        await known.connection.release();
        throw error;
      }
      return known.connection;
    }
    const connection = new TokenConnection(options);
    const ready = connection.login(options.pin);
    connections.set(key, { connection, ready });
    try {
      await ready;
    } catch (error) {
      await connection.release();
      throw error;
    }
    options.logger.debug('pkcs11: token connected', { token: options.token.label, slotId: options.token.slotId });
    return connection;
  }
}

/** The connection to each token, and its first login (which later openers wait for). */
const connections = new Map<string, { connection: TokenConnection; ready: Promise<void> }>();
/** Connections being shut down (logout, sessions closing), by the same key. */
const closing = new Map<string, Promise<void>>();

function keyOf(modulePath: string, slotId: string): string {
  return `${modulePath}\0${slotId}`;
}

function pinHash(salt: Buffer, pin: string): Buffer {
  return createHash('sha256').update(salt).update(pin, 'utf8').digest();
}

function samePin(check: { salt: Buffer; hash: Buffer }, pin: string): boolean {
  return timingSafeEqual(check.hash, pinHash(check.salt, pin));
}
