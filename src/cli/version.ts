/** repro's version, as package.json says it (test/cli/start-up.test.ts checks they agree). */
export const VERSION = '0.1.0';
