import { resolve } from 'node:path';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';

const FLAGS = {
  dir: { type: 'string' },
  identity: { type: 'string' },
} as const;

/** stack.json's token lives an hour; it is renewed well before that while the stack runs. */
const TOKEN_REFRESH_MS = 20 * 60 * 1000;

const command: Command = {
  summary: 'serve a local Sigstore stack (Fulcio, Rekor, TSA, OIDC issuer) for development and tests',
  help: `Usage: cosignkit dev-stack --dir <dir> [--identity <subject>]

Serves a local Sigstore stack on 127.0.0.1 until SIGTERM or Ctrl-C: Fulcio, Rekor (v1 API) and an RFC 3161
timestamp authority built on @sigstore/mock, plus a small OIDC issuer. Each listens on a port the OS assigns.
Everything is in memory: keys, certificates and log entries vanish when it stops. Not for production.

Once ready it writes into <dir> (created 0700):
  trusted_root.json     the stack's trust material (for --trusted-root)
  signing_config.json   Sigstore SigningConfig v0.2 naming the stack's services (for --signing-config)
  stack.json            {"fulcioUrl","rekorUrl","tsaUrl","issuerUrl","identity","token",...}, mode 0600;
                        token: an ID token (1 h, audience "sigstore") for <identity>, renewed every 20 min
  fulcio_root.pem, ctlog_public.pem, rekor_public.pem, tsa_chain.pem   for cosign 2.x's SIGSTORE_* variables
and prints "export ..." lines for a shell (SIGSTORE_ID_TOKEN and the SIGSTORE_* trust variables).

Flags:
  --dir <dir>            where to write the files (required)
  --identity <subject>   the tokens' subject (and email, if it looks like one); default dev@cosignkit.invalid

The OIDC issuer serves /.well-known/openid-configuration, /jwks, POST /token (grant_type=client_credentials;
audience=, ttl= seconds, negative for an expired token) and GET /actions/token (GitHub Actions' shape, bearer
from stack.json's actionsRequestToken). Fulcio verifies each token against the issuer's JWKS (signature,
issuer, audience "sigstore", expiry) and the proof of possession before the mock issues a certificate.`,
  bare: true,
  async run(context) {
    const flags = parseFlags('dev-stack', context.argv, FLAGS, { min: 0, max: 0, names: '' });
    const dirFlag = stringFlag(flags, 'dir');
    if (!dirFlag) throw usageError('dev-stack', 'missing --dir');
    const dir = resolve(context.cwd, dirFlag);
    const { DevStack } = await import('@cosignkit/dev-stack');
    const stack = await DevStack.start({ identity: stringFlag(flags, 'identity') });
    try {
      const info = await stack.writeFiles(dir);
      // A server command: it reports readiness while it runs, not in its result (like `agent run`).
      process.stdout.write(
        context.json ? `${JSON.stringify({ dir, ...info })}\n` : `${DevStack.exportLines(dir, info).join('\n')}\n`,
      );
      const refresh = setInterval(() => void stack.writeFiles(dir).catch(() => undefined), TOKEN_REFRESH_MS);
      await new Promise<void>((done) => {
        const stop = () => done();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
        process.once('SIGHUP', stop);
        context.signal.addEventListener('abort', stop, { once: true });
      });
      clearInterval(refresh);
    } finally {
      await stack.close();
    }
    return { text: '', data: { stopped: true, dir } };
  },
};

export default command;
