import { READ_N, SCRYPT_MAXMEM, SCRYPT_P, SCRYPT_R } from './scrypt-params.js';

/**
 * scrypt started ahead of need. A one-shot `sign-blob` spends most of its time in cosign's scrypt
 * (N=65536: 64 MiB, ~0.3 s); a CLI that knows the key file and the password before it has loaded anything
 * else starts it on the thread pool at once, and the key decryption later takes the result instead of
 * starting its own. Kept on a process-wide symbol so every loaded copy of this package sees the one table.
 * Deliberately free of other packages' imports: the CLI's entry loads it before the rest of the program
 * (`@cosignkit/key-file/scrypt-prestart`, apart from the index, which would load core and the ciphers first).
 */
const TABLE = Symbol.for('cosignkit.key-file.scrypt-prestart');

interface Pending {
  password: string;
  derived: Promise<Buffer | undefined>;
}

type Table = Map<string, Pending>;

function table(): Table {
  const holder = globalThis as { [TABLE]?: Table };
  holder[TABLE] ??= new Map();
  return holder[TABLE];
}

const entryKey = (salt: Buffer, N: number, r: number, p: number) => `${N}:${r}:${p}:${salt.toString('base64')}`;

/**
 * Starts deriving the decryption key of a cosign key file's text with a password, when the text is a
 * well-formed cosign key of the parameters cosign reads; otherwise does nothing. Never throws: the real
 * decryption reports every problem. Only the first start for a given salt counts.
 */
export function prestartKeyDerivation(pem: string, password: string): void {
  try {
    const match = /-----BEGIN ENCRYPTED (?:SIGSTORE|COSIGN) PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END /.exec(pem);
    if (!match) return;
    const json = JSON.parse(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64').toString('utf8')) as {
      kdf?: { name?: unknown; salt?: unknown; params?: { N?: unknown; r?: unknown; p?: unknown } };
    };
    const { N, r, p } = json.kdf?.params ?? {};
    if (json.kdf?.name !== 'scrypt' || typeof json.kdf.salt !== 'string') return;
    if (typeof N !== 'number' || !READ_N.has(N) || r !== SCRYPT_R || p !== SCRYPT_P) return;
    const salt = Buffer.from(json.kdf.salt, 'base64');
    const key = entryKey(salt, N, r, p);
    if (table().has(key)) return;
    // node:crypto only now, by process.getBuiltinModule: loading it costs ~15 ms, which a command that starts
    // no scrypt (verify-blob, version) should not pay, and an ESM import would also build its facade (reading
    // every export, webcrypto's lazy getters included) before scrypt could start (issue 19).
    const { scrypt } = process.getBuiltinModule('node:crypto');
    const derived = new Promise<Buffer | undefined>((resolve) => {
      // A failure here only means the decryption derives the key itself, and reports what went wrong.
      scrypt(Buffer.from(password, 'utf8'), salt, 32, { N, r, p, maxmem: SCRYPT_MAXMEM }, (error, out) =>
        resolve(error ? undefined : out),
      );
    });
    table().set(key, { password, derived });
  } catch {
    // Not a key this can read ahead: the decryption will say why.
  }
}

/** The key derived ahead for exactly this password, salt and parameters (taken once), else undefined. */
export async function takePrestartedKey(
  password: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
): Promise<Buffer | undefined> {
  const key = entryKey(salt, N, r, p);
  const pending = table().get(key);
  if (!pending) return undefined;
  table().delete(key);
  if (pending.password !== password) {
    // Another password than the one read ahead (e.g. typed at a prompt): wipe the unused result.
    (await pending.derived)?.fill(0);
    return undefined;
  }
  return pending.derived;
}
