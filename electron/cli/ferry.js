#!/usr/bin/env node
// The `ferry` command. The CLI is written in TypeScript and compiled by `npm run build`
// (run by `npm install` through `prepare`); this file only loads the compiled entry point.
import '../../dist/electron/cli/main.js';
