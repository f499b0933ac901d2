// CommonJS packages the agent loads at every start (mqtt, sqlite3, pino) are required, not
// imported: an ESM import of a CommonJS package has Node parse its source for export names
// (cjs-module-lexer, following its re-exports), and what that leaves behind stays resident:
// about 8 MB for these three (measured: docs/benchmarks.md, issue 19). Types still come from
// the packages: `requireCjs('mqtt') as typeof import('mqtt')`.
import { createRequire } from 'node:module';

export const requireCjs = createRequire(import.meta.url);
