/**
 * The prompt SWE-Bench-Pro's official harness gives an agent (see shared reference NOTES.md), byte for byte:
 * `problem_statement + "\n\nRequirements:\n" + requirements + "\n\nNew interfaces introduced:\n" + interface`.
 * Pure.
 */

export interface PromptFields {
  problemStatement: string;
  requirements: string;
  interface: string;
}

export function buildPrompt(task: PromptFields): string {
  return task.problemStatement + '\n\nRequirements:\n' + task.requirements + '\n\nNew interfaces introduced:\n' + task.interface;
}
