import { main } from '../main.js';

// The only place that decides the process's exit status; nothing calls process.exit.
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
