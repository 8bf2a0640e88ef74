import { BackendRegistry, CosignkitError } from '@cosignkit/core';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { backendImporter } from '@cosignkit/agent';
import { usageError } from '../usage-error.js';

const FLAGS = {
  config: { type: 'string' },
  dev: { type: 'boolean' },
  dir: { type: 'string' },
  port: { type: 'string' },
  'dev-stack': { type: 'string' },
} as const;

const command: Command = {
  summary: 'run the signing service (authenticated, entitled, quota-bound, audited DSSE signing)',
  help: `Usage: cosignkit serve --config <file>
       cosignkit serve --dev --dir <dir> [--port <n>] [--dev-stack <stack dir>]

Runs the signing service of @cosignkit/server until SIGTERM or SIGINT, then drains: stops accepting,
finishes the requests in flight, flushes the audit log. Logs are JSON lines on stdout (credentials
redacted). A config error stops start-up with one line.

  --config <file>   the server config (JSON; see the @cosignkit/server README)
  --dev             a one-command trial: writes a test authority and licensing key, a CA with server and
                    client certificates, a file signing key (empty password) and <dir>/dev.json (the URL,
                    an OpTok and a PoE valid 1 h, bound by mTLS to the client certificate), then serves
                    HTTPS with mTLS and the "dev" plan (50 signatures/s, burst 50, 16 concurrent, 64
                    subjects, 256 KiB predicates). For trials only: the keys are throw-away.
  --dir <dir>       where --dev writes (required with --dev)
  --port <n>        with --dev: the port (default 8443; 0 picks a free one)
  --dev-stack <dir> with --dev: also offer keyless signing (signingMode "keyless") against a running
                    "cosignkit dev-stack --dir <dir>" (a mock Fulcio and Rekor on loopback); its token is
                    copied to <dir>/sigstore-token and refreshed; dev.json gains "keyless" (identity,
                    issuer, trustedRoot) for verifying the bundles`,
  async run(context) {
    const flags = parseFlags('serve', context.argv, FLAGS, { min: 0, max: 0, names: '' });
    const dev = booleanFlag(flags, 'dev') === true;
    const configPath = stringFlag(flags, 'config');
    const server = await import('@cosignkit/server');
    let config;
    let registry = context.registry;
    let devEnvironment: Awaited<ReturnType<typeof server.createDevEnvironment>> | undefined;
    let stackLink: Awaited<ReturnType<typeof server.linkDevStack>> | undefined;
    const stackDir = stringFlag(flags, 'dev-stack');
    if (stackDir !== undefined && !dev) throw usageError('serve', '--dev-stack goes with --dev');
    if (dev) {
      if (configPath !== undefined) throw usageError('serve', '--dev and --config exclude each other');
      const dir = stringFlag(flags, 'dir');
      if (dir === undefined) throw usageError('serve', '--dev needs --dir <dir>');
      const portText = stringFlag(flags, 'port') ?? '8443';
      const port = Number(portText);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw usageError('serve', `--port takes a port number, not "${portText}"`);
      devEnvironment = await server.createDevEnvironment(dir, { port });
      const raw = devEnvironment.config as { signing: Record<string, unknown> };
      if (stackDir !== undefined) {
        stackLink = await server.linkDevStack(devEnvironment.dir, stackDir);
        raw.signing = { ...raw.signing, keyless: stackLink.keyless };
      }
      config = server.parseServerConfig(raw, devEnvironment.dir);
      // The dev signing key has an empty password, whatever COSIGN_PASSWORD says.
      registry = new BackendRegistry({
        env: { ...context.env, COSIGN_PASSWORD: '' },
        importer: backendImporter(context.cwd),
        logger: context.logger,
      });
    } else {
      if (configPath === undefined)
        throw usageError('serve', 'missing --config <file> (or --dev --dir <dir> for a trial)');
      config = await server.loadServerConfig(configPath);
    }
    const log = server.createServerLogger(config.logLevel);
    let running;
    try {
      running = await server.createSignerFromConfig(config, registry, log);
    } catch (error) {
      if (CosignkitError.isInstance(error)) throw error;
      throw new CosignkitError('USAGE', `cannot start the signer: ${(error as Error).message}`);
    }
    let url: string;
    try {
      url = await running.listen();
    } catch (error) {
      await running.close().catch(() => undefined);
      throw new CosignkitError('IO', `cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
    }
    const devJson = devEnvironment
      ? await server.writeDevJson(devEnvironment, url, stackLink ? { keyless: stackLink.info } : {})
      : undefined;
    log.info({ url, ...(devJson ? { devJson } : {}) }, 'signer listening');
    const signal = await new Promise<string>((resolve) => {
      const on = (name: string) => () => resolve(name);
      process.once('SIGTERM', on('SIGTERM'));
      process.once('SIGINT', on('SIGINT'));
      context.signal.addEventListener('abort', on('SIGINT'), { once: true });
    });
    log.info({ signal }, 'draining');
    await running.close();
    stackLink?.stop();
    log.info('stopped');
    log.flush?.();
    return { data: { url, stopped: signal, ...(devJson ? { devJson } : {}) } };
  },
};

export default command;
