import { describe, expect, it } from 'vitest';
import { decideOutcome, parseGradingOutput } from '../../src/grading/outcome.ts';

const out = (tests: Array<{ name: string; status: string }>) => JSON.stringify({ tests });
const F2P = ['t::a', 't::b'];
const P2P = ['t::c'];

describe('decideOutcome', () => {
  it('resolves when every fail_to_pass and pass_to_pass test PASSED', () => {
    const d = decideOutcome(
      out([
        { name: 't::a', status: 'PASSED' },
        { name: 't::b', status: 'PASSED' },
        { name: 't::c', status: 'PASSED' },
        { name: 't::unlisted', status: 'FAILED' },
      ]),
      F2P,
      P2P,
    );
    expect(d).toMatchObject({ resolved: true, missing: [], failed: [] });
    expect(d.reason).toMatch(/all 3 listed tests passed/);
    expect(d.output?.tests).toHaveLength(4);
  });

  it('is not resolved when a fail_to_pass test failed, naming it', () => {
    const d = decideOutcome(
      out([
        { name: 't::a', status: 'PASSED' },
        { name: 't::b', status: 'FAILED' },
        { name: 't::c', status: 'PASSED' },
      ]),
      F2P,
      P2P,
    );
    expect(d.resolved).toBe(false);
    expect(d.failed).toEqual([{ name: 't::b', status: 'FAILED' }]);
    expect(d.reason).toContain('t::b (FAILED)');
  });

  it('is not resolved when a pass_to_pass test broke, or errored, or was skipped', () => {
    for (const status of ['FAILED', 'ERROR', 'SKIPPED', 'passed', 'XFAIL']) {
      const d = decideOutcome(
        out([
          { name: 't::a', status: 'PASSED' },
          { name: 't::b', status: 'PASSED' },
          { name: 't::c', status },
        ]),
        F2P,
        P2P,
      );
      expect(d.resolved, status).toBe(false);
      expect(d.failed).toEqual([{ name: 't::c', status }]);
    }
  });

  it('is not resolved when a listed test is missing from the output', () => {
    const d = decideOutcome(out([{ name: 't::a', status: 'PASSED' }, { name: 't::c', status: 'PASSED' }]), F2P, P2P);
    expect(d.resolved).toBe(false);
    expect(d.missing).toEqual(['t::b']);
    expect(d.reason).toContain('missing from output: t::b');
  });

  it('counts a test as passed when any entry of its name PASSED (as the official harness)', () => {
    const d = decideOutcome(
      out([
        { name: 't::a', status: 'FAILED' },
        { name: 't::a', status: 'PASSED' },
        { name: 't::b', status: 'PASSED' },
        { name: 't::c', status: 'PASSED' },
      ]),
      F2P,
      P2P,
    );
    expect(d.resolved).toBe(true);
  });

  it('without output.json is not resolved', () => {
    for (const raw of [null, undefined]) {
      const d = decideOutcome(raw, F2P, P2P);
      expect(d.resolved).toBe(false);
      expect(d.reason).toMatch(/no output\.json/);
    }
  });

  it('a malformed output.json is not resolved, with a clear reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['{"tests": [', /malformed output\.json: not JSON/],
      ['[]', /not a JSON object/],
      ['{"results": []}', /no "tests" array/],
      ['{"tests": [{"name": "t::a"}]}', /tests\[0\]/],
      ['{"tests": [{"name": 1, "status": "PASSED"}]}', /tests\[0\]/],
      ['', /not JSON/],
    ];
    for (const [raw, reason] of cases) {
      const d = decideOutcome(raw, F2P, P2P);
      expect(d.resolved, raw).toBe(false);
      expect(d.reason, raw).toMatch(reason);
      expect(d.output).toBeNull();
    }
  });

  it('reads Buffers and shortens long lists in the reason', () => {
    const names = Array.from({ length: 12 }, (_, i) => `t::n${i}`);
    const d = decideOutcome(Buffer.from(out([])), names, []);
    expect(d.missing).toHaveLength(12);
    expect(d.reason).toContain('and 7 more');
    expect(d.reason).toMatch(/^12 of 12 listed tests did not pass/);
  });
});

describe('parseGradingOutput', () => {
  it('accepts the parser format', () => {
    expect(parseGradingOutput('{"tests":[{"name":"x","status":"PASSED"}]}')).toEqual({ output: { tests: [{ name: 'x', status: 'PASSED' }] } });
  });
});
