// Fixture for test/architecture/layers.test.ts: a module the platform must not import.
export const demo = 'a module';
