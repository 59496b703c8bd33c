/**
 * Commander's own usage errors ("error: option '--reloads <n>' argument '0' is invalid. …",
 * "error: unknown option '--ulimt'\n(Did you mean --ulimit?)") in repro's words: one line that
 * starts with "repro:", names the flag or value, and says the fix, like every other usage error.
 */
export function usageLine(commanderText: string): string {
  const text = commanderText.trim().replace(/^error: /, '');
  const suggestion = /\n\(Did you mean (.+)\?\)$/.exec(text)?.[1];
  const first = text.split('\n')[0] ?? '';
  let line: string;
  const invalid = /^option '([^' ]+)[^']*' argument '(.*)' is invalid\. (.+)$/s.exec(first);
  const missing = /^option '([^' ]+) ([^']*)' argument missing$/.exec(first);
  const unknownOption = /^unknown option '(.+)'$/.exec(first);
  const unknownCommand = /^unknown command '(.+)'$/.exec(first);
  const invalidArgument = /^command-argument value '.*' is invalid for argument '[^']+'\. (.+)$/s.exec(first);
  if (invalid) line = invalid[3] as string;
  else if (invalidArgument) line = invalidArgument[1] as string;
  else if (missing) line = `${missing[1]} needs a value ${missing[2]}`;
  else if (unknownOption) line = `unknown option '${unknownOption[1]}'${suggestion ? `: did you mean ${suggestion}?` : '; --help lists the options'}`;
  else if (unknownCommand) line = `unknown command '${unknownCommand[1]}'${suggestion ? `: did you mean ${suggestion}?` : '; repro --help lists the commands'}`;
  else line = text.replace(/\n/g, ' ');
  return `repro: ${line}\n`;
}
