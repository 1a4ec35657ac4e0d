import { describe, expect, it } from 'vitest';
import { parseRow } from '../../src/dataset/row.ts';
import { DatasetRowError } from '../../src/dataset/types.ts';

const ID = 'instance_acme__tool-0123456789abcdef0123456789abcdef01234567-vnan';

function row(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    repo: 'acme/tool',
    instance_id: ID,
    base_commit: '0123456789abcdef0123456789abcdef01234567',
    patch: 'diff --git a/x b/x\n',
    test_patch: 'diff --git a/x_test b/x_test\n',
    problem_statement: 'It breaks.',
    requirements: '- It must not break.',
    interface: 'No new interfaces are introduced.',
    repo_language: 'go',
    fail_to_pass: "['TestA', 'TestB']",
    pass_to_pass: '["TestC"]',
    issue_categories: "['core_feat']",
    issue_specificity: '',
    before_repo_set_cmd: 'git reset --hard 0123456\ngit checkout 0123456 \ngit checkout fedcba9 -- x_test.go\n',
    selected_test_files_to_run: '["TestA", "TestB", "TestC"]',
    dockerhub_tag: 'acme.tool-given-tag',
    ...overrides,
  };
}

function rowError(value: unknown): DatasetRowError {
  try {
    parseRow(value);
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetRowError);
    return e as DatasetRowError;
  }
  throw new Error('parseRow accepted the row');
}

describe('parseRow: a good row', () => {
  it('maps every column onto the task, parsing both list encodings', () => {
    const task = parseRow(row());
    expect(task).toEqual({
      instanceId: ID,
      repo: 'acme/tool',
      baseCommit: '0123456789abcdef0123456789abcdef01234567',
      patch: 'diff --git a/x b/x\n',
      testPatch: 'diff --git a/x_test b/x_test\n',
      problemStatement: 'It breaks.',
      requirements: '- It must not break.',
      interface: 'No new interfaces are introduced.',
      language: 'go',
      failToPass: ['TestA', 'TestB'],
      passToPass: ['TestC'],
      selectedTestFiles: ['TestA', 'TestB', 'TestC'],
      beforeRepoSetCmd: 'git reset --hard 0123456\ngit checkout 0123456 \ngit checkout fedcba9 -- x_test.go\n',
      imageTag: 'acme.tool-given-tag',
      issueCategories: "['core_feat']",
    });
  });
  it('computes the image tag when dockerhub_tag is absent, null or empty', () => {
    const computed = 'acme.tool-acme__tool-0123456789abcdef0123456789abcdef01234567';
    const withoutTag = row();
    delete withoutTag['dockerhub_tag'];
    expect(parseRow(withoutTag).imageTag).toBe(computed);
    expect(parseRow(row({ dockerhub_tag: null })).imageTag).toBe(computed);
    expect(parseRow(row({ dockerhub_tag: '  ' })).imageTag).toBe(computed);
  });
  it('accepts an empty interface and requirements, an empty pass_to_pass and selected list', () => {
    const task = parseRow(row({ interface: '', requirements: '', pass_to_pass: '[]', selected_test_files_to_run: '[]' }));
    expect(task.interface).toBe('');
    expect(task.passToPass).toEqual([]);
    expect(task.selectedTestFiles).toEqual([]);
  });
  it('accepts list columns already decoded into arrays of strings', () => {
    expect(parseRow(row({ pass_to_pass: ['x', 'y'] })).passToPass).toEqual(['x', 'y']);
  });
  it('ignores unknown extra columns', () => {
    expect(parseRow(row({ extra: 42 })).instanceId).toBe(ID);
  });
});

describe('parseRow: refusals name the task, the column and the reason', () => {
  it('refuses something that is not an object', () => {
    const e = rowError(['a']);
    expect(e.column).toBe('(row)');
    expect(e.message).toMatch(/expected an object of columns, got an array/);
  });
  it('refuses a missing, empty or unsafe instance_id, without an id to name', () => {
    const missing = row();
    delete missing['instance_id'];
    expect(rowError(missing)).toMatchObject({ instanceId: undefined, column: 'instance_id', reason: 'missing' });
    expect(rowError(row({ instance_id: ' ' }))).toMatchObject({ column: 'instance_id', reason: 'is empty' });
    expect(rowError(row({ instance_id: '../etc/passwd' })).reason).toMatch(/expected letters, digits/);
    expect(rowError(row({ instance_id: 7 })).reason).toMatch(/expected a string, got a number/);
  });
  it('refuses a missing required column', () => {
    for (const column of ['repo', 'base_commit', 'patch', 'test_patch', 'problem_statement', 'requirements', 'interface', 'before_repo_set_cmd']) {
      const r = row();
      delete r[column];
      const e = rowError(r);
      expect(e).toMatchObject({ instanceId: ID, column, reason: 'missing' });
      expect(e.message).toBe(`task ${ID}: column ${column}: missing`);
    }
  });
  it('refuses an empty required column', () => {
    for (const column of ['repo', 'patch', 'test_patch', 'problem_statement', 'before_repo_set_cmd', 'fail_to_pass', 'pass_to_pass']) {
      expect(rowError(row({ [column]: '  ' }))).toMatchObject({ instanceId: ID, column, reason: 'is empty' });
    }
  });
  it('refuses null and non-string values', () => {
    expect(rowError(row({ patch: null }))).toMatchObject({ column: 'patch', reason: 'is null' });
    expect(rowError(row({ problem_statement: 12 })).reason).toMatch(/expected a string, got a number/);
    expect(rowError(row({ issue_categories: 3 })).column).toBe('issue_categories');
  });
  it('refuses a repository that is not owner/name and a base commit that is not a hash', () => {
    expect(rowError(row({ repo: 'tool' }))).toMatchObject({ column: 'repo' });
    expect(rowError(row({ base_commit: 'main' })).reason).toMatch(/expected a lower-case hex commit hash, got "main"/);
  });
  it('refuses an unknown language, listing the allowed ones', () => {
    expect(rowError(row({ repo_language: 'rust' })).reason).toBe('expected one of python, go, js, ts, got "rust"');
    expect(rowError(row({ repo_language: 'Go' })).column).toBe('repo_language');
  });
  it('refuses a list column that is not a list, quoting the value', () => {
    const e = rowError(row({ fail_to_pass: 'TestA, TestB' }));
    expect(e.column).toBe('fail_to_pass');
    expect(e.message).toMatch(/^task instance_acme__tool-.*: column fail_to_pass: not a list of strings: expected a list starting with "\[", got "TestA, TestB"; value "TestA, TestB"$/);
  });
  it('refuses code in a list column', () => {
    const e = rowError(row({ pass_to_pass: "[__import__('os').system('rm -rf /')]" }));
    expect(e.column).toBe('pass_to_pass');
    expect(e.reason).toMatch(/element 0 is not a string literal/);
  });
  it('refuses an empty fail_to_pass list and empty test names', () => {
    expect(rowError(row({ fail_to_pass: '[]' })).reason).toMatch(/is an empty list/);
    expect(rowError(row({ pass_to_pass: "['a', ' ']" })).reason).toBe('element 1 is an empty test name');
  });
  it('refuses a decoded array holding a non-string', () => {
    expect(rowError(row({ selected_test_files_to_run: ['a', 1] }))).toMatchObject({
      column: 'selected_test_files_to_run',
      reason: 'element 1 is a number (1), expected a string',
    });
  });
  it('refuses an invalid dockerhub_tag', () => {
    expect(rowError(row({ dockerhub_tag: 'has space' })).column).toBe('dockerhub_tag');
    expect(rowError(row({ dockerhub_tag: 'x'.repeat(129) })).column).toBe('dockerhub_tag');
  });
});

