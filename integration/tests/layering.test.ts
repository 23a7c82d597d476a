import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/runc.js';

// The layer order of docs/architecture.md: a package may depend only on packages listed
// before it. tsc -b enforces it through project references (a package
// without a reference cannot import another); this test keeps the
// references and package.json dependencies in that order.
const LAYERS = ['spec', 'cgroups', 'seccomp', 'namespaces', 'libcontainer', 'cli'];

const packages = readdirSync(join(repoRoot, 'packages')).filter((name) =>
  existsSync(join(repoRoot, 'packages', name, 'package.json')),
);

const readJson = (...parts: string[]) => JSON.parse(readFileSync(join(repoRoot, ...parts), 'utf8'));

describe('layering', () => {
  it('every package is a known layer', () => {
    for (const name of packages) expect(LAYERS, name).toContain(name);
  });

  it.each(packages)('%s depends only on lower layers', (name) => {
    const manifest = readJson('packages', name, 'package.json');
    expect(manifest.name).toBe(`@runc-ts/${name}`);
    // @runc-ts/native is the C executor (built by make, no TypeScript).
    const deps = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })
      .filter((dep) => dep.startsWith('@runc-ts/') && dep !== '@runc-ts/native')
      .map((dep) => dep.slice('@runc-ts/'.length));
    const references = (readJson('packages', name, 'tsconfig.json').references ?? []).map(
      (ref: { path: string }) => ref.path.replace('../', ''),
    );
    for (const dep of [...deps, ...references]) {
      expect(LAYERS.indexOf(dep), `${name} -> ${dep}`).toBeLessThan(LAYERS.indexOf(name));
    }
    expect(references.sort()).toEqual(deps.sort());
  });

  it('each package has one public entry, src/index.ts', () => {
    for (const name of packages) {
      const manifest = readJson('packages', name, 'package.json');
      expect(Object.keys(manifest.exports), name).toEqual(['.']);
      expect(manifest.exports['.'].source).toBe('./src/index.ts');
    }
  });

  // The build's tsconfig.json compiles src/ into the published declarations
  // (dist/types); tests and their helpers belong to tsconfig.test.json.
  it.each(packages)('%s keeps tests and test helpers out of its published src/', (name) => {
    const tsconfig = readJson('packages', name, 'tsconfig.json');
    expect(tsconfig.include).toEqual(['src']);
    expect(tsconfig.exclude).toEqual(['src/**/*.test.ts']);
    const helpers = (
      readdirSync(join(repoRoot, 'packages', name, 'src'), { recursive: true }) as string[]
    )
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
      .filter((file) => {
        const text = readFileSync(join(repoRoot, 'packages', name, 'src', file), 'utf8');
        return (
          /from 'vitest'/.test(text) || /(^|\/)(test-|fake-)[^/]*$|(^|\/)golden\.ts$/.test(file)
        );
      });
    expect(helpers).toEqual([]);
  });
});
