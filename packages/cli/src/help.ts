import type { Command, Help } from 'commander';

function indent(text: string, by = '   '): string {
  return text
    .split('\n')
    .map((line) => (line ? `${by}${line}` : line))
    .join('\n');
}

function table(rows: [string, string][]): string {
  const width = Math.max(0, ...rows.map(([term]) => term.length));
  return rows.map(([term, text]) => `${term.padEnd(width)}  ${text}`.trimEnd()).join('\n');
}

/**
 * Help in runc's layout (NAME, USAGE, VERSION, DESCRIPTION, COMMANDS,
 * OPTIONS): scripts and runc's own test suite read its first lines.
 */
export function formatHelp(cmd: Command, helper: Help, version: string): string {
  const sections: string[] = [];
  const isRoot = cmd.parent === null;
  const path = isRoot ? cmd.name() : `${cmd.parent!.name()} ${cmd.name()}`;
  sections.push(
    `NAME:\n${indent(`${path} - ${cmd.summary() || cmd.description().split('\n')[0]}`)}`,
  );
  const usage = isRoot
    ? cmd.usage()
    : `[command options] ${cmd.registeredArguments.map((arg) => (arg.required ? `<${arg.name()}>` : `[${arg.name()}]`)).join(' ')}`.trimEnd();
  sections.push(`USAGE:\n${indent(`${path} ${usage}`)}`);
  if (isRoot) sections.push(`VERSION:\n${indent(version)}`);
  const description = cmd.description();
  if (description && description !== cmd.summary()) {
    sections.push(`DESCRIPTION:\n${indent(description)}`);
  }
  const commands = helper.visibleCommands(cmd);
  if (commands.length > 0) {
    sections.push(
      `COMMANDS:\n${indent(table(commands.map((sub) => [sub.name(), helper.subcommandDescription(sub)])))}`,
    );
  }
  const options = helper.visibleOptions(cmd);
  if (options.length > 0) {
    const heading = isRoot ? 'GLOBAL OPTIONS' : 'OPTIONS';
    sections.push(
      `${heading}:\n${indent(table(options.map((option) => [helper.optionTerm(option), helper.optionDescription(option)])))}`,
    );
  }
  return `${sections.join('\n\n')}\n`;
}
