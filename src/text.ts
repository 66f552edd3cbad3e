// Text from elsewhere (a seed, a target's stderr, a store someone else wrote) made safe for where it is
// printed: one comment line of a generated program, a terminal, a shell command line.

/**
 * Text for one header comment line whatever it holds: control characters (a newline would end the
 * comment and start code) written as escapes. Checked seeds pass unchanged.
 */
export function headerSafe(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this escapes
  return text.replace(/[\x00-\x1f\x7f\u2028\u2029\u0085]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Text for a terminal: control characters (escape sequences that move the cursor, retitle the window or
 * hide text; C1 controls) shown as `?`, newlines and tabs kept.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/g, '?');
}

/** A POSIX shell single-quoted word: the `regenerate:` line's seed as a user would paste it. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
