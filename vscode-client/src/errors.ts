/** Telling a server that does not (yet) have a feature from one that failed (pure). */

export const METHOD_NOT_FOUND = -32601;

/**
 * Did the server answer that it does not know this request or command? pygls answers an
 * unknown method with -32601 (MethodNotFound) and an unknown workspace/executeCommand with
 * -32602 (InvalidParams) "Command name 'x' is not defined".
 */
export function isMethodNotFound(error: unknown): boolean {
  if (typeof error !== "object" || error === null) {
    return false;
  }
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code === METHOD_NOT_FOUND) {
    return true;
  }
  return typeof message === "string" && /method not found|unknown method|command name .* is not defined|unknown command/i.test(message);
}

/** The server's stdout is the LSP channel: a line that is not a header means something printed to it. */
export function describeGarbage(line: string): string {
  return `The Clearsight server wrote something that is not LSP to stdout (a print() or a noisy sitecustomize?): ${JSON.stringify(line.slice(0, 200))}`;
}

/**
 * Restart after a crash? Yes while fewer than `max` crashes happened within `windowMs`
 * (the languageclient's own default is 4 in 3 minutes); `times` are the crash times so far,
 * including this one.
 */
export function shouldRestart(times: readonly number[], now: number, max = 4, windowMs = 180_000): boolean {
  return times.filter((time) => now - time <= windowMs).length <= max;
}
