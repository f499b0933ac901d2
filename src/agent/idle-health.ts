// What health reports for a part that is not running (yet, or any more).
import type { StoreHealth } from '../store/group-commit-types.js';
import type { UplinkStatus } from '../outputs/uplink/uplink-types.js';
import type { BudgetStatus } from '../store/budget.js';

export const NOT_OPEN: StoreHealth = { writable: false, problem: null, error: 'not open', since: null, waiting: 0, heldMessages: 0, heldBatches: 0, shed: { journalReadings: 0, summaries: 0, anomalies: 0, deadLetters: 0 } };

export const STOPPED_UPLINK = (since: number): UplinkStatus => ({ state: 'stopped', since, lastError: null, inflight: 0, delivered: 0, connects: 0, protocol: '-', lastSeqSent: 0 });

export const unbudgeted = (maxBytes: number): BudgetStatus => ({ maxBytes, fileBytes: 0, usedBytes: 0, limitBytes: 0, diskFull: false });
