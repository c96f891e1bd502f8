#!/usr/bin/env node
// The command line from the TypeScript sources (tsx, a dev dependency): what the tests spawn, so an edit in src/ is
// seen without a rebuild. Not published; bin/nnshrink.js runs the compiled dist/.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
