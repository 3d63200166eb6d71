#!/usr/bin/env node
// The keelson binary: the compiled CLI lives in dist/ (npm run build).
import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main.js')) {
    console.error('keelson is not built yet: run `npm run build` first');
    process.exit(1);
  }
  throw err;
});
