// Parts of the API whose modules are heavy (the planner's tables, seccomp,
// the spec template), exported as async functions that load them on first
// call. A bundle initialises every module a package index re-exports that
// the bundle uses anywhere, so the index must not re-export them directly:
// `runc state` would pay for them (packages/cli/src/startup-graph.test.ts).
import type { Features, Spec } from '@runc-ts/spec';
import type { BuildInfo } from './features.js';
import type { WriteSpecOptions } from './spec-file.js';

/** `runc features`: what this build implements, as runtime-spec features JSON. */
export async function runtimeFeatures(build: BuildInfo): Promise<Features> {
  return (await import('./features.js')).runtimeFeatures(build);
}

/** The config.json `runc spec` writes (`rootless`: `runc spec --rootless`'s). */
export async function starterSpec(rootless = false): Promise<Spec> {
  return (await import('./spec-file.js')).starterSpec(rootless);
}

/** `runc spec`: writes the starter config.json into the bundle; returns its path. */
export async function writeStarterSpec(options: WriteSpecOptions): Promise<string> {
  return (await import('./spec-file.js')).writeStarterSpec(options);
}

/** `runc create --dry-run` / `runc run --dry-run`: the checked plan, nothing made. */
export async function dryRunCreate(
  runtime: import('./container.js').Runtime,
  id: string,
  options: import('./dry-run.js').DryRunOptions,
): Promise<import('./dry-run.js').DryRunReport> {
  return (await import('./dry-run.js')).dryRunCreate(runtime, id, options);
}
