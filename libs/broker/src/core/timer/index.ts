export * from './timer-errors.js';
export { DEFAULT_TIMER_BUCKET_MS, TimerGeometry } from './timer-geometry.js';
export { DELAY, REAL_QID, REAL_TOPIC, TIMER_DELIVER_MS, toScheduleRecord } from './timer-message.js';
export { TIMER_PROGRESS_FILE } from './timer-progress.js';
export {
  TimerService,
  type ScheduleResult,
  type TimerServiceOptions,
  type TimerServiceStats,
  type TimerWindowStats,
} from './timer-service.js';
