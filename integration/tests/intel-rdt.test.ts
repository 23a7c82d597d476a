// linux.intelRdt on a real host: without resctrl, create fails naming the
// field and leaves nothing (the group logic is unit-tested against a fake
// resctrl tree in packages/libcontainer/src/intelrdt.test.ts).
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

const resctrlMounted = readFileSync('/proc/self/mountinfo', 'utf8')
  .split('\n')
  .some((line) => line.split(' - ')[1]?.startsWith('resctrl '));

describe('linux.intelRdt', () => {
  it('fails create clearly where resctrl is not mounted, leaving nothing', (context) => {
    if (resctrlMounted) context.skip('resctrl is mounted here');
    const bundle = sandbox.bundle((spec) => {
      spec.linux!.intelRdt = { closID: 'guaranteed', l3CacheSchema: 'L3:0=f' };
    });
    const id = sandbox.id('rdt');
    const result = sandbox.runc(['run', '-d', '-b', bundle, id]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('linux.intelRdt: the resctrl filesystem is not mounted');
    expect(sandbox.runc(['list', '-q']).stdout).not.toContain(id);
  });
});
