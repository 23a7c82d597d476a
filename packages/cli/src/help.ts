import type { Command, Option } from './args.js';

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

/** An option's help text, with its default when it has a shown one. */
function optionDescription(option: Option): string {
  if (option.defaultValue === undefined || option.negate) return option.description;
  return `${option.description} (default: ${JSON.stringify(option.defaultValue)})`;
}

/**
 * Help in runc's layout (NAME, USAGE, VERSION, DESCRIPTION, COMMANDS,
 * OPTIONS): scripts and runc's own test suite read its first lines.
 */
export function formatHelp(cmd: Command, version: string): string {
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
  const commands = cmd.commands;
  if (commands.length > 0) {
    sections.push(
      `COMMANDS:\n${indent(table(commands.map((sub) => [sub.name(), sub.summary() || sub.description()])))}`,
    );
  }
  const options = cmd.visibleOptions();
  if (options.length > 0) {
    const heading = isRoot ? 'GLOBAL OPTIONS' : 'OPTIONS';
    sections.push(
      `${heading}:\n${indent(table(options.map((option) => [option.flags, optionDescription(option)])))}`,
    );
  }
  return `${sections.join('\n\n')}\n`;
}
