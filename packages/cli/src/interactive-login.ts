import type { ParsedFlags } from './args.js';
import { stringFlag } from './args.js';
import type { CommandContext } from './command.js';
import { usageError } from './usage-error.js';

/** cosign's interactive sign-in flags, plus the flow choice (cosign picks the device flow when stdin is not a terminal). */
export const OIDC_FLAGS = {
  'oidc-issuer': { type: 'string' },
  'oidc-client-id': { type: 'string' },
  'oidc-redirect-url': { type: 'string' },
  'oidc-flow': { type: 'string' },
} as const;

export const OIDC_HELP = `Interactive sign-in, when no token is found (with --oidc-issuer, or on a terminal):
  --oidc-issuer <url>               the OIDC issuer (default: public good's, ${'https://oauth2.sigstore.dev/auth'})
  --oidc-client-id <id>             the client id (default sigstore)
  --oidc-redirect-url <url>         the browser flow's loopback redirect (default http://localhost:0/auth/callback)
  --oidc-flow browser|device        browser: authorization code with PKCE, the URL opened with $BROWSER or
                                    xdg-open (and printed); device: a code to enter on another device.
                                    Default (also env COSIGNKIT_OIDC_FLOW): browser when stdin is a
                                    terminal, else device, as cosign chooses.`;

type Sigstore = typeof import('@cosignkit/sigstore');

/** Whether sign-in may be interactive: asked for with --oidc-issuer, or a person at a terminal. */
export function interactiveAllowed(flags: ParsedFlags): boolean {
  return stringFlag(flags, 'oidc-issuer') !== undefined || process.stdin.isTTY === true;
}

/**
 * Gets an ID token by the browser or device flow. The prompt (a URL or a user code, never a token) goes to
 * stderr at once: the command has not finished and the user must act.
 */
export async function interactiveToken(
  sigstore: Sigstore,
  command: string,
  flags: ParsedFlags,
  context: CommandContext,
): Promise<string> {
  const chosen = stringFlag(flags, 'oidc-flow') ?? context.env.COSIGNKIT_OIDC_FLOW;
  if (chosen !== undefined && chosen !== 'browser' && chosen !== 'device')
    throw usageError(command, '--oidc-flow takes browser or device');
  const flow = chosen ?? (process.stdin.isTTY === true ? 'browser' : 'device');
  const say = (line: string) => {
    if (context.io) context.io.stderr(`${line}\n`);
    else context.logger.warn(line);
  };
  const redirectUrl = stringFlag(flags, 'oidc-redirect-url');
  return sigstore.interactiveIdentityToken({
    issuer: stringFlag(flags, 'oidc-issuer') ?? sigstore.PUBLIC_GOOD_OIDC_ISSUER,
    clientId: stringFlag(flags, 'oidc-client-id') ?? sigstore.DEFAULT_OIDC_CLIENT_ID,
    ...(redirectUrl !== undefined ? { redirectUrl } : {}),
    flow,
    prompt: say,
    openUrl: (url) => openInBrowser(url, context.env),
    logger: context.logger,
    signal: context.signal,
  });
}

/** $BROWSER (one program, given the URL as its argument; no shell) or xdg-open; failures are ignored. */
function openInBrowser(url: string, env: NodeJS.ProcessEnv): Promise<void> {
  const program = env.BROWSER || 'xdg-open';
  return new Promise((resolve) => {
    try {
      // node:child_process here, not at the top: it loads net and dgram with it, and every keyed sign-blob
      // loads this module without ever opening a browser.
      const { spawn } = process.getBuiltinModule('node:child_process');
      const child = spawn(program, [url], { stdio: 'ignore', detached: true, env });
      child.on('error', () => resolve());
      child.unref();
      resolve();
    } catch {
      resolve();
    }
  });
}
