#!/usr/bin/env node
// The keelson binary: the compiled CLI lives in dist/ (npm run build). KEELSON_DIST points it at
// another build directory (the e2e harness sets it to the build it runs from).
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const main = process.env.KEELSON_DIST
  ? pathToFileURL(join(process.env.KEELSON_DIST, 'src', 'cli', 'main.js')).href
  : '../dist/src/cli/main.js';
import(main).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(join('src', 'cli', 'main.js'))) {
    console.error('keelson is not built yet: run `npm run build` first');
    process.exit(1);
  }
  throw err;
});
