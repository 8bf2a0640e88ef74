import type { Logger } from '@cosignkit/core';

/** cosign's defaults: public good's OIDC issuer (Dex) and Fulcio's client id. */
export const PUBLIC_GOOD_OIDC_ISSUER = 'https://oauth2.sigstore.dev/auth';
export const DEFAULT_OIDC_CLIENT_ID = 'sigstore';

export type InteractiveFlow = 'browser' | 'device';

export interface InteractiveTokenOptions {
  issuer: string;
  clientId?: string;
  /**
   * Browser flow: the loopback redirect (`--oidc-redirect-url`); default `http://localhost:0/auth/callback`
   * as cosign (port 0: any free port). Only loopback hosts are accepted: the code must come back here.
   */
  redirectUrl?: string;
  flow: InteractiveFlow;
  /** Shows the user the URL to open (browser flow) or the code to enter (device flow). Never gets a token. */
  prompt: (line: string) => void;
  /** Opens the authorization URL in a browser (the CLI runs $BROWSER or xdg-open); its failure is ignored. */
  openUrl?: (url: string) => Promise<void>;
  /** How long the user has (default 5 minutes). */
  timeoutMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
}

/**
 * The interactive ways cosign gets an OIDC ID token (browser with PKCE and a loopback redirect, or the
 * device flow); interactive-flow.ts has them. Loaded on first use: the flows need node:http and
 * oauth4webapi, and importing node:http as an ES module loads Node's whole fetch stack (undici), a large
 * share of a one-shot verify-blob's start-up that never signs.
 */
export async function interactiveIdentityToken(options: InteractiveTokenOptions): Promise<string> {
  const { runInteractiveFlow } = await import('./interactive-flow.js');
  return runInteractiveFlow(options);
}
