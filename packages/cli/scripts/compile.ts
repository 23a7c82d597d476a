// Build step (run by Bun): compiles the CLI into bin/runc, a single
// executable with Bun's runtime and the program as bytecode, and puts the
// executor beside it. Same sources as the Node bundle (tsup.config.ts).
//   bun scripts/compile.ts
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

declare const Bun: {
  build(options: Record<string, unknown>): Promise<{
    success: boolean;
    logs: unknown[];
  }>;
};

interface PluginBuilder {
  onResolve(
    options: { filter: RegExp },
    callback: (args: { path: string; importer: string }) => { path: string } | undefined,
  ): void;
  onLoad(
    options: { filter: RegExp },
    callback: (args: { path: string }) => { contents: string; loader: string } | undefined,
  ): void;
}

const cli = join(import.meta.dir, '..');
const bin = join(cli, 'bin');

function gitCommit(): string {
  try {
    const git = (args: string[]) =>
      execFileSync('git', args, { cwd: cli, encoding: 'utf8' }).trim();
    const sha = git(['rev-parse', '--short=12', 'HEAD']);
    return git(['status', '--porcelain', '--untracked-files=no']) ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

const { version } = JSON.parse(readFileSync(join(cli, 'package.json'), 'utf8')) as {
  version: string;
};

/**
 * libc.ts reaches bun:ffi through bun-ffi.ts (Bun's require, ~0.8 ms);
 * in the compiled runc through bun-ffi-static.ts, a static import (~0.1 ms).
 */
const staticBunFfi = {
  name: 'static-bun-ffi',
  setup(build: PluginBuilder) {
    build.onResolve({ filter: /^\.\/bun-ffi\.js$/ }, ({ importer }) =>
      importer.endsWith('/cgroups/src/libc.ts')
        ? { path: join(cli, '../cgroups/src/bun-ffi-static.ts') }
        : undefined,
    );
  },
};

const options = {
  entrypoints: [join(cli, 'src/main.ts')],
  plugins: [staticBunFfi],
  format: 'esm',
  target: 'bun',
  conditions: ['source'],
  // Loaded by the Node build only (never under Bun): see libseccomp-koffi.ts.
  external: ['koffi'],
  // Each lazily imported part (create, exec, seccomp, D-Bus...) becomes its
  // own chunk: Bun then loads at start-up only the chunks a command imports,
  // not the bytecode of the whole CLI (~1 ms of every call).
  splitting: true,
  define: {
    __RUNC_TS_VERSION__: JSON.stringify(version),
    __RUNC_TS_COMMIT__: JSON.stringify(gitCommit()),
    __RUNC_TS_COMPILED__: 'true',
  },
};

/**
 * JavaScriptCore's JIT tier-up thresholds, scaled (Bun's compile.jitPolicy):
 * a runc command runs most of its code once, and compiling it to machine
 * code costs more than it saves. With 10, measured against 1 (interleaved
 * runs, median CPU): state 9.6 -> 9.0 ms, exec 22.6 -> 20.1 ms, run
 * 48 -> 43 ms, and 2.5 MiB less peak RSS for run and exec.
 */
const JIT_POLICY = 10;

/**
 * Test build (`--trace-modules DIR`): a plain bundle in DIR whose every
 * module records, when its top level runs, that it was initialised; at exit
 * the list goes to $RUNC_TS_TRACE_MODULES. Same bundler, same lazy
 * boundaries as the executable (startup-graph.test.ts reads it).
 */
const traceModules = {
  name: 'trace-modules',
  setup(
    build: PluginBuilder & {
      onLoad(
        options: { filter: RegExp },
        callback: (args: { path: string }) => { contents: string; loader: string } | undefined,
      ): void;
    },
  ) {
    build.onLoad({ filter: /\.(ts|js|cjs|mjs)$/ }, ({ path }) => {
      const source = readFileSync(path, 'utf8');
      const record = `\n;(globalThis.__runcTsModules ??= []).push(${JSON.stringify(path)});\n`;
      const loader = path.endsWith('.ts') ? 'ts' : 'js';
      if (path.endsWith('/src/main.ts')) {
        // Written at exit, and before src/main.ts's reallyExit (which skips 'exit').
        const exit = [
          'const __runcTsTrace = () => require("node:fs").writeFileSync(process.env.RUNC_TS_TRACE_MODULES, JSON.stringify(globalThis.__runcTsModules));',
          'process.on("exit", __runcTsTrace);',
          'const __runcTsReallyExit = process.reallyExit;',
          'process.reallyExit = (code) => { __runcTsTrace(); __runcTsReallyExit.call(process, code); };',
          '',
        ].join('\n');
        return { contents: exit + record + source, loader };
      }
      // After an ES module's body; a CommonJS module's body runs when required.
      return { contents: source + record, loader };
    });
  },
};

const traceIndex = process.argv.indexOf('--trace-modules');
if (traceIndex >= 0) {
  const outdir = process.argv[traceIndex + 1];
  if (!outdir) throw new Error('--trace-modules needs a directory');
  const result = await Bun.build({ ...options, outdir, plugins: [staticBunFfi, traceModules] });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    process.exit(1);
  }
  process.exit(0);
}

/**
 * Timing build (`--timing FILE`): the executable with scripts/timing/main.ts
 * as its entry, which prints where a command's time went (see
 * scripts/profile-startup). Never the shipped `runc`.
 */
const timingIndex = process.argv.indexOf('--timing');
if (timingIndex >= 0) {
  const timingOut = process.argv[timingIndex + 1];
  if (!timingOut) throw new Error('--timing needs an output file');
  const result = await Bun.build({
    ...options,
    entrypoints: [join(cli, 'scripts/timing/main.ts')],
    compile: {
      outfile: timingOut,
      autoloadDotenv: false,
      autoloadBunfig: false,
      autoloadTsconfig: false,
      autoloadPackageJson: false,
      jitPolicy: JIT_POLICY,
    },
    bytecode: true,
    minify: true,
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    process.exit(1);
  }
  process.exit(0);
}

const outfile = join(bin, 'runc.new');
const result = await Bun.build({
  ...options,
  compile: {
    outfile,
    // A Bun executable reads .env and bunfig.toml from its working directory
    // (and may read tsconfig.json and package.json there) by default; runc
    // runs in the bundle directory (containerd's choice), whose contents
    // must never set our environment, preload code or change resolution.
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
    jitPolicy: JIT_POLICY,
  },
  bytecode: true,
  minify: true,
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  rmSync(outfile, { force: true });
  process.exit(1);
}
renameSync(outfile, join(bin, 'runc'));
chmodSync(join(bin, 'runc'), 0o755);
copyFileSync(join(cli, '../../native/build/runc-ts-init'), join(bin, 'runc-ts-init'));
chmodSync(join(bin, 'runc-ts-init'), 0o755);
