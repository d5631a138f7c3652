// multipath.conf and DRBD: a multipath map on top of /dev/drbdN holds the device open, so DRBD
// can neither demote nor go down and failover hangs. Also: blacklist entries multipath ignores.
import { DEFAULT_DEVNODE_BLACKLIST, classify } from "../doctor/multipath.js";
import { isDrbd } from "./drbd.js";
import { unavailable, type Check, type Finding } from "./types.js";

const FIX_BLACKLIST = ["#   blacklist {", '#       devnode "^drbd[0-9]+"', "#   }", "multipathd reconfigure"];

export const checkMultipath: Check = (s) => {
  const out: Finding[] = [];
  const drbd = s.cib.primitives.filter(isDrbd);
  const mp = s.multipath;
  if (unavailable(mp)) {
    const running = [...s.units.enabledBy("multipathd.service"), ...s.units.enabledBy("multipath-tools.service")];
    if (drbd.length && running.length)
      out.push({
        id: "multipath-drbd",
        severity: "warning",
        subject: mp.path,
        message: `multipathd is enabled without ${mp.path}: DRBD devices are excluded only by the built-in default blacklist`,
        reason:
          `multipath-tools with the inverted default blacklist (${DEFAULT_DEVNODE_BLACKLIST}; Debian 12's 0.9.4 has it) ignores drbd devices; older releases (RHEL 7's 0.4.9 blacklists only ram|raw|loop|fd|md|dm-|sr|scd|st) map them, ` +
          "and a multipath map on /dev/drbdN holds it open: DRBD cannot demote or stop and failover hangs. Say it explicitly.",
        fix: [`# create ${mp.path} with:`, ...FIX_BLACKLIST],
      });
    return out;
  }
  const main = mp.files[0]!;
  for (const e of [...mp.blacklist, ...mp.exceptions].filter((x) => !x.test))
    out.push({
      id: "multipath-bad-regex",
      severity: "warning",
      subject: `${e.file}:${e.line}`,
      message: `multipath ignores devnode "${e.regex}": it is not a valid POSIX extended regular expression`,
      reason: 'multipath-tools drops entries regcomp() refuses (e.g. "*" alone: a repetition with nothing to repeat); the devices it was meant to exclude are not excluded. ".*" matches everything.',
      fix: [`# in ${e.file} line ${e.line}: devnode "${e.regex.replace(/^\*/, ".*")}"`, "multipathd reconfigure"],
    });
  for (const i of mp.ignored) {
    const name = i.text.split(/\s+/)[0]!;
    const inner = i.ignored.replace(/\}\s*$/, "").trim();
    out.push({
      id: "multipath-ignored-line",
      severity: "warning",
      subject: `${i.file}:${i.line}`,
      message: `multipath ignores "${i.ignored}" on line ${i.line} of ${i.file}`,
      reason:
        "multipath.conf is read line by line: after `name {` (or `}`) the rest of the line is dropped (\"ignoring extra data\"), and a section stays open until a line starting with `}`. " +
        '`blacklist { devnode "^drbd[0-9]+" }` on one line blacklists nothing.',
      fix:
        name === "}"
          ? [`# in ${i.file} line ${i.line}: put "${i.ignored}" on its own line`, "multipathd reconfigure"]
          : [`# in ${i.file} line ${i.line}, one setting per line:`, `#   ${name} {`, ...(inner ? [`#       ${inner}`] : []), "#   }", "multipathd reconfigure"],
    });
  }
  if (!drbd.length) return out;
  const minors = new Set<number>();
  for (const p of drbd) {
    const c = s.drbdConf(p);
    if (!unavailable(c)) for (const m of c.resources.get(p.params.drbd_resource ?? "")?.minors ?? []) minors.add(m);
  }
  const names = (minors.size ? [...minors].sort((a, b) => a - b) : [0]).map((m) => `drbd${m}`);
  const verdicts = names.map((n) => ({ n, ...classify(mp, n, false) }));
  const excepted = verdicts.filter((v) => v.state === "excepted");
  const open = verdicts.filter((v) => v.state === "none");
  if (excepted.length)
    out.push({
      id: "multipath-drbd",
      severity: "error",
      subject: main,
      message: `multipath.conf lets multipath claim DRBD devices: ${excepted.map((v) => `${v.n} (blacklist_exceptions devnode "${v.by!.regex}", ${v.by!.file}:${v.by!.line})`).join(", ")}`,
      reason:
        "Exceptions win over every blacklist entry. A multipath map on /dev/drbdN holds it open: DRBD cannot demote or go down, so Pacemaker's demote/stop fail and failover hangs until the node is fenced.",
      fix: [`# remove the blacklist_exceptions devnode entries above, and in ${main}:`, ...FIX_BLACKLIST],
    });
  else if (open.length)
    out.push({
      id: "multipath-drbd",
      severity: "warning",
      subject: main,
      message: `multipath.conf does not blacklist the DRBD devices (${open.map((v) => v.n).join(", ")}); only the built-in default excludes them`,
      reason:
        `multipath-tools with the inverted default blacklist (${DEFAULT_DEVNODE_BLACKLIST}; Debian 12's 0.9.4 has it) ignores them, older releases (RHEL 7's 0.4.9) map them, ` +
        "and a multipath map on /dev/drbdN holds it open: DRBD cannot demote or stop and failover hangs. Blacklist them explicitly.",
      fix: [`# in ${main}:`, ...FIX_BLACKLIST],
    });
  return out;
};
