// Worker threads run TypeScript: register tsx here, then load the worker loop.
import { register } from 'tsx/esm/api';
register();
await import('./worker.ts');
