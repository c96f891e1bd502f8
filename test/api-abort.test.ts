/**
 * A timer's abort ends a long library prune inside its tolerance search, not when the stage (or the whole prune)
 * ends: the search pauses between its queries (prunePaused) so that the timer fires, and the signal is checked
 * there; a census sees it between its rounds. The assertions are about work, not clocks: after the timer fires, at
 * most the query then running and the next are reported, and the prune never reaches its later stages (the census
 * after the changes, the final check); the census never starts the finishing tasks the same census runs unaborted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { census, defaultModel, makeBox, NnsError, prune } from '../src/index.ts';
import { randomNetwork } from './helpers/nets.ts';

test('an abort from a timer during the tolerance search ends the prune at the next query, before its later stages', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnshrink-abort-'));
  const ctl = new AbortController();
  const stages: string[] = [];
  let armed = false;
  let fired = false;
  let afterAbort = 0;
  // the default network on the unit box within 0.1: about 25 tolerance queries in its 10 s budget, one at a time
  const run = prune(defaultModel(), {
    output: join(dir, 'p.onnx'),
    domain: makeBox([0, 0, 0, 0, 0], [1, 1, 1, 1, 1]),
    tolerance: { kind: 'linf', epsilon: 0.1 },
    timeoutMs: 1000,
    signal: ctl.signal,
    onProgress: (p) => {
      if (!stages.includes(p.stage)) stages.push(p.stage);
      if (!p.stage.startsWith('tolerance search')) return;
      if (fired) afterAbort++;
      // the abort comes from a timer (the event loop), 300 ms into the search, as AbortSignal.timeout's would
      else if (!armed) {
        armed = true;
        setTimeout(() => {
          fired = true;
          ctl.abort(new Error('timer'));
        }, 300);
      }
    },
  });
  await assert.rejects(run, (e: unknown) => e instanceof NnsError && e.code === 'aborted' && e.name === 'AbortError');
  assert.ok(fired, 'the timer fired while the prune ran');
  assert.ok(afterAbort <= 2, `${afterAbort} tolerance queries reported after the abort`);
  assert.ok(!stages.some((s) => s.startsWith('final check') || s.startsWith('phase census after')), `no later stage: ${stages.join(', ')}`);
});

test('an abort from a timer during a census\'s shared tree ends it before its finishing tasks', async () => {
  const network = randomNetwork(3, [5, 64, 64, 64, 64, 3]);
  const box = makeBox([0, 0, 0, 0, 0], [1, 1, 1, 1, 1]);
  // a tree cut by a work limit (2,000 boxes: about 2 s of work, 45 of 256 neurons still open after 400) leaves
  // neurons open on any machine, so unaborted the census runs finishing tasks; the 300 ms timer fires inside the tree
  const opts = { timeoutMs: 120_000, maxBoxes: 2000, finishTasks: 2, finishTaskMs: 300 };
  const stagesOf = async (signal?: AbortSignal): Promise<{ stages: Set<string>; error?: unknown }> => {
    const stages = new Set<string>();
    try {
      await census(network, box, { ...opts, ...(signal ? { signal } : {}), onProgress: (p) => stages.add(p.stage) });
      return { stages };
    } catch (error) {
      return { stages, error };
    }
  };
  const whole = await stagesOf();
  assert.ok(whole.stages.has('phase census (finishing open neurons)'), 'unaborted, the census runs finishing tasks');
  const cut = await stagesOf(AbortSignal.timeout(300));
  assert.ok(cut.error instanceof NnsError && cut.error.code === 'aborted', String(cut.error));
  assert.ok(!cut.stages.has('phase census (finishing open neurons)'), 'aborted, no finishing task starts');
});
