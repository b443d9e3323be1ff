/** Every workflow the clinical worker runs (the bundle's entry point). */
export { selfTestWorkflow } from './self-test';
