export { spiral, type Dataset2D } from './spiral.js';
