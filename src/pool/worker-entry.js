// From the sources (tests, bin/nnshrink-dev.js) a worker thread runs TypeScript: register tsx in it, then load the
// worker loop. Compiled (dist/), pool.js starts worker.js itself and this file is not needed (nor published).
import { register } from 'tsx/esm/api';
register();
await import('./worker.ts');
