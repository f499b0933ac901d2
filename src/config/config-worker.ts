// Runs in a worker thread: loads and checks a config file, posts the result (plain data) back.
// See load-isolated.ts for why.
import { parentPort, workerData } from 'node:worker_threads';
import { loadConfigFile } from './load.js';

parentPort!.postMessage(loadConfigFile(workerData as string));
