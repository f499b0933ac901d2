// The store's components: the database (under the single-instance lock, checked and salvaged),
// its byte budget, and the group-commit writer. Started first and stopped last: whatever got in
// is written before the database closes.
import { openStoreChecked } from '../store/open-store.js';
import { readSeqSeed } from '../store/seq-seed.js';
import { openOutbox } from '../store/outbox.js';
import { createGroupCommit } from '../store/group-commit.js';
import { createBudget } from '../store/budget.js';
import { lockStore, type StoreLock } from '../store/store-lock.js';
import { upstreamEncoder } from '../wire/render.js';
import { summaryMerger } from '../wire/merge-stored.js';
import type { PipelineSpec, StreamSpecs } from '../stream/stream.js';
import type { Component } from './lifecycle.js';
import type { AgentContext, AgentParts } from './agent-parts.js';

const BUDGET_CHECK_MS = 1000;

export function storeComponent({ config, log, clock, opts }: AgentContext, parts: AgentParts): Component {
  const { storage, device } = config;
  let lock: StoreLock | undefined;
  return {
    name: 'store',
    async start() {
      lock = lockStore(storage.path);
      const opened = await openStoreChecked(storage.path, storage.synchronous, log, device.id, clock());
      parts.db = opts.wrapDatabase ? opts.wrapDatabase(opened.db) : opened.db;
      parts.salvage = opened.salvage;
      parts.outbox = await openOutbox(parts.db);
      parts.firstSeq = await readSeqSeed(parts.db);
    },
    async stop() {
      try {
        await parts.db?.close();
      } finally {
        // Whatever failed, the database is free for the next agent (a reload's, say).
        lock?.release();
      }
    },
  };
}

/** The byte budget, checked once a second (it trims the oldest rows of each class when over). */
export function budgetComponent({ config, log, stats }: AgentContext, parts: AgentParts): Component {
  const { storage, device } = config;
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> | undefined;
  return {
    name: 'storage budget',
    async start() {
      const budget = createBudget({
        db: parts.db!,
        outbox: parts.outbox!,
        merge: summaryMerger(device.id),
        maxBytes: storage.maxBytes,
        journalMaxBytes: storage.journal.maxBytes,
        deadLettersMaxBytes: storage.deadLetters.maxBytes,
        claimed: (kind) => parts.forwarder?.claimed(kind) ?? 0,
        coveredJournalId: () => parts.writer?.checkpointedJournalId() ?? 0,
        requestCheckpoint: () => parts.writer?.requestCheckpoint(),
        counters: stats,
        log,
      });
      parts.budget = budget;
      await budget.configure();
      timer = setInterval(() => {
        checking ??= budget
          .enforce()
          .catch((err: Error) => log.warn({ err: err.message }, 'storage budget check failed'))
          .finally(() => (checking = undefined));
      }, BUDGET_CHECK_MS);
    },
    async stop() {
      clearInterval(timer);
      await checking; // not while the database closes under it
    },
  };
}

/** What the stream is made of, as its checkpoint records it (the pipelines alone without rules, as before them). */
export function streamSpecs(config: Pick<AgentContext['config'], 'pipelines' | 'rules' | 'derived'>): StreamSpecs | PipelineSpec[] {
  return config.rules.length > 0 || config.derived.length > 0 ? { pipelines: config.pipelines, rules: config.rules, derived: config.derived } : config.pipelines;
}

/** Batches readings, summaries, anomalies and dead letters into one transaction per commit. */
export function writerComponent({ config, log, clock }: AgentContext, parts: AgentParts): Component {
  const { storage, device } = config;
  const specs = JSON.stringify(streamSpecs(config));
  return {
    name: 'writer',
    async start() {
      parts.writer = createGroupCommit({
        db: parts.db!,
        outbox: parts.outbox!,
        device: device.id,
        encode: upstreamEncoder(device.id),
        commitIntervalMs: storage.commitInterval,
        quietCommitIntervalMs: storage.quietCommitInterval,
        commitReadings: storage.commitReadings,
        journal: storage.journal.enabled,
        // The byte budget may ask for a checkpoint before recovery has built the stream.
        snapshot: () => (parts.stream ? { specs, state: JSON.stringify(parts.stream.save()) } : undefined),
        clock,
        log,
        onQueued: (anomalies) => parts.forwarder?.wake(anomalies),
        hooks: parts.budget!,
      });
    },
    // Usually a no-op: the stream closed the writer already, before the uplink stopped.
    stop: async () => parts.writer?.close(),
  };
}
