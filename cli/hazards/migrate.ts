// Resources still on ocf:heartbeat / ocf:linbit agents that tsstor replaces (same parameter
// names): the migration keeps the resource, its parameters, operations, meta attributes and
// constraints, and changes only class/provider/type. pcs (0.11) has no command that changes a
// resource's agent, so the edit is one `cibadmin --modify` (atomic on the live CIB), and
// --migrate-script wraps all of them in one pcs transaction (cib -> edit copy -> cib-push).
import { existsSync } from "node:fs";
import { portalError } from "../../lib/iscsi/initiator.js";
import { agentOf, type Primitive } from "../doctor/cib.js";
import { shq } from "../pcs.js";
import type { Check, Finding, Sources } from "./types.js";

interface Target {
  type: string;
  /** parameters to add (e.g. lock_type=clvmd for heartbeat clvm) */
  add?: Record<string, string>;
  /** why this resource cannot move, or undefined */
  blocker?: (p: Primitive) => string | undefined;
}

const lio = (p: Primitive) => {
  const i = p.params.implementation;
  return i === undefined || i === "lio-t" || i === "tgt" ? undefined : `implementation=${i} (ocf:tsstor supports lio-t and tgt)`;
};

/** "provider:type" of the upstream agent -> its ocf:tsstor equivalent. */
export const EQUIVALENTS: Record<string, Target> = {
  "heartbeat:IPaddr2": { type: "IPaddr2" },
  "heartbeat:Filesystem": { type: "Filesystem" },
  "heartbeat:iSCSITarget": { type: "iSCSITarget", blocker: lio },
  "heartbeat:iSCSILogicalUnit": { type: "iSCSILogicalUnit", blocker: lio },
  "heartbeat:LVM-activate": { type: "LVM-activate" },
  "heartbeat:lvmlockd": {
    type: "clvm",
    blocker: (p) =>
      (p.params.pidfile ?? "/run/lvmlockd.pid") !== "/run/lvmlockd.pid" || (p.params.socket_path ?? "/run/lvm/lvmlockd.socket") !== "/run/lvm/lvmlockd.socket"
        ? "a non-default pidfile/socket_path (LVM commands only find lvmlockd at /run/lvmlockd.pid and /run/lvm/lvmlockd.socket; ocf:tsstor:clvm accepts only those)"
        : undefined,
  },
  "heartbeat:clvm": { type: "clvm", add: { lock_type: "clvmd" } },
  "heartbeat:iscsi": {
    type: "iscsi",
    blocker: (p) =>
      portalError(p.params.portal ?? "") !== undefined
        ? `portal=${p.params.portal ?? ""} (ocf:tsstor:iscsi matches sessions by the address the kernel reports: give the portal's IP address)`
        : undefined,
  },
  "linbit:drbd": { type: "drbd" },
};

const xmlAttr = (v: string) => v.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The cibadmin --modify XML that turns `p` into its ocf:tsstor equivalent. */
export function migrationXml(p: Primitive, t: Target): string {
  const add = Object.entries(t.add ?? {}).filter(([k, v]) => p.params[k] !== v);
  let inner = "";
  if (add.length) {
    const set = p.paramsSetId ?? `${p.id}-instance_attributes`;
    inner = `<instance_attributes id="${xmlAttr(set)}">${add.map(([k, v]) => `<nvpair id="${xmlAttr(`${set}-${k}`)}" name="${xmlAttr(k)}" value="${xmlAttr(v)}"/>`).join("")}</instance_attributes>`;
  }
  const open = `<primitive id="${xmlAttr(p.id)}" class="ocf" provider="tsstor" type="${xmlAttr(t.type)}"`;
  return inner ? `${open}>${inner}</primitive>` : `${open}/>`;
}

export interface Migration {
  p: Primitive;
  to: string;
  xml: string;
}

export function migrations(s: Sources): { ok: Migration[]; blocked: Array<{ p: Primitive; why: string }> } {
  const ok: Migration[] = [];
  const blocked: Array<{ p: Primitive; why: string }> = [];
  for (const p of s.cib.primitives) {
    if (p.class !== "ocf") continue;
    const t = EQUIVALENTS[`${p.provider}:${p.type}`];
    if (!t) continue;
    const why = t.blocker?.(p);
    if (why) blocked.push({ p, why });
    else ok.push({ p, to: `ocf:tsstor:${t.type}`, xml: migrationXml(p, t) });
  }
  return { ok, blocked };
}

const RESTART =
  "Only the agent changes; parameters, operations, meta attributes and constraints stay. Pacemaker restarts the resource when its agent changes (stop with the old agent, start with the new one), and what is ordered after it: do it in a maintenance window. ";

export const checkMigrate: Check = (s) => {
  const out: Finding[] = [];
  const { ok, blocked } = migrations(s);
  for (const m of ok) {
    const installed = existsSync(s.path(`/usr/lib/ocf/resource.d/tsstor/${m.to.split(":")[2]}`));
    out.push({
      id: "migrate-to-tsstor",
      severity: "info",
      subject: `resource ${m.p.id}`,
      message: `${m.p.id} uses ${agentOf(m.p)}; ${m.to} is its drop-in replacement`,
      reason:
        RESTART +
        (installed ? "" : `${m.to} is not installed on this node: install tsstor on every node first. `) +
        "`tsstor doctor --migrate-script` prints all migrations as one pcs transaction.",
      fix: [`cibadmin --modify --xml-text ${shq(m.xml)}`],
    });
  }
  for (const b of blocked)
    out.push({
      id: "migrate-blocked",
      severity: "info",
      subject: `resource ${b.p.id}`,
      message: `${b.p.id} (${agentOf(b.p)}) cannot move to ocf:tsstor as configured: ${b.why}`,
      reason: "The ocf:tsstor agent would refuse this configuration.",
      fix: [],
    });
  return out;
};

/** A reviewable bash script: every migration in one CIB transaction, like `tsstor stack`. */
export function migrateScript(s: Sources, argv: string[]): string {
  const { ok, blocked } = migrations(s);
  const agents = [...new Set(ok.map((m) => m.to.split(":")[2]!))];
  const lines = [
    "#!/bin/bash",
    `# tsstor doctor --migrate-script: ${ok.length} resource(s) to ocf:tsstor agents`,
    `# generated by: tsstor ${argv.map(shq).join(" ")}`,
    ...ok.map((m) => `#   ${m.p.id}: ${agentOf(m.p)} -> ${m.to}`),
    ...blocked.map((b) => `#   ${b.p.id}: stays on ${agentOf(b.p)}: ${b.why}`),
    "# Only the agents change: parameters, operations, meta attributes and constraints stay.",
    "# Pacemaker restarts each migrated resource at the cib-push (stop with the old agent, start",
    "# with the new one), and what is ordered after it: run it in a maintenance window.",
    "# pcs has no command that changes a resource's agent: cibadmin --modify edits the copy.",
    "set -euo pipefail",
  ];
  if (!ok.length) return [...lines, "echo 'nothing to migrate'", ""].join("\n");
  lines.push(
    `for a in ${agents.map(shq).join(" ")}; do`,
    '  [ -x "${OCF_ROOT:-/usr/lib/ocf}/resource.d/tsstor/$a" ] || { echo "ocf:tsstor:$a is not installed here; install tsstor on every node first" >&2; exit 1; }',
    "done",
    "work=$(mktemp -d)",
    "trap 'rm -rf \"$work\"' EXIT",
    'pcs cluster cib "$work/orig.xml"',
    'cp "$work/orig.xml" "$work/new.xml"',
    ...ok.map((m) => `CIB_file="$work/new.xml" cibadmin --modify --xml-text ${shq(m.xml)}`),
    'pcs cluster cib-push "$work/new.xml" diff-against="$work/orig.xml"',
    "",
  );
  return lines.join("\n");
}
