/**
 * Strict parsing of one SWE-Bench-Pro dataset row (16 string columns) into a Task. Pure: no I/O.
 * Every refusal is a DatasetRowError naming the task, the column and what is wrong.
 */
import { computeImageTag, TAG_PATTERN } from './image.ts';
import { excerpt, ListLiteralError, parseStringList } from './lists.ts';
import { DatasetRowError, LANGUAGES, type Language, type Task } from './types.ts';

/** The dataset's columns, in the dataset's order. */
export const COLUMNS = [
  'repo',
  'instance_id',
  'base_commit',
  'patch',
  'test_patch',
  'problem_statement',
  'requirements',
  'interface',
  'repo_language',
  'fail_to_pass',
  'pass_to_pass',
  'issue_categories',
  'issue_specificity',
  'before_repo_set_cmd',
  'selected_test_files_to_run',
  'dockerhub_tag',
] as const;
export type Column = (typeof COLUMNS)[number];

/** Columns that must be present and not empty. */
export const NON_EMPTY_COLUMNS: readonly Column[] = [
  'repo',
  'instance_id',
  'base_commit',
  'patch',
  'test_patch',
  'problem_statement',
  'repo_language',
  'fail_to_pass',
  'pass_to_pass',
  'before_repo_set_cmd',
  'selected_test_files_to_run',
];
/** Columns that must be present but may be the empty string. */
export const PRESENT_COLUMNS: readonly Column[] = ['requirements', 'interface'];
/** Columns that may be absent, null or empty. */
export const OPTIONAL_COLUMNS: readonly Column[] = ['issue_categories', 'issue_specificity', 'dockerhub_tag'];

/**
 * Instance ids become directory names and URL path segments, so they are restricted to letters, digits, '.', '_'
 * and '-' (every public id fits).
 */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const REPO_PATTERN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const COMMIT_PATTERN = /^[0-9a-f]{7,40}$/;

/** Parse one row (an object whose keys are the dataset's column names). Unknown extra keys are ignored. */
export function parseRow(row: unknown): Task {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) {
    throw new DatasetRowError(undefined, '(row)', `expected an object of columns, got ${describe(row)}`);
  }
  const r = row as Record<string, unknown>;
  const instanceId = readInstanceId(r);
  const fail = (column: string, reason: string): never => {
    throw new DatasetRowError(instanceId, column, reason);
  };

  const text = (column: Column): string => {
    const v = r[column];
    if (v === undefined) return fail(column, 'missing');
    if (v === null) return fail(column, 'is null');
    if (typeof v !== 'string') return fail(column, `expected a string, got ${describe(v)}`);
    if (NON_EMPTY_COLUMNS.includes(column) && v.trim() === '') return fail(column, 'is empty');
    return v;
  };
  const optional = (column: Column): string | undefined => {
    const v = r[column];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') return fail(column, `expected a string, got ${describe(v)}`);
    return v.trim() === '' ? undefined : v;
  };
  const list = (column: Column): string[] => {
    const v = r[column];
    // A reader that already decoded the list (e.g. a JSONL written from pandas) is accepted if it is all strings.
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        if (typeof item !== 'string') fail(column, `element ${i} is ${describe(item)}, expected a string`);
      });
      return v as string[];
    }
    const s = text(column);
    try {
      return parseStringList(s);
    } catch (e) {
      if (e instanceof ListLiteralError) return fail(column, `not a list of strings: ${e.message}; value ${excerpt(s)}`);
      throw e;
    }
  };

  const repo = text('repo').trim();
  if (!REPO_PATTERN.test(repo)) fail('repo', `expected owner/name, got ${excerpt(repo)}`);
  const baseCommit = text('base_commit').trim();
  if (!COMMIT_PATTERN.test(baseCommit)) fail('base_commit', `expected a lower-case hex commit hash, got ${excerpt(baseCommit)}`);

  const languageText = text('repo_language').trim();
  if (!(LANGUAGES as readonly string[]).includes(languageText)) {
    fail('repo_language', `expected one of ${LANGUAGES.join(', ')}, got ${excerpt(languageText)}`);
  }
  const language = languageText as Language;

  const failToPass = list('fail_to_pass');
  if (failToPass.length === 0) fail('fail_to_pass', 'is an empty list: a task needs at least one test that must start passing');
  const passToPass = list('pass_to_pass');
  const selectedTestFiles = list('selected_test_files_to_run');
  checkTestNames(failToPass, 'fail_to_pass', fail);
  checkTestNames(passToPass, 'pass_to_pass', fail);
  checkTestNames(selectedTestFiles, 'selected_test_files_to_run', fail);

  const beforeRepoSetCmd = text('before_repo_set_cmd');

  const givenTag = optional('dockerhub_tag')?.trim();
  if (givenTag !== undefined && !TAG_PATTERN.test(givenTag)) {
    fail('dockerhub_tag', `not a valid image tag (letters, digits, '_', '.', '-', at most 128): ${excerpt(givenTag)}`);
  }
  const imageTag = givenTag ?? computeImageTag(instanceId, repo);

  const task: Task = {
    instanceId,
    repo,
    baseCommit,
    patch: text('patch'),
    testPatch: text('test_patch'),
    problemStatement: text('problem_statement'),
    requirements: text('requirements'),
    interface: text('interface'),
    language,
    failToPass,
    passToPass,
    selectedTestFiles,
    beforeRepoSetCmd,
    imageTag,
  };
  const issueCategories = optional('issue_categories');
  if (issueCategories !== undefined) task.issueCategories = issueCategories;
  const issueSpecificity = optional('issue_specificity');
  if (issueSpecificity !== undefined) task.issueSpecificity = issueSpecificity;
  return task;
}

function readInstanceId(r: Record<string, unknown>): string {
  const v = r['instance_id'];
  if (v === undefined || v === null) throw new DatasetRowError(undefined, 'instance_id', 'missing');
  if (typeof v !== 'string') throw new DatasetRowError(undefined, 'instance_id', `expected a string, got ${describe(v)}`);
  const id = v.trim();
  if (id === '') throw new DatasetRowError(undefined, 'instance_id', 'is empty');
  if (!INSTANCE_ID_PATTERN.test(id) || id.length > 255) {
    throw new DatasetRowError(
      undefined,
      'instance_id',
      `expected letters, digits, '.', '_' or '-' (it names files and URLs), got ${excerpt(id)}`,
    );
  }
  return id;
}

function checkTestNames(names: string[], column: string, fail: (column: string, reason: string) => never): void {
  // Repeated names are kept: some JavaScript suites really have two tests of the same name.
  names.forEach((name, i) => {
    if (name.trim() === '') fail(column, `element ${i} is an empty test name`);
  });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${excerpt(v)}`;
  if (typeof v === 'object') return 'an object';
  const shown = String(v);
  return `a ${typeof v} (${shown.length > 30 ? shown.slice(0, 30) + '…' : shown})`;
}
