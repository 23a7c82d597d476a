#!/usr/bin/env node
// Copies the built runc of this checkout to DIR, readable and executable by
// every user, for the tests that run it as an unprivileged user (the
// rootless tests, `ROOTLESS=1 scripts/runc-suite`): the checkout itself may
// be out of that user's reach (a clone in root's 0700 home, or below a 0700
// directory), and is never chmod-ed for it.
//
//   node scripts/stage-runtime.mjs DIR
//
// DIR gets the checkout's layout for what runc needs at run time, copied
// with symlinks resolved (none may point back into the checkout):
//   packages/cli/bin/, packages/cli/dist/ (without the type declarations),
//   packages/cli/node_modules/ with the packages the bundle loads at run time
//     (the CLI's dependencies from the registry, and theirs),
//   scripts/make-busybox-bundle.
// DIR/packages/cli/bin/runc is the binary. Prints DIR.
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(repo, 'packages/cli');

/** Where Node finds package `name` for code in the (real) directory `from`. */
function findPackage(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function manifest(dir) {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
}

/** Copies a package without its own node_modules, symlinks resolved. */
function copyPackage(source, target) {
  cpSync(source, target, {
    recursive: true,
    dereference: true,
    filter: (path) => path === source || basename(path) !== 'node_modules',
  });
}

/**
 * Copies package `name`, as Node resolves it for the package in the real
 * directory `from` (copied to `fromCopy`), and its dependencies: flat in
 * `base`/node_modules unless another version is nearer to `fromCopy`, then
 * in `fromCopy`/node_modules. `placed` maps each copy to its source.
 */
function copyWithDependencies(name, from, fromCopy, base, placed, optional) {
  const source = findPackage(name, from);
  if (!source) {
    if (optional) return; // an optional dependency for another platform
    throw new Error(`stage-runtime: cannot find the package ${name} (from ${from})`);
  }
  let target = join(base, 'node_modules', name);
  for (let dir = fromCopy; ; dir = dirname(dir)) {
    if (basename(dir) === 'node_modules') continue;
    const there = placed.get(join(dir, 'node_modules', name));
    if (there === source) return; // already found there
    if (there !== undefined) {
      target = join(fromCopy, 'node_modules', name);
      break;
    }
    if (dir === base) break;
  }
  placed.set(target, source);
  copyPackage(source, target);
  const { dependencies = {}, optionalDependencies = {} } = manifest(source);
  for (const dep of Object.keys(dependencies)) {
    copyWithDependencies(dep, source, target, base, placed, false);
  }
  for (const dep of Object.keys(optionalDependencies)) {
    copyWithDependencies(dep, source, target, base, placed, true);
  }
}

/** Everything readable by all, directories and executables searchable by all. */
function openUp(path) {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    chmodSync(path, 0o755);
    for (const entry of readdirSync(path)) openUp(join(path, entry));
    return;
  }
  const executable = (stat.mode & 0o111) !== 0;
  chmodSync(path, (stat.mode & 0o7777 & ~0o022) | 0o444 | (executable ? 0o111 : 0));
}

export function stageRuntime(dest) {
  for (const built of ['bin/runc', 'dist']) {
    if (!existsSync(join(cli, built))) {
      throw new Error(`stage-runtime: ${join(cli, built)} is missing: build first (pnpm build)`);
    }
  }
  const target = join(dest, 'packages/cli');
  mkdirSync(target, { recursive: true });
  cpSync(join(cli, 'bin'), join(target, 'bin'), { recursive: true, dereference: true });
  cpSync(join(cli, 'dist'), join(target, 'dist'), {
    recursive: true,
    dereference: true,
    filter: (path) => path !== join(cli, 'dist/types'),
  });
  const placed = new Map();
  const { dependencies = {} } = manifest(cli);
  for (const [name, range] of Object.entries(dependencies)) {
    if (String(range).startsWith('workspace:')) continue; // inlined in the bundle
    copyWithDependencies(name, realpathSync(cli), target, target, placed, false);
  }
  mkdirSync(join(dest, 'scripts'), { recursive: true });
  cpSync(join(repo, 'scripts/make-busybox-bundle'), join(dest, 'scripts/make-busybox-bundle'));
  openUp(dest);
  if (!statSync(join(target, 'bin/runc')).isFile()) {
    throw new Error(`stage-runtime: ${join(target, 'bin/runc')} is not a file`);
  }
  return dest;
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dest] = process.argv.slice(2);
  if (!dest) {
    process.stderr.write('usage: node scripts/stage-runtime.mjs DIR\n');
    process.exit(2);
  }
  process.stdout.write(`${stageRuntime(resolve(dest))}\n`);
}
