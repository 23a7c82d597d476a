// The library as a Node program embeds it (docs/api.md): the worked example
// runs as written, and Runtime's promises hold against real containers:
// stdio as given, no signal handlers unless asked, aborts that kill and
// clean up, events as an async iterable.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { ContainerError, type ContainerEvent, Runtime } from '@runc-ts/libcontainer';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/runc.js';
import { leftovers, Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

/** The first block of `lang` under the heading `heading` of docs/api.md. */
function apiDocBlock(heading: string, lang: string): string {
  const text = readFileSync(join(repoRoot, 'docs/api.md'), 'utf8');
  const section = text.split(/^## /m).find((part) => part.startsWith(`${heading}\n`));
  const match = section && new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(section);
  if (!match?.[1]) throw new Error(`docs/api.md: no ${lang} block under "## ${heading}"`);
  return match[1];
}

function signalListeners(): number {
  return ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH']
    .map((signal) => process.listenerCount(signal))
    .reduce((a, b) => a + b, 0);
}

describe('docs/api.md', () => {
  it('the worked example runs as written and prints what the page says', () => {
    const program = apiDocBlock('Worked example', 'js');
    const printed = /prints:\n\n```\n([\s\S]*?)^```$/m
      .exec(readFileSync(join(repoRoot, 'docs/api.md'), 'utf8'))?.[1]
      ?.trimEnd();
    expect(printed).toBeDefined();
    const dir = join(sandbox.dir, 'example');
    // A project where @runc-ts/libcontainer is this build (as npm would install it).
    mkdirSync(join(dir, 'node_modules', '@runc-ts'), { recursive: true });
    symlinkSync(
      join(repoRoot, 'packages/libcontainer'),
      join(dir, 'node_modules', '@runc-ts', 'libcontainer'),
    );
    writeFileSync(join(dir, 'example.mjs'), program);
    const bundle = sandbox.bundle();
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const result = spawnSync('node', ['example.mjs', bundle], {
      cwd: dir,
      encoding: 'utf8',
      env,
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout.trimEnd()).toBe(printed);
    expect(result.status).toBe(0);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});

describe('Runtime, embedded', () => {
  const runtime = new Runtime({ root: sandbox.root });

  it("run: the process' output in the caller's stream, its stdin from one; no signal handler", async () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sh', '-c', 'read line; echo "got $line"; echo err >&2; exit 3'];
    });
    const out: Buffer[] = [];
    const err = new PassThrough();
    const before = signalListeners();
    let during = -1;
    const stdin = new PassThrough();
    const running = runtime.run(sandbox.id('run'), {
      bundle,
      stdio: [stdin, new Writable({ write: (c, _e, done) => done(void out.push(c)) }), err],
    });
    setTimeout(() => {
      during = signalListeners();
      stdin.end('hello\n');
    }, 50);
    expect(await running).toBe(3);
    expect(Buffer.concat(out).toString()).toBe('got hello\n');
    expect(err.read()?.toString()).toBe('err\n');
    expect(during).toBe(before);
    expect(runtime.list()).toEqual([]);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('run: an abort SIGKILLs the container and deletes it; ABORTED', async () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '600'];
    });
    const id = sandbox.id('abort');
    const started = Date.now();
    const error = await runtime
      .run(id, { bundle, signal: AbortSignal.timeout(500) })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ContainerError);
    expect(error).toMatchObject({
      code: 'ABORTED',
      message: `run: waiting for container ${id}: timed out`,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(runtime.list()).toEqual([]);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it("exec: an abort kills the exec'd process only; the container keeps running", async () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '600'];
    });
    const id = sandbox.id('exec');
    try {
      await runtime.create(id, { bundle });
      await runtime.start(id);
      const error = await runtime
        .exec(id, { args: ['sleep', '600'], signal: AbortSignal.timeout(300) })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ABORTED' });
      expect(runtime.state(id).status).toBe('running');
      // Only the init is left in the container.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(runtime.pids(id)).toEqual([runtime.state(id).pid]);
    } finally {
      await runtime.delete(id, { force: true });
    }
  });

  it('events: stats at once and on every interval, until the container stops', async () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '600'];
    });
    const id = sandbox.id('events');
    try {
      await runtime.create(id, { bundle });
      await runtime.start(id);
      const seen: ContainerEvent['type'][] = [];
      for await (const event of runtime.events(id, { intervalMs: 100 })) {
        seen.push(event.type);
        expect(event.id).toBe(id);
        if (event.type === 'stats') expect(event.data.pids?.current).toBeGreaterThanOrEqual(1);
        if (seen.length === 2) await runtime.kill(id, 9);
      }
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(seen.every((type) => type === 'stats')).toBe(true);
      expect(runtime.state(id).status).toBe('stopped');
    } finally {
      await runtime.delete(id, { force: true });
    }
  });

  it("a bad config is a ContainerError with the validator's error as cause", async () => {
    const bundle = sandbox.bundle((spec) => {
      (spec as { hostname: unknown }).hostname = 7;
    });
    const error = (await runtime
      .create(sandbox.id('bad'), { bundle })
      .catch((caught: unknown) => caught)) as ContainerError;
    expect(error).toBeInstanceOf(ContainerError);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('hostname: expected string');
    expect((error.cause as Error).name).toBe('SpecError');
    expect(runtime.list()).toEqual([]);
  });
});
