export { buildProgram, VERSION } from './program.js';
