import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, parseFeatures } from '@runc-ts/spec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runc-ts-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

describe('runc spec', () => {
  it('writes config.json into --bundle', async () => {
    const result = await cli('spec', '--bundle', dir);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(() => parseConfig(readFileSync(join(dir, 'config.json'), 'utf8'))).not.toThrow();
  });

  it('-b and --rootless', async () => {
    expect((await cli('spec', '-b', dir, '--rootless')).code).toBe(0);
    const config = parseConfig(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config.linux?.namespaces?.map((ns) => ns.type)).toContain('user');
  });

  it('fails like runc when config.json exists: exit 1, logrus line', async () => {
    writeFileSync(join(dir, 'config.json'), '{}');
    const result = await cli('spec', '-b', dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^time="[^"]+" level=error msg="File config.json exists. Remove it first"\n$/,
    );
  });

  it('rejects arguments', async () => {
    const result = await cli('spec', 'extra');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("too many arguments for 'spec'");
  });
});

describe('runc features', () => {
  it('prints valid features JSON, indented like runc', async () => {
    const result = await cli('features');
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith('{\n    "ociVersionMin": "1.0.0",')).toBe(true);
    expect(() => parseFeatures(result.stdout)).not.toThrow();
  });
});

describe('global options', () => {
  it('--log-format json writes {"level","msg","time"} lines to stderr', async () => {
    writeFileSync(join(dir, 'config.json'), '{}');
    const result = await cli('--log-format', 'json', 'spec', '-b', dir);
    const line = JSON.parse(result.stderr);
    expect(Object.keys(line)).toEqual(['level', 'msg', 'time']);
    expect(line.msg).toBe('File config.json exists. Remove it first');
  });

  it('--log FILE gets the log line; stderr still gets the message', async () => {
    writeFileSync(join(dir, 'config.json'), '{}');
    const log = join(dir, 'runc.log');
    const result = await cli('--log', log, '--log-format', 'json', 'spec', '-b', dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('File config.json exists. Remove it first\n');
    expect(JSON.parse(readFileSync(log, 'utf8')).level).toBe('error');
  });

  it('--debug logs debug lines', async () => {
    const log = join(dir, 'debug.log');
    await cli('--debug', '--log', log, 'spec', '-b', dir);
    expect(readFileSync(log, 'utf8')).toMatch(/level=debug msg="spec: wrote .*config.json"/);
  });

  it('rejects an unknown --log-format and --rootless value', async () => {
    const format = await cli('--log-format', 'xml', 'features');
    expect(format.code).toBe(1);
    expect(format.stderr).toContain('invalid --log-format \\"xml\\"');
    const rootless = await cli('--rootless', 'maybe', 'features');
    expect(rootless.code).toBe(1);
    expect(rootless.stderr).toContain('invalid --rootless \\"maybe\\"');
  });

  it('accepts --root, --systemd-cgroup and --rootless before the command', async () => {
    const result = await cli('--root', dir, '--systemd-cgroup', '--rootless', 'true', 'features');
    expect(result.code).toBe(0);
  });

  it('cannot open the log file: says so, exits 1, writes nothing', async () => {
    const result = await cli('--log', join(dir, 'missing', 'x.log'), 'spec', '-b', dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot open log file');
    expect(existsSync(join(dir, 'config.json'))).toBe(false);
  });

  it('--version prints runc-style lines', async () => {
    const result = await cli('--version');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^runc version \S+ \(runc-ts\)\ncommit: \S+\nspec: 1\.3\.0\nnode: v\d+/,
    );
  });

  it('unknown command exits 3, unknown flag exits 1', async () => {
    expect((await cli('frobnicate')).code).toBe(3);
    expect((await cli('--frobnicate')).code).toBe(1);
  });

  it('no command prints help to stdout and exits 0', async () => {
    const result = await cli();
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^NAME:\n {3}runc - Open Container Initiative runtime\n/);
    expect(result.stdout).toContain('runc [global options] command');
  });

  it.each(['spec', 'features'])('%s --help', async (command) => {
    const result = await cli(command, '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^NAME:\n {3}runc ${command} - `));
  });
});

describe('runc create/run --dry-run', () => {
  it('says in --help that it is runc-ts only', async () => {
    for (const command of ['create', 'run']) {
      const help = (await cli(command, '--help')).stdout;
      expect(help).toMatch(/--dry-run +runc-ts only \(runc has no such flag\)/);
      expect(help).toContain(
        "--format <format>        with --dry-run: the plan as 'text' or 'json'",
      );
    }
  });

  it('refuses --format without --dry-run, and formats other than text and json', async () => {
    const root = join(dir, 'state');
    const alone = await cli('--root', root, 'create', '--format', 'json', 'c1');
    expect(alone.code).toBe(1);
    expect(alone.stderr).toContain('--format is only used with --dry-run');
    const yaml = await cli('--root', root, 'run', '--dry-run', '--format', 'yaml', 'c1');
    expect(yaml.code).toBe(1);
    expect(yaml.stderr).toContain('invalid --format \\"yaml\\": use \\"text\\" or \\"json\\"');
    expect(existsSync(root)).toBe(false);
  });

  it('fails on a bundle without config.json as a create does, making nothing', async () => {
    const root = join(dir, 'state');
    const dry = await cli('--root', root, 'create', '--dry-run', '--bundle', dir, 'c1');
    expect(dry.code).toBe(1);
    expect(dry.stdout).toBe('');
    expect(dry.stderr).toContain(
      `cannot read ${join(dir, 'config.json')}: no such file or directory`,
    );
    expect(existsSync(root)).toBe(false);
  });
});
