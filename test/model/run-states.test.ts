import { describe, expect, it } from 'vitest';
import { ENDED_RUN_STATES, FINISHED_RUN_STATES, RUN_STATES } from '../../src/domain/types.ts';

describe('run states', () => {
  it('lists every ended state, interrupted included, in the order of the agentdrift_runs_total state labels', () => {
    expect(ENDED_RUN_STATES).toEqual(['completed', 'failed', 'cancelled', 'interrupted', 'skipped', 'budget_exhausted']);
  });

  it('lists as finished (never changing again) every ended state but interrupted, which resumes', () => {
    expect(FINISHED_RUN_STATES).toEqual(['completed', 'failed', 'cancelled', 'skipped', 'budget_exhausted']);
  });

  it('derives both from the one list of run states, leaving out only pending and running', () => {
    expect(RUN_STATES.filter((s) => !ENDED_RUN_STATES.includes(s as never))).toEqual(['pending', 'running']);
  });
});
