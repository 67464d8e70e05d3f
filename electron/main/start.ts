/**
 * `npm start`: the desktop app where Electron can run, else the same UI in a browser tab
 * (`ferry ui`). The npm script builds first; this only chooses the shell, and never makes
 * Electron download its binary (see electron-binary.ts).
 *
 * Arguments after `npm start --` go to `ferry ui` when the browser shell runs, e.g.
 * `npm start -- --no-open --port 8080`. FERRY_SHELL=browser picks the browser shell even where
 * Electron could run.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findElectronBinary, type ElectronBinary } from './electron-binary.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const electron: ElectronBinary =
  process.env.FERRY_SHELL === 'browser' ? { reason: 'FERRY_SHELL=browser is set' } : findElectronBinary();

if (electron.path) {
  const child = spawn(electron.path, [path.join(here, 'main.js')], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`ferry: could not start Electron (${err.message})\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  process.stderr.write(`${electron.reason}; opening the browser shell instead\n`);
  // Exactly `ferry ui ARGS...`: the CLI's entry point reads process.argv when it loads.
  const ferryJs = path.join(here, '..', '..', '..', 'electron', 'cli', 'ferry.js');
  process.argv = [process.argv[0]!, ferryJs, 'ui', ...process.argv.slice(2)];
  await import(new URL('../cli/main.js', import.meta.url).href);
}
