#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is compiled by `npm run build` (run automatically by `npm ci` via `prepare`).
require('../dist/src/cli/main.js').main(process.argv.slice(2));
