// OCF exit codes and the error type every handler throws to end an action.

export const OCF = {
  SUCCESS: 0,
  ERR_GENERIC: 1,
  ERR_ARGS: 2,
  ERR_UNIMPLEMENTED: 3,
  ERR_PERM: 4,
  ERR_INSTALLED: 5,
  ERR_CONFIGURED: 6,
  NOT_RUNNING: 7,
  RUNNING_PROMOTED: 8,
  FAILED_PROMOTED: 9,
  DEGRADED: 190,
  DEGRADED_PROMOTED: 191,
} as const;

export type OcfCode = (typeof OCF)[keyof typeof OCF];

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(OCF).map(([k, v]) => [v, `OCF_${k}`]),
);

export function ocfName(code: number): string {
  return NAMES[code] ?? `unknown(${code})`;
}

export function isOcfCode(code: number): code is OcfCode {
  return code in NAMES;
}

/**
 * Ends an action with `code`; `reason` becomes the `ocf-exit-reason:` line.
 * Reasons are one line: newlines are folded so Pacemaker shows all of it.
 */
export class OcfError extends Error {
  readonly code: OcfCode;
  constructor(code: OcfCode, reason: string) {
    super(oneLine(reason));
    this.code = code;
    this.name = "OcfError";
  }
}

export function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, " ").replace(/\s+$/, "");
}

/** Shorthands so handlers read like the OCF spec. */
export const fail = {
  generic: (r: string) => new OcfError(OCF.ERR_GENERIC, r),
  args: (r: string) => new OcfError(OCF.ERR_ARGS, r),
  unimplemented: (r: string) => new OcfError(OCF.ERR_UNIMPLEMENTED, r),
  perm: (r: string) => new OcfError(OCF.ERR_PERM, r),
  installed: (r: string) => new OcfError(OCF.ERR_INSTALLED, r),
  configured: (r: string) => new OcfError(OCF.ERR_CONFIGURED, r),
  notRunning: (r: string) => new OcfError(OCF.NOT_RUNNING, r),
  failedPromoted: (r: string) => new OcfError(OCF.FAILED_PROMOTED, r),
};
