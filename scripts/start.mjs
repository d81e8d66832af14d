// `npm start` (the server) and `npm run heddle -- …` (`cli` first: the
// operator commands): the compiled JavaScript in dist/, compiled first when it
// is missing or stale. It runs in this process, so signals reach the server.
// `npm run dev` runs the TypeScript sources through tsx instead.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST, ensureBuilt } from './build-if-stale.mjs';
import { nodeFlags } from './node-flags.mjs';

// V8 reads its heap and WebAssembly flags only at start-up: the process
// replaces itself (same pid) with one that has them. Where execve is missing
// (Windows), it runs without them.
const missing = nodeFlags(process.env, process.execArgv);
if (missing.length && typeof process.execve === 'function' && process.platform !== 'win32') {
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)], process.env);
}

const entry = process.argv[2] === 'cli' ? 'cli.js' : 'main.js';
ensureBuilt();
const file = path.join(DIST, entry);
// What the entry sees is `node dist/<entry> <args>` (commander reads process.argv).
process.argv.splice(1, entry === 'cli.js' ? 2 : 1, file);
await import(pathToFileURL(file).href);
