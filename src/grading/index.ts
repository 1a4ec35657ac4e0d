export * from './script.ts';
export * from './outcome.ts';
export * from './grade.ts';
