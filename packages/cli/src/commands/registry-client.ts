import { dockerConfigCredentials, RegistryClient } from '@cosignkit/oci';
import type { ParsedFlags } from '../args.js';
import type { CommandContext } from '../command.js';
import { ociRoleOptions } from './oci-shared.js';

/**
 * A registry client with the docker config's credentials and the plain-HTTP permission of the flags. Apart from
 * oci-shared.ts, which sign-blob and attest-blob load for their --push flags: the OCI client (and node:http,
 * whose ESM import alone loads undici) then loads only for the commands that talk to a registry (issue 19).
 */
export function registryClient(context: CommandContext, flags: ParsedFlags): RegistryClient {
  const o = ociRoleOptions(context, flags);
  return new RegistryClient({
    allowHttp: o.allowHttp,
    credentials: dockerConfigCredentials(context.env),
    signal: context.signal,
    timeoutMs: o.registryTimeoutMs,
  });
}
