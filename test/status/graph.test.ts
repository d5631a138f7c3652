// `tsstor stack ... --graph FILE`: the bundled stacks drawn by Graphviz dot. The layout is read
// back with `dot -Tplain` (every resource a box in its node's frame, order constraints as solid
// arrows, colocations dashed, the Promoted instance with a double border), and the SVG is
// rendered to PNG and every resource label checked in the image (test/status/image.ts).
import t from "tap";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BUILD, scratchDir } from "../lib/harness.js";
import { checkLabels, svgNodes } from "./image.js";

const CLI = join(BUILD, "tsstor");
const have = (c: string) => spawnSync("sh", ["-c", `command -v ${c}`]).status === 0;
const skip = !existsSync(CLI) ? "build/tsstor not built" : !have("dot") ? "graphviz missing" : !have("rsvg-convert") ? "rsvg-convert missing (apt-get install librsvg2-bin)" : false;
const dir = scratchDir("status-graph");
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(CLI, args, { encoding: "utf8" });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

interface Plain {
  nodes: Map<string, string[]>;
  edges: Array<{ tail: string; head: string; label: string; style: string }>;
}

/** `dot -Tplain` of a DOT file: node name -> label lines; edges with label and style. */
function plain(dotFile: string): Plain {
  const r = spawnSync("dot", ["-Tplain", dotFile], { encoding: "utf8" });
  const nodes = new Map<string, string[]>();
  const edges: Plain["edges"] = [];
  // tokens: words or "quoted strings"
  for (const line of r.stdout.split("\n")) {
    const tok = [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c)) : m[2]!));
    if (tok[0] === "node") nodes.set(tok[1]!, tok[6]!.split("\n"));
    if (tok[0] === "edge") {
      const n = Number(tok[3]);
      const rest = tok.slice(4 + 2 * n);
      const labelled = rest.length >= 5;
      edges.push({ tail: tok[1]!, head: tok[2]!, label: labelled ? rest[0]! : "", style: labelled ? rest[3]! : rest[0]! });
    }
  }
  return { nodes, edges };
}

const STACKS: Record<string, string[]> = {
  iscsi: ["stack", "iscsi", "--drbd-resource", "r0", "--iqn", "iqn.2003-01.org.example:storage", "--lun", "1:/dev/drbd0", "--lun", "2:/dev/drbd1", "--ip", "10.0.0.50/24", "--initiator", "iqn.1993-08.org.debian:01:client", "--fencing", "none"],
  gfs2: ["stack", "gfs2", "--fs", "vg1/lv1:/srv/a", "--fs", "vg1/lv2:/srv/b", "--fencing", "none"],
  "drbd-fs": ["stack", "drbd-fs", "--drbd-resource", "r0", "--device", "/dev/drbd0", "--directory", "/srv/data", "--ip", "10.0.0.9/24", "--service", "systemd:nfs-server", "--fencing", "none"],
};

for (const [name, args] of Object.entries(STACKS)) {
  t.test(`stack ${name} --graph`, { skip }, async (t) => {
    const svg = join(dir, `${name}.svg`);
    const dot = join(dir, `${name}.dot`);
    const r = cli([...args, "--graph", svg]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^#!\/bin\/bash/, "the script is still printed");
    t.equal(cli([...args, "--graph", dot]).code, 0);
    // the resources the plan creates (clones by their primitive)
    const script = r.stdout;
    const ids = [...script.matchAll(/ resource create (\S+) /g)].map((m) => m[1]!);
    t.ok(ids.length >= 4, `${ids.length} resources`);
    const p = plain(dot);
    const labels = [...p.nodes.values()].map((l) => l[0]!);
    for (const id of ids) t.ok(labels.includes(id), `a box labelled ${id}`);
    // one box per clone instance on each node, one for everything else
    const clones = [...script.matchAll(/ resource create (\S+) .*(promotable|clone)/g)].map((m) => m[1]!);
    for (const id of ids) t.equal(labels.filter((l) => l === id).length, clones.includes(id) ? 2 : 1, `${id}: ${clones.includes(id) ? "an instance on each node" : "one instance"}`);
    const orders = [...script.matchAll(/ constraint order /g)].length;
    const colos = [...script.matchAll(/ constraint colocation add /g)].length;
    const solid = p.edges.filter((e) => e.style === "solid" && e.label !== "");
    const dashed = p.edges.filter((e) => e.style === "dashed");
    t.ok(solid.length >= orders, `${orders} order constraints drawn as ${solid.length} labelled arrows`);
    t.ok(dashed.length >= colos, `${colos} colocations drawn as ${dashed.length} dashed links`);
    // the image: every resource label visibly inside its own box
    const checks = checkLabels(svg, ids, dir);
    t.equal(checks.length, labels.filter((l) => ids.includes(l)).length, "every box checked");
    for (const c of checks) t.ok(c.ink > 20 && c.inside, `${c.label} (${c.node}) drawn inside its box: ${c.ink} px`);
    const nodes = svgNodes(readFileSync(svg, "utf8"));
    const promoted = nodes.filter((n) => n.texts.includes("Promoted"));
    if (name !== "gfs2") {
      t.equal(promoted.length, 1, "one Promoted instance");
      t.equal(promoted[0]!.outlines, 2, "drawn with a double border");
      t.ok(nodes.filter((n) => n.texts.includes("Unpromoted")).every((n) => n.outlines === 1), "Unpromoted ones with a single border");
    } else t.equal(promoted.length, 0);
  });
}

t.test("iscsi: the constraints are the arrows the stack documents", { skip }, async (t) => {
  const dot = join(dir, "iscsi.dot");
  const p = plain(dot);
  const label = (k: string) => p.nodes.get(k)?.[0];
  const e = (tail: string, head: string, style: string) => p.edges.filter((x) => label(x.tail) === tail && label(x.head) === head && x.style === style);
  t.same(e("iscsi-drbd", "iscsi-target", "solid").map((x) => x.label), ["promote → start"], "promote DRBD, then start the target");
  t.ok(e("iscsi-drbd", "iscsi-target", "solid").every((x) => x.tail.includes("@node 1")), "from the Promoted instance");
  t.same(e("iscsi-target", "iscsi-drbd", "dashed").map((x) => x.label), ["with Promoted"], "the target placed with the Promoted DRBD");
  t.same(e("iscsi-target", "iscsi-lun1", "solid").map((x) => x.label), ["start"]);
  t.same(e("iscsi-lun1", "iscsi-ip1", "solid").map((x) => x.label), ["start (optional)"]);
  t.same(e("iscsi-lun1", "iscsi-target", "dashed").map((x) => x.label), ["with"]);
});

t.test("a PNG straight from dot, and bad file names", { skip }, async (t) => {
  const png = join(dir, "gfs2.png");
  t.equal(cli([...STACKS.gfs2!, "--graph", png]).code, 0);
  t.equal(readFileSync(png).readUInt32BE(0), 0x89504e47, "a PNG file");
  const bad = cli([...STACKS.gfs2!, "--graph", join(dir, "x.jpeg")]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /use a \.svg, \.png, \.pdf or \.dot file name/);
});
