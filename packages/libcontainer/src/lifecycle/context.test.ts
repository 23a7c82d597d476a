import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CgroupState } from '@runc-ts/cgroups';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verbContext } from './context.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'runc-ts-verb-context-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const fs2: CgroupState = { driver: 'fs2', paths: { '': '/sys/fs/cgroup/runc-ts-no-such' } };

describe('verbContext', () => {
  it("'none': a host that refuses to reach a cgroup", async () => {
    const context = await verbContext({ root }, 'none');
    expect(() => context.host.cgroup(fs2)).toThrow(/without the cgroup drivers/);
    expect(context.host.prepareCgroup).toBeUndefined();
  });

  it("'stored': the driver the state names, once prepared", async () => {
    const { host } = await verbContext({ root }, 'stored');
    expect(host.cgroup(undefined)).toBeUndefined();
    expect(() => host.cgroup(fs2)).toThrow(/before prepareCgroup/);
    await host.prepareCgroup?.(fs2);
    expect(host.cgroup(fs2)?.state()).toEqual(fs2);
    expect(host.cgroup(fs2)).toBe(host.cgroup(fs2));
  });

  it("'all': every driver, no preparation needed", async () => {
    const { host } = await verbContext({ root }, 'all');
    expect(host.cgroup(fs2)?.state()).toEqual(fs2);
  });

  it('reports warnings through the warn option, and the given executor path', async () => {
    const warnings: string[] = [];
    const context = await verbContext(
      { root, initPath: '/x/runc-ts-init', warn: (message) => warnings.push(message) },
      'none',
    );
    context.report({ code: 'HOOK', message: 'poststart failed' });
    expect(warnings).toEqual(['poststart failed']);
    expect(await context.executorPath()).toBe('/x/runc-ts-init');
  });
});
