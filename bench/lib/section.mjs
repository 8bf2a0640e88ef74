// One bench section in a process of its own (bench/run.mjs forks this per file): its in-process figures then
// see only its own heap, not what the sections before it left for V8 to collect. Replies over IPC with what
// the section returned.
import { basename } from 'node:path';
import { createContext } from './context.mjs';

const [file, dir] = process.argv.slice(2);
const ctx = await createContext({ dir });
let result;
try {
  const { default: bench } = await import(file);
  result = await bench(ctx);
} catch (error) {
  result = { title: basename(file), error: String(error?.stack ?? error) };
}
process.send(result, () => process.disconnect());
