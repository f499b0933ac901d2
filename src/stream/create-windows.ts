// A pipeline's windows from its spec: one kind per file (aligned: tumbling and hopping;
// count: tumbling and sliding; session), all behind the Windows contract (windows.ts).
import { createAlignedWindows } from './aligned-windows.js';
import { createCountWindows } from './count-windows.js';
import { createSessionWindows } from './session-windows.js';
import type { Windows } from './windows.js';

/**
 * tumbling/hopping: `size` ms every `step` ms (default step = size); count: the last `size`
 * readings every `step` readings (default step = size);
 * session: readings no more than `gap` ms apart. `lateness` ms for all but count.
 */
export type WindowSpec =
  | { type?: 'tumbling'; size: number; lateness: number }
  | { type: 'hopping'; size: number; step: number; lateness: number }
  | { type: 'count'; size: number; step?: number }
  | { type: 'session'; gap: number; lateness: number };

export function createWindows(w: WindowSpec, quantiles: boolean, saved?: unknown): Windows {
  switch (w.type) {
    case 'count':
      return createCountWindows({ size: w.size, step: w.step, quantiles }, saved);
    case 'session':
      return createSessionWindows({ gapMs: w.gap, latenessMs: w.lateness, quantiles }, saved);
    case 'hopping':
      return createAlignedWindows({ sizeMs: w.size, stepMs: w.step, latenessMs: w.lateness, quantiles }, saved);
    default:
      return createAlignedWindows({ sizeMs: w.size, latenessMs: w.lateness, quantiles }, saved);
  }
}

