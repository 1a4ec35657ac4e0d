export * from './script.js';
export * from './outcome.js';
export * from './grade.js';
