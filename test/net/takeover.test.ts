// The pieces of IPaddr2's tickle_ports that need no cluster: attrd's and crm_node's answers, and
// the parameter's checks through the built agent. The whole path (a monitor publishing a held
// iSCSI session's connection in attrd, the survivor's start resetting it) runs on the live rig:
// test/rig/stackfile.test.ts.
import t from "tap";
import { parseNodes, parseQuery } from "../../lib/cluster/attrd.js";
import { attributeName } from "../../lib/net/takeover.js";
import { agentPath, runAgent } from "../lib/harness.js";

t.test("attrd_updater -Q and crm_node -l answers", async (t) => {
  t.equal(parseQuery('name="tsstor-clients-vip" host="n2" value="10.0.0.9:3260 10.0.0.50:40112,10.0.0.9:3260 10.0.0.51:39000"\n'), "10.0.0.9:3260 10.0.0.50:40112,10.0.0.9:3260 10.0.0.51:39000");
  t.equal(parseQuery('<pacemaker-result api-version="2.30" request="attrd_updater -Q"><attribute name="x" value="a &amp; b" host="n1"/></pacemaker-result>'), "a & b", "XML output, entities decoded");
  t.equal(parseQuery('name="x" host="n1" value=""'), "", "set but empty");
  t.equal(parseQuery("attrd_updater: Could not connect"), undefined);
  t.same(parseNodes("1 n1 member\n2 n2 lost\n3 n3 member\n"), ["n1", "n2", "n3"], "every known node, lost ones too (they get the list when they return)");
  t.same(parseNodes("garbage\n\n"), []);
  t.equal(attributeName("vip"), "tsstor-clients-vip");
  t.equal(attributeName("vip:1"), "tsstor-clients-vip", "a clone instance's number dropped");
});

t.test("tickle_ports: checked like every parameter", async (t) => {
  const bin = agentPath("IPaddr2");
  for (const bad of ["abc", "3260;reboot", "0", "65536", "3260,,x", "$(id)"]) {
    const r = runAgent(bin, "validate-all", { params: { ip: "10.0.0.9", tickle_ports: bad } });
    t.equal(r.code, 6, `tickle_ports=${JSON.stringify(bad)}: exit 6`);
    t.match(r.stderr, /ocf-exit-reason:.*tickle_ports must be TCP ports separated by commas/, "with the reason");
  }
  const ok = runAgent(bin, "meta-data", {});
  t.match(ok.stdout, /<parameter name="tickle_ports"/, "in the metadata");
});
