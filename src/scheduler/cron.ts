/**
 * Schedule arithmetic on top of node-cron (pure apart from the clock passed in).
 */
import cron from 'node-cron';

export interface Schedule {
  cron: string;
  timezone: string;
}

/** The next `count` instants the schedule fires after `now`. */
export function nextRuns(schedule: Schedule, count = 1): Date[] {
  const task = cron.createTask(schedule.cron, () => undefined, { timezone: schedule.timezone });
  try {
    return task.getNextRuns(count);
  } finally {
    void task.destroy();
  }
}
