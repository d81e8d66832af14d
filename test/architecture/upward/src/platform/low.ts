// Fixture for test/architecture/layers.test.ts: a deliberate upward import.
import { demo } from '../modules/demo/demo.service.js';

export const low = demo;
