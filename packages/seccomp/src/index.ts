// @runc-ts/seccomp: an OCI linux.seccomp object compiled to the BPF program
// runc-ts-init loads, through the system libseccomp (koffi under Node,
// bun:ffi in the compiled runc).
// Nothing here loads an FFI or libseccomp until a function needs them.

export { decodeProgram, type Insn, runFilter, type SeccompData } from './bpf.js';
export {
  type CompiledSeccomp,
  type CompileOptions,
  compileSeccomp,
  exportPfc,
  validateSeccomp,
} from './compile.js';
export { SECCOMP_FILTER_FLAG, SECCOMP_RET } from './constants.js';
export { SeccompError, type SeccompErrorCode } from './errors.js';
export { type SeccompFeatures, seccompFeatures } from './features.js';
export {
  type LibseccompLocation,
  libseccompVersion,
  locateLibseccomp,
} from './locate.js';
