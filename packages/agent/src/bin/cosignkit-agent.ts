import { runAgentDaemon } from '../agent-daemon.js';

// The agent alone (`cosignkit-agent run`), for the plugin's first call and for users of stock cosign. Errors are
// one line with their code on stderr (the log, when the plugin started it).
runAgentDaemon(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stderr: (line) => void process.stderr.write(line),
}).then(
  () => process.exit(0),
  (error: unknown) => {
    const e = error as { code?: unknown; message?: unknown };
    const code = typeof e?.code === 'string' && /^[A-Z_]+$/.test(e.code) ? e.code : 'INTERNAL';
    const message = String(typeof e?.message === 'string' ? e.message : error).split('\n')[0];
    process.stderr.write(`cosignkit-agent: ${message} [${code}]\n`);
    process.exit(1);
  },
);
