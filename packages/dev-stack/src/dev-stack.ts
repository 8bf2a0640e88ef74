import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FulcioService, toPem } from './fulcio-service.js';
import { OidcIssuer, type TokenOptions } from './oidc-issuer.js';
import { RekorService } from './rekor-service.js';
import { buildSigningConfig, buildTrustedRoot } from './trust-material.js';
import { TsaService } from './tsa-service.js';

export interface DevStackOptions {
  /** The identity tokens are issued for (subject; also `email` when it looks like one). */
  identity?: string;
  /**
   * For tests of refusal: the TSA's clock runs this many milliseconds off. Beyond its certificate's year of
   * validity (e.g. 400 days), every timestamp it gives is outside that certificate's validity window.
   */
  tsaClockOffsetMs?: number;
}

/** What `stack.json` holds. `token` is an ID token for `identity` from `issuerUrl`, audience "sigstore". */
export interface StackInfo {
  fulcioUrl: string;
  rekorUrl: string;
  /** The timestamp endpoint (`…/api/v1/timestamp`), as in the signing config. */
  tsaUrl: string;
  issuerUrl: string;
  identity: string;
  token: string;
  /** GitHub Actions-style ambient token endpoint and its bearer (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN). */
  actionsTokenUrl: string;
  actionsRequestToken: string;
}

/** File names written by {@link DevStack.writeFiles}. */
export const STACK_FILES = {
  trustedRoot: 'trusted_root.json',
  signingConfig: 'signing_config.json',
  /** The same stack with its log named as Rekor v2 (cosign v3's newest log API). */
  signingConfigRekorV2: 'signing_config_rekor_v2.json',
  stack: 'stack.json',
  fulcioRoot: 'fulcio_root.pem',
  ctLogKey: 'ctlog_public.pem',
  rekorKey: 'rekor_public.pem',
  tsaChain: 'tsa_chain.pem',
} as const;

export const DEFAULT_IDENTITY = 'dev@cosignkit.invalid';

/**
 * A local Sigstore stack: Fulcio, Rekor (v1 API) and a TSA from @sigstore/mock, plus a small OIDC issuer,
 * each on its own loopback port. Everything lives in memory and dies with close().
 */
export class DevStack {
  readonly issuer: OidcIssuer;
  readonly fulcio: FulcioService;
  readonly rekor = new RekorService();
  readonly tsa = new TsaService();
  readonly identity: string;
  /** Before anything the stack signs: the trust material's validFor.start. */
  readonly validFrom = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);

  private constructor(options: DevStackOptions) {
    this.identity = options.identity ?? DEFAULT_IDENTITY;
    this.issuer = new OidcIssuer(this.identity);
    this.fulcio = new FulcioService({ issuerUrl: '' });
    this.tsa.clockOffsetMs = options.tsaClockOffsetMs ?? 0;
  }

  static async start(options: DevStackOptions = {}): Promise<DevStack> {
    const stack = new DevStack(options);
    try {
      const issuerUrl = await stack.issuer.start();
      (stack.fulcio.options as { issuerUrl: string }).issuerUrl = issuerUrl;
      await Promise.all([stack.fulcio.start(), stack.rekor.start(), stack.tsa.start()]);
    } catch (error) {
      await stack.close();
      throw error;
    }
    return stack;
  }

  get fulcioUrl(): string {
    return this.fulcio.service.url;
  }
  get rekorUrl(): string {
    return this.rekor.service.url;
  }
  get tsaUrl(): string {
    return this.tsa.timestampUrl;
  }
  get issuerUrl(): string {
    return this.issuer.url;
  }

  issueToken(options?: TokenOptions): Promise<string> {
    return this.issuer.issueToken(options);
  }

  trustedRoot(): Record<string, unknown> {
    return buildTrustedRoot({
      fulcioUrl: this.fulcioUrl,
      rekorUrl: this.rekorUrl,
      tsaUrl: this.tsaUrl,
      issuerUrl: this.issuerUrl,
      caRoot: Buffer.from(this.fulcio.ca.rootCertificate.buffer),
      rekorKey: this.rekor.keys.publicKey.export({ type: 'spki', format: 'der' }),
      ctLogKey: Buffer.from(this.fulcio.ctLog.publicKey),
      ctLogId: Buffer.from(this.fulcio.ctLog.logID.buffer),
      tsaChain: [Buffer.from(this.tsa.tsa.intCertificate.buffer), Buffer.from(this.tsa.tsa.rootCertificate.buffer)],
      validFrom: this.validFrom,
    });
  }

  signingConfig(rekorApiVersion: 1 | 2 = 1): Record<string, unknown> {
    return buildSigningConfig(this, rekorApiVersion);
  }

  async info(): Promise<StackInfo> {
    return {
      fulcioUrl: this.fulcioUrl,
      rekorUrl: this.rekorUrl,
      tsaUrl: this.tsaUrl,
      issuerUrl: this.issuerUrl,
      identity: this.identity,
      token: await this.issueToken(),
      actionsTokenUrl: `${this.issuerUrl}/actions/token`,
      actionsRequestToken: this.issuer.actionsRequestToken,
    };
  }

  /**
   * Writes the trust material and stack.json into dir (created 0700). Each file is written whole and then
   * renamed, and stack.json comes last, so a reader that waits for stack.json sees every file complete.
   * Also writes PEM files for cosign 2.x's SIGSTORE_* trust variables. Returns the stack info written.
   */
  async writeFiles(dir: string): Promise<StackInfo> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const info = await this.info();
    const pem = (der: Buffer, label?: string) => toPem(der, label);
    const files: [string, string, number][] = [
      [STACK_FILES.trustedRoot, `${JSON.stringify(this.trustedRoot(), null, 2)}\n`, 0o644],
      [STACK_FILES.signingConfig, `${JSON.stringify(this.signingConfig(), null, 2)}\n`, 0o644],
      [STACK_FILES.signingConfigRekorV2, `${JSON.stringify(this.signingConfig(2), null, 2)}\n`, 0o644],
      [STACK_FILES.fulcioRoot, pem(Buffer.from(this.fulcio.ca.rootCertificate.buffer)), 0o644],
      [STACK_FILES.ctLogKey, pem(Buffer.from(this.fulcio.ctLog.publicKey), 'PUBLIC KEY'), 0o644],
      [STACK_FILES.rekorKey, this.rekor.keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 0o644],
      [
        STACK_FILES.tsaChain,
        pem(Buffer.from(this.tsa.tsa.intCertificate.buffer)) + pem(Buffer.from(this.tsa.tsa.rootCertificate.buffer)),
        0o644,
      ],
      // Holds a bearer token: owner only.
      [STACK_FILES.stack, `${JSON.stringify(info, null, 2)}\n`, 0o600],
    ];
    for (const [name, text, mode] of files) {
      const target = join(dir, name);
      const temp = `${target}.${process.pid}.tmp`;
      await writeFile(temp, text, { mode });
      await chmod(temp, mode);
      await rename(temp, target);
    }
    return info;
  }

  /** `export NAME=value` lines for a POSIX shell: the token and cosign 2.x's trust variables. */
  static exportLines(dir: string, info: StackInfo): string[] {
    const q = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;
    return [
      `export SIGSTORE_ID_TOKEN=${q(info.token)}`,
      `export COSIGNKIT_DEV_STACK=${q(dir)}`,
      `export SIGSTORE_ROOT_FILE=${q(join(dir, STACK_FILES.fulcioRoot))}`,
      `export SIGSTORE_CT_LOG_PUBLIC_KEY_FILE=${q(join(dir, STACK_FILES.ctLogKey))}`,
      `export SIGSTORE_REKOR_PUBLIC_KEY=${q(join(dir, STACK_FILES.rekorKey))}`,
      `export SIGSTORE_TSA_CERTIFICATE_FILE=${q(join(dir, STACK_FILES.tsaChain))}`,
    ];
  }

  async close(): Promise<void> {
    await Promise.allSettled([
      this.issuer.service.close(),
      this.fulcio.service.close(),
      this.rekor.service.close(),
      this.tsa.service.close(),
    ]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
