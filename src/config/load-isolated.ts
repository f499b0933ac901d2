// Loading the config in a worker thread that is then ended: zod and the schema cost about 8 MB
// of RSS for as long as they are loaded, and the agent only needs them once (and on SIGHUP).
// The result is the same plain object loadConfigFile returns.
import { Worker } from 'node:worker_threads';
import type { LoadResult } from './load.js';

export function loadConfigIsolated(file: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./config-worker.js', import.meta.url), { workerData: file });
    worker.once('message', (result: LoadResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`config check ended with code ${code}`));
    });
  });
}
