// Framework errors: things that stop ftfuzz from running at all. A target that crashes or hangs is a
// finding (a value), never one of these (STYLE.md practice 2).
import { ExitCode, type ExitCodeValue } from './types.js';

export class FtfuzzError extends Error {
  readonly exitCode: ExitCodeValue = ExitCode.Internal;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad options or arguments: exit 2. */
export class UsageError extends FtfuzzError {
  override readonly exitCode = ExitCode.Usage;
}

/** No usable interpreter, a failed build, a tool missing: exit 3. */
export class EnvironmentError extends FtfuzzError {
  override readonly exitCode = ExitCode.Environment;
}

/** An unreadable or malformed input file (program, corpus or crash file): exit 4. */
export class InputError extends FtfuzzError {
  override readonly exitCode = ExitCode.Input;
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
  }
}

export function exitCodeOf(error: unknown): ExitCodeValue {
  return error instanceof FtfuzzError ? error.exitCode : ExitCode.Internal;
}
