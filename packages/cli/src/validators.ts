// The document validators the CLI itself uses (exec --process, update
// --resources), behind one small module that commands import lazily: a
// dynamic import of '@runc-ts/spec' itself would pull in its whole
// namespace, zod schemas included.
export { parseProcess, parseResources } from '@runc-ts/spec';
