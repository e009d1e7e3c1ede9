/**
 * The one answer of an upgrade-like request (upgrade, upgrade --self),
 * printed: as JSON with `--json`, else `describe`'s sentence (on stderr when
 * it failed). Returns the exit code: 0 ok, 1 not. Apart from the connection
 * (control-client.ts), which is loaded only once a master is found.
 */
export function printOutcome<T extends { readonly ok: boolean }>(
  outcome: T, json: boolean, describe: (outcome: T) => string, out: { write(text: string): unknown }, err: { write(text: string): unknown },
): number {
  if (json) out.write(`${JSON.stringify(outcome)}\n`);
  else (outcome.ok ? out : err).write(describe(outcome));
  return outcome.ok ? 0 : 1;
}
