// The Debian package installed into a clean Debian 12 and a clean Debian 13 root (debootstrap
// chroots, cached; 13: Pacemaker 3.0, pcs 0.12, merged /usr), then
// used the way an operator would: pcs describes the agents, crm_resource shows every agent's
// metadata, the man pages render; purge removes everything. Also: the RPM spec builds.
import t from "tap";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "../lib/harness.js";
import { REPO } from "../lib/xml.js";
import { debRoot, DEB_TEST_PKGS } from "../lib/debroot.js";

const SUITES = [["bookworm", "Debian 12"], ["trixie", "Debian 13"]] as const;

function run(cmd: string, args: string[], o: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: o.cwd ?? REPO, env: { ...process.env, ...o.env }, timeout: 1800_000, maxBuffer: 64 << 20 });
  return { code: r.status ?? 128, out: `${r.stdout ?? ""}${r.stderr ?? ""}`, stdout: r.stdout ?? "" };
}

/** A minimal root of SUITE with Pacemaker's CLI, pcs and man, built once and cached. */
const baseRoot = (suite: string) => debRoot("pkgtest", suite, DEB_TEST_PKGS);

let deb = "";
t.test("the .deb builds", async (t) => {
  const p = run("bash", ["scripts/package.sh"]);
  t.equal(p.code, 0, p.out);
  deb = join(REPO, p.stdout.trim().split("\n").pop()!);
  t.ok(existsSync(deb), deb);
});

for (const [suite, platform] of SUITES) t.test(`the .deb installs on ${platform}, works with pcs/crm_resource/man, and purges cleanly`, async (t) => {
  if (!existsSync(deb)) return void t.fail("no .deb built");
  const base = baseRoot(suite);
  t.comment(`${platform}: ${run("chroot", [base, "dpkg-query", "-W", "-f", "${Package} ${Version}, ", "pacemaker-cli-utils", "pcs"]).stdout.replace(/, $/, "")}`);

  // a throwaway root: overlay over the cached base
  const tmp = scratchDir("debroot");
  const [upper, work, root] = ["upper", "work", "root"].map((d) => join(tmp, d));
  for (const d of [upper!, work!, root!]) mkdirSync(d);
  const mounts: string[] = [];
  const mount = (args: string[], at: string) => {
    const r = run("mount", [...args, at]);
    if (r.code !== 0) throw new Error(`mount ${args.join(" ")} ${at}: ${r.out}`);
    mounts.unshift(at);
  };
  t.teardown(() => {
    for (const m of mounts) run("umount", ["-l", m]);
    rmSync(tmp, { recursive: true, force: true });
  });
  mount(["-t", "overlay", "overlay", "-o", `lowerdir=${base},upperdir=${upper},workdir=${work}`], root!);
  mount(["-t", "proc", "proc"], join(root!, "proc"));
  mount(["--bind", "/dev"], join(root!, "dev"));
  copyFileSync(deb, join(root!, "tmp/tsstor.deb"));
  const ch = (cmd: string) => run("chroot", [root!, "sh", "-c", cmd], { env: { LC_ALL: "C", PATH: "/usr/sbin:/usr/bin:/sbin:/bin", DEBIAN_FRONTEND: "noninteractive" } });

  const inst = ch("apt-get install -y -q --no-install-recommends /tmp/tsstor.deb");
  t.equal(inst.code, 0, inst.out.slice(-3000));
  // one executable for the agents and the command (two embedded runtimes installed 216 MB)
  const size = Number(/^Installed-Size: (\d+)$/m.exec(ch("dpkg -s tsstor").stdout)?.[1]);
  t.ok(size > 0 && size <= 120 * 1024, `Installed-Size ${size} KiB, at most 120 MiB (the .deb: ${(statSync(deb).size / 1048576).toFixed(1)} MiB)`);
  t.equal(ch("find /usr/lib/tsstor /usr/sbin/tsstor -type f | wc -l").stdout.trim(), "1", "one executable file; the command is a link to it");
  const agents = ch("ls /usr/lib/ocf/resource.d/tsstor").stdout.split("\n").filter(Boolean);
  t.ok(agents.includes("IPaddr2"), `agents installed: ${agents.join(" ")}`);
  // each agent a shell front to it: a few KiB, execs /usr/lib/tsstor/tsstor-agents
  const fronts = ch("for f in /usr/lib/ocf/resource.d/tsstor/*; do printf '%s %s %s\\n' \"$(head -c 9 $f)\" $(stat -c %s $f) \"$(grep -c '^  exec /usr/lib/tsstor/tsstor-agents ' $f)\"; done").stdout.trim().split("\n");
  t.same(fronts.filter((l) => !/^#!\/bin\/sh \d{3,5} 1$/.test(l)), [], `every agent a small sh front execing the executable: ${fronts.join("; ")}`);
  const desc = ch("pcs resource describe ocf:tsstor:IPaddr2");
  t.equal(desc.code, 0, desc.out);
  t.match(desc.stdout, /ip \(required\)/);
  for (const a of agents) {
    const md = ch(`crm_resource --show-metadata ocf:tsstor:${a}`);
    t.equal(md.code, 0, `${a}: ${md.out.slice(0, 300)}`);
    t.match(md.stdout, new RegExp(`<resource-agent name="${a}"`));
    const man = ch(`MANPAGER=cat man ocf_tsstor_${a} 2>&1`);
    t.match(man.stdout, /SUPPORTED PARAMETERS/, `man ocf_tsstor_${a} renders`);
  }
  t.match(ch("MANPAGER=cat man 8 tsstor 2>&1").stdout, /tsstor stack iscsi/, "man tsstor renders");
  t.equal(ch("test -s /usr/share/bash-completion/completions/tsstor").code, 0, "bash completion installed");
  t.match(ch("tsstor stack --help").stdout, /tsstor stack iscsi/, "the tsstor command runs");
  // the iSCSI stack (DRBD promotable -> target -> LUN -> VIP) applied with this release's pcs to
  // an empty CIB of this release's Pacemaker (no cluster: pcs -f), then its crm_verify
  const stack = ch(
    "cd /tmp && cibadmin --empty > cib.xml && pcs -f cib.xml property set stonith-enabled=false && " +
      "tsstor stack iscsi --drbd-resource r0 --iqn iqn.2026-12.org.example:t1 --lun 0:/dev/drbd0 --ip 192.0.2.10/24 --implementation lio-t " +
      "--initiator iqn.2026-12.org.example:c1 --fencing none --apply --quiet --cib /tmp/cib.xml && crm_verify -x /tmp/cib.xml",
  );
  t.equal(stack.code, 0, `${platform}: stack applied and verified: ${stack.out.slice(-2000)}`);
  const cib = ch("cat /tmp/cib.xml").stdout;
  for (const id of ["iscsi-drbd", "iscsi-target", "iscsi-lun0", "iscsi-ip1"]) t.match(cib, new RegExp(`<primitive id="${id}" class="ocf" type="[^"]+" provider="tsstor"`), `${platform}: ${id} in the CIB`);
  t.match(cib, /id="iscsi-drbd-clone-meta_attributes-promoted-max" name="promoted-max" value="1"/, `${platform}: promoted-max on the clone, not the primitive`);
  t.match(cib, /<rsc_colocation [^>]*rsc="iscsi-target"[^>]*with-rsc="iscsi-drbd-clone"[^>]*with-rsc-role="Promoted"|<rsc_colocation [^>]*with-rsc-role="Promoted"[^>]*rsc="iscsi-target"/, `${platform}: the target with the Promoted role`);
  const purge = ch("apt-get purge -y -q tsstor");
  t.equal(purge.code, 0, purge.out.slice(-2000));
  for (const f of ["/usr/lib/tsstor", "/usr/lib/ocf/resource.d/tsstor", "/usr/share/doc/tsstor", "/usr/share/man/man7/ocf_tsstor_IPaddr2.7.gz", "/usr/sbin/tsstor", "/usr/share/man/man8/tsstor.8.gz"]) {
    t.equal(ch(`test -e ${f}`).code, 1, `${f} removed by purge`);
  }
  t.equal(ch("dpkg -s tsstor").code, 1, "no trace in dpkg");
});

t.test("the RPM spec builds (rpmbuild on this host)", async (t) => {
  if (run("sh", ["-c", "command -v rpmbuild"]).code !== 0) return void t.pass("skipped: rpmbuild not installed");
  const src = scratchDir("rpmsrc");
  const top = scratchDir("rpmtop");
  t.teardown(() => {
    rmSync(src, { recursive: true, force: true });
    rmSync(top, { recursive: true, force: true });
  });
  // the checkout's files (tracked and new), as a source tree
  const files = run("git", ["ls-files", "-co", "--exclude-standard"]).stdout.split("\n").filter((f) => f && existsSync(join(REPO, f)));
  for (const f of files) {
    mkdirSync(join(src, f, ".."), { recursive: true });
    copyFileSync(join(REPO, f), join(src, f));
  }
  const r = run("rpmbuild", ["-bb", "--nodeps", "--define", `_sourcedir ${src}`, "--define", `_topdir ${top}`, join(src, "packaging/rpm/tsstor.spec")]);
  t.equal(r.code, 0, r.out.slice(-3000));
  const rpms = readdirSync(join(top, "RPMS/x86_64"));
  t.equal(rpms.length, 1, rpms.join(" "));
  const list = run("rpm", ["-qlp", join(top, "RPMS/x86_64", rpms[0]!)]).stdout;
  t.match(list, /\/usr\/lib\/tsstor\/tsstor-agents/);
  t.match(list, /\/usr\/lib\/ocf\/resource.d\/tsstor\/IPaddr2/);
  t.match(list, /ocf_tsstor_IPaddr2\.7/);
  t.match(list, /\/usr\/sbin\/tsstor/);
  t.match(list, /tsstor\.8/);
});
