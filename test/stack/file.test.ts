// Stack files: every example parses; a file of a bundled kind gives exactly the commands of the
// same options on the command line; hostile files (unknown keys, wrong types, duplicates, YAML
// tricks, injection attempts in every string) are refused with file:line and the key, before any
// command runs.
import t from "tap";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseStack, StackFileError } from "../../cli/stack/file.js";
import { bundledPlan } from "../../cli/stack/kinds.js";
import { jsonSchema } from "../../cli/stack/schema.js";
import { REPO } from "../lib/xml.js";

const EXAMPLES = join(REPO, "examples");
/** the examples fence with sbd, which reads this node's corosync.conf: unfenced here */
export const unfenced = (text: string) => text.replace(/^fencing:\n(?: {2}.*\n)+/m, "fencing:\n  method: none\n");
const example = (f: string) => unfenced(readFileSync(join(EXAMPLES, f), "utf8"));

function problems(text: string): string[] {
  try {
    parseStack(text, "s.yaml");
  } catch (e) {
    if (e instanceof StackFileError) return e.problems;
    throw e;
  }
  return [];
}

t.test("every example parses, with fencing sbd given as in the file", async (t) => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml"));
  t.ok(files.length >= 6, "the examples are there");
  for (const f of files) {
    const s = parseStack(example(f), f);
    t.ok(s.plan.commands.length > 3, `${f}: ${s.kind} ${s.name}: ${s.plan.commands.length} commands`);
    // the sbd section itself is well-formed: its only problem here is this machine's missing corosync.conf
    const raw = problems(readFileSync(join(EXAMPLES, f), "utf8"));
    t.ok(raw.length && raw.every((p) => /^[^:]+:\d+:\d+: fencing\.|corosync\.conf|DRBD configuration|drbd\.conf/.test(p)), `${f}: fencing sbd is checked against this node (${raw[0]?.slice(0, 80)})`);
  }
});

t.test("a file of a bundled kind gives the same commands and notes as the same options on the command line", async (t) => {
  const same = (f: string, kind: "iscsi" | "gfs2" | "san" | "drbd-fs", a: Record<string, unknown>) => {
    const s = parseStack(example(f), f);
    const cli = bundledPlan(kind, { ...a, fencing: "none" });
    t.same(s.plan.commands, cli.commands, `${f}: commands`);
    t.same(s.plan.notes, cli.notes, `${f}: notes`);
  };
  same("iscsi.yaml", "iscsi", { prefix: "iscsi", "drbd-resource": "r0", iqn: "iqn.2003-01.org.example:storage", lun: ["1:/dev/drbd1"], ip: ["192.168.10.60/24"], initiator: ["iqn.1993-08.org.debian:01:client"] });
  same("gfs2.yaml", "gfs2", { prefix: "gfs2", fs: ["vg_cluster/lv_data:/srv/data"], options: "noatime" });
  same("san.yaml", "san", { prefix: "san", target: "iqn.2001-05.com.example:array.lun-group-1", portal: ["10.20.0.10:3260", "10.21.0.10:3260"], fs: ["vg_san/lv_data:/srv/data"] });
  same("drbd-fs.yaml", "drbd-fs", { prefix: "nfs", "drbd-resource": "r0", device: "/dev/drbd0", directory: "/srv/nfs", fstype: "ext4", ip: "192.168.10.70/24", service: "systemd:nfs-server" });
});

t.test("two DRBD volumes behind one VIP: both promotions before one group, members in order", async (t) => {
  const s = parseStack(example("two-drbd-volumes-one-vip.yaml"), "f");
  const c = s.plan.commands.map((x) => x.join(" "));
  t.match(c[0], /^resource create storage-drbd-config ocf:tsstor:drbd drbd_resource=config .*promotable/);
  t.match(c[1], /^resource meta storage-drbd-config-clone promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true$/, "its meta attributes on the clone");
  t.match(c[2], /^resource create storage-drbd-target ocf:tsstor:drbd drbd_resource=target .*promotable$/);
  const members = (g: string) => s.plan.commands.filter((x) => x.slice(0, 4).join(" ") === `resource group add ${g}`).flatMap((x) => x.slice(4));
  t.same(members("storage-group"), ["storage-fs-data", "storage-target-storage.disk.0"], "mount, target");
  t.same(members("storage-front"), ["storage-ip-10.11.55.50"], "then the VIP");
  const lun = "storage-target-storage.disk.0-lun0";
  t.ok(c.includes(`constraint order start storage-group then start ${lun}`), "the LUN after its target");
  t.ok(c.includes(`constraint order start ${lun} then start storage-front kind=Optional`), "the VIP after the LUN, Optional: a LUN added later does not restart it");
  t.ok(c.includes("constraint colocation add Promoted storage-drbd-target-clone with Promoted storage-drbd-config-clone score=INFINITY"), "both DRBD Primary on one node");
  for (const d of ["config", "target"]) {
    t.ok(c.includes(`constraint colocation add storage-group with Promoted storage-drbd-${d}-clone score=INFINITY`), `group with Promoted ${d}`);
    t.ok(c.includes(`constraint order promote storage-drbd-${d}-clone then start storage-group`), `promote ${d} first`);
  }
});

t.test("an exclusive LV: lvmlockd (sanlock) on every node, then LV -> filesystem -> VIP -> service", async (t) => {
  const s = parseStack(example("exclusive-lv.yaml"), "f");
  const c = s.plan.commands.map((x) => x.join(" "));
  t.match(c[0], /^resource create app-lvmlockd ocf:tsstor:clvm lock_type=sanlock .* clone$/);
  t.equal(c[1], "resource meta app-lvmlockd-clone interleave=true");
  t.notOk(c.some((x) => x.includes("controld")), "sanlock needs no dlm");
  t.match(c[2], /LVM-activate vgname=vg_shared lvname=lv_app vg_access_mode=lvmlockd activation_mode=exclusive/);
  t.same(s.plan.commands.filter((x) => x[0] === "resource" && x[1] === "group").flatMap((x) => x.slice(4)), ["app-lv-lv_app", "app-fs-app", "app-ip-192.168.10.50", "app-nginx"]);
  t.ok(c.includes("constraint order start app-lvmlockd-clone then start app-group"));
  t.ok(c.includes("constraint colocation add app-group with app-lvmlockd-clone score=INFINITY"));
});

const BASE = `kind: failover
name: st
fencing:
  method: none
drbd:
  - resource: r0
targets:
  - iqn: iqn.2003-01.org.example:t
    initiators: [iqn.1993-08.org.debian:01:c]
    luns:
      - lun: 1
        path: /dev/drbd1
ips:
  - address: 10.0.0.5/24
`;

t.test("structure errors name the file, the line and the key", async (t) => {
  t.same(problems(BASE), [], "the base file is valid");
  const cases: Array<[string, string, RegExp]> = [
    ["unknown key", BASE.replace("  - address:", "  - adress:"), /^s\.yaml:14:5: ips\[0\]\.adress: unknown key \(ips\[0\] takes address, nic, id\)/],
    ["unknown top-level key", `${BASE}servces: []\n`, /^s\.yaml:15:1: servces: unknown key/],
    ["wrong type: a number for a string", BASE.replace("resource: r0", "resource: 7"), /^s\.yaml:6:15: drbd\[0\]\.resource: must be a string, not a number \(quote it: "7"\)/],
    ["wrong type: a string for a number", BASE.replace("lun: 1", "lun: one"), /^s\.yaml:11:14: targets\[0\]\.luns\[0\]\.lun: must be a whole number, not a string/],
    ["wrong type: a map for a list", BASE.replace("initiators: [iqn.1993-08.org.debian:01:c]", "initiators: {a: b}"), /targets\[0\]\.initiators: must be a list of strings, not a map/],
    ["out of range", BASE.replace("lun: 1", "lun: 20000"), /luns\[0\]\.lun: 20000 is not 0-16383/],
    ["not in the enum", BASE.replace("method: none", "method: stonith"), /^s\.yaml:4:11: fencing\.method: "stonith" is not one of sbd, watchdog, agent, drbd-quorum, none/],
    ["missing required", BASE.replace("name: st\n", ""), /^s\.yaml:1:1: name is required/],
    ["missing kind", BASE.replace("kind: failover\n", ""), /kind: is required: failover, iscsi, gfs2, san, drbd-fs/],
    ["duplicate key", BASE.replace("name: st\n", "name: st\nname: st2\n"), /^s\.yaml:3:1: Map keys must be unique/],
    ["alias", BASE.replace("  - resource: r0", "  - resource: &r r0\n  - resource: *r"), /YAML aliases \(\*name\) are not allowed/],
    ["tag", BASE.replace("resource: r0", "resource: !!str r0"), /YAML tags \(tag:yaml\.org,2002:str\) are not allowed/],
    ["sbd-init is not a file key", BASE.replace("method: none", "method: sbd\n  sbd-init: true"), /fencing\.sbd-init: unknown key/],
    ["not a map", "- a\n- b\n", /^s\.yaml:1:1: a stack file is a map of keys/],
    ["YAML syntax", "kind: failover\n  name: [\n", /^s\.yaml:\d+:\d+: /],
  ];
  for (const [what, text, re] of cases) {
    const p = problems(text);
    t.ok(p.length, `${what}: refused`);
    t.match(p.join("\n"), re, what);
  }
});

t.test("value errors from the stack builders are reported at their key's line", async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ["bad IQN", BASE.replace("iqn: iqn.2003-01.org.example:t", "iqn: IQN.bad"), /^s\.yaml:8:5: targets\[0\]\.iqn: "IQN\.bad" is not an iSCSI name/],
    ["bad LUN path", BASE.replace("path: /dev/drbd1", "path: dev/drbd1"), /^s\.yaml:12:9: targets\[0\]\.luns\[0\]\.path: "dev\/drbd1" is not a plain absolute path/],
    ["bad address", BASE.replace("10.0.0.5/24", "10.0.0.500/24"), /^s\.yaml:14:5: ips\[0\]\.address: "10\.0\.0\.500" is not an IPv4 or IPv6 address/],
    ["duplicate names", BASE.replace("  - resource: r0", "  - resource: r0\n  - resource: r0"), /drbd\[1\]: resource id "st-drbd-r0" is also drbd\[0\]'s; give one of them an id/],
    ["duplicate ids given", BASE.replace("    luns:", "    id: st-x\n    luns:").replace("  - address: 10.0.0.5/24", "  - address: 10.0.0.5/24\n    id: st-x"), /^s\.yaml:8:5: targets\[0\]: resource id "st-x" is also ips\[0\]'s/],
    ["no initiators", BASE.replace("    initiators: [iqn.1993-08.org.debian:01:c]\n", ""), /targets\[0\]\.initiators \(the initiators allowed to log in\), or targets\[0\]\.allow-any-initiator: true/],
    ["bundled kind: a flag's problem at its key", "kind: iscsi\nname: i\nfencing:\n  method: none\niqn: iqn.2003-01.org.example:t\nlun: [\"1:/dev/x\", \"1:/dev/y\"]\nip: [10.0.0.1]\nallow-any-initiator: true\n", /s\.yaml:6:1: lun number: "1" given twice/],
    ["bundled kind: prefix is the name", "kind: gfs2\nname: 9bad\nfencing:\n  method: none\nfs: [vg/lv:/srv]\n", /^s\.yaml:2:1: name: "9bad" is not a valid resource id/],
    ["service password", `${BASE}services:\n  - agent: ocf:heartbeat:mysql\n    params:\n      replication_passwd: secret\n`, /services\[0\]\.params\.replication_passwd: a password in the CIB/],
  ];
  for (const [what, text, re] of cases) t.match(problems(text).join("\n"), re, what);
});

t.test("injection attempts in every string are refused, and the secret-looking value is never echoed for passwords", async (t) => {
  const evil = ["$(reboot)", "`reboot`", "a;reboot", "a|reboot", "a&&reboot", "a'b", 'a"b', "a b", "../../etc/passwd", "-rf"];
  // every string value of the base file, one at a time
  const strings = [...BASE.matchAll(/^(\s*(?:- )?[a-z-]+: )([^\s[{].*)$/gm)].filter(([, k]) => !/kind|method/.test(k!));
  t.ok(strings.length >= 5, `${strings.length} string values`);
  for (const [line, key = ""] of strings) {
    for (const e of evil) {
      const text = BASE.replace(line!, `${key}${JSON.stringify(e)}`);
      const p = problems(text);
      // a few values are legal in one field (a name with a dash); none may reach pcs with shell meaning
      if (!p.length) {
        const s = parseStack(text, "s.yaml");
        t.notOk(/[$`;|&'"]/.test(e) && s.plan.commands.flat().some((a) => a.includes(e)), `${key.trim()} ${e}: accepted only as plain data`);
      } else t.match(p[0], /^s\.yaml:\d+:\d+: /, `${key.trim()} ${e}: refused at a line`);
    }
  }
  const nl = problems(BASE.replace("path: /dev/drbd1", 'path: "/dev/drbd1\\nreboot"'));
  t.match(nl.join(), /control characters .* are not allowed/, "a newline inside a value");
});

t.test("the JSON Schema names every kind and refuses unknown keys", async (t) => {
  const s = jsonSchema() as { oneOf: Array<{ properties: Record<string, unknown>; additionalProperties: boolean; required: string[] }> };
  t.equal(s.oneOf.length, 5);
  for (const o of s.oneOf) {
    t.equal(o.additionalProperties, false);
    t.ok(o.required.includes("kind") && o.required.includes("name") && o.required.includes("fencing"));
  }
});
