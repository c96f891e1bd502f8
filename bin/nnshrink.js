#!/usr/bin/env node
// The command line as published: the compiled JavaScript in dist/ (`npm run build`, which `npm ci` and `npm install`
// run through `prepare`); no TypeScript at run time. The tests and development run the sources: bin/nnshrink-dev.js.
let main;
try {
  ({ main } = await import('../dist/cli/main.js'));
} catch (e) {
  // a checkout whose build was skipped or removed: say what to run, not a module-resolution stack
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('dist/cli/main.js')) throw e;
  process.stderr.write("nnshrink: internal error: the compiled CLI (dist/) is missing: run 'npm run build'\n");
  process.exit(4);
}
process.exitCode = await main(process.argv.slice(2));
