// IPaddr2: the black-box conformance suite, bad input, and Pacemaker's own tools.
import t from "tap";
import { join } from "node:path";
import { conformance, scratchDir } from "../lib/harness.js";
import { installAgents, sh } from "../lib/install.js";
import { NetPair } from "../lib/netns.js";

installAgents(["IPaddr2"]);
const tmp = scratchDir("ip2c");

// Every malformed value: validate-all 6 with a reason naming the parameter.
const bad: Array<[Record<string, string>, string]> = [
  [{}, "parameter ip is required"],
  [{ ip: "not_ip_address" }, "parameter ip"],
  [{ ip: "10.0.0.256" }, "parameter ip"],
  [{ ip: "10.0.0.1; rm -rf /" }, "parameter ip"],
  [{ ip: "-10.0.0.1" }, "parameter ip"],
  [{ ip: "1::2::3" }, "parameter ip"],
  [{ ip: "10.0.0.1", cidr_netmask: "not_netmask" }, "parameter cidr_netmask"],
  [{ ip: "10.0.0.1", cidr_netmask: "33" }, "parameter cidr_netmask"],
  [{ ip: "10.0.0.1", cidr_netmask: "255.0.255.0" }, "parameter cidr_netmask"],
  [{ ip: "fd00::1", cidr_netmask: "129" }, "parameter cidr_netmask"],
  [{ ip: "10.0.0.1", netmask: "xx" }, "parameter cidr_netmask"],
  [{ ip: "10.0.0.1", broadcast: "not_broadcast" }, "parameter broadcast"],
  [{ ip: "10.0.0.1", nic: "eth0/../x" }, "parameter nic"],
  [{ ip: "10.0.0.1", nic: "-eth0" }, "parameter nic"],
  [{ ip: "10.0.0.1", nic: "averyveryverylongname" }, "parameter nic"],
  [{ ip: "10.0.0.1", nic: "eth0", iflabel: "toolonglabel1" }, "parameter iflabel"],
  [{ ip: "10.0.0.1", iflabel: "bad label" }, "parameter iflabel"],
  [{ ip: "fd00::1", iflabel: "x" }, "parameter iflabel"],
  [{ ip: "fe80::1" }, "parameter nic is required for the link-local address"],
  [{ ip: "10.0.0.1", lvs_support: "true" }, "parameter lvs_support is not supported"],
  [{ ip: "10.0.0.1", lvs_ipv6_addrlabel: "true" }, "parameter lvs_ipv6_addrlabel"],
  [{ ip: "10.0.0.1", mac: "zz:00:00:00:00:00" }, "parameter mac"],
  [{ ip: "10.0.0.1", arp_interval: "0" }, "parameter arp_interval"],
  [{ ip: "10.0.0.1", arp_count: "-1" }, "parameter arp_count"],
  [{ ip: "10.0.0.1", arp_count: "five" }, "parameter arp_count"],
  [{ ip: "10.0.0.1", arp_count_refresh: "x" }, "parameter arp_count_refresh"],
  [{ ip: "10.0.0.1", arp_bg: "maybe" }, "parameter arp_bg"],
  [{ ip: "10.0.0.1", arp_sender: "curl" }, "parameter arp_sender"],
  [{ ip: "10.0.0.1", send_arp_opts: "-w 99999" }, "parameter send_arp_opts"],
  [{ ip: "10.0.0.1", send_arp_opts: "$(reboot)" }, "parameter send_arp_opts"],
  [{ ip: "10.0.0.1", preferred_lft: "" + "soon" }, "parameter preferred_lft"],
  [{ ip: "10.0.0.1", network_namespace: "../../etc" }, "parameter network_namespace"],
  [{ ip: "10.0.0.1", proto: "kernel; x" }, "parameter proto"],
  [{ ip: "10.0.0.1", flush_routes: "sometimes" }, "parameter flush_routes"],
  [{ ip: "10.0.0.1", clusterip_hash: "random" }, "parameter clusterip_hash"],
  [{ ip: "10.0.0.1", nodad: "2" }, "parameter nodad"],
];

conformance(t, {
  agent: "IPaddr2",
  valid: { ip: "10.250.99.1", nic: "eth0", cidr_netmask: "24" },
  env: { HA_RSCTMP: tmp },
  invalid: bad.map(([params, names]) => ({ params, names })),
});

t.test("valid values that look odd are accepted", async (t) => {
  const { agentPath, runAgent } = await import("../lib/harness.js");
  const bin = agentPath("IPaddr2");
  for (const params of [
    { ip: "10.0.0.1", cidr_netmask: "255.255.255.0" },
    { ip: "2001:DB8::1" },
    { ip: "10.0.0.1", broadcast: "+" },
    { ip: "10.0.0.1", broadcast: "-" },
    { ip: "10.0.0.1", nic: "eth0:vip" },
    { ip: "10.0.0.1", arp_count: "0" },
    { ip: "10.0.0.1", arp_bg: "no", send_arp_opts: "-A" },
    { ip: "fe80::1", nic: "eth0" },
    { ip: "10.0.0.1", proto: "kernel", preferred_lft: "0" },
  ]) {
    const r = runAgent(bin, "validate-all", { params, env: { HA_RSCTMP: tmp } });
    t.equal(r.code, 0, `${JSON.stringify(params)}: ${r.reason}`);
  }
});

t.test("crm_resource --validate: good and bad", async (t) => {
  const base = ["--validate", "--class", "ocf", "--provider", "tsstor", "--agent", "IPaddr2"];
  const ok = sh("crm_resource", [...base, "--option", "ip=192.168.122.10", "--option", "cidr_netmask=24", "--option", "nic=eth0"]);
  t.equal(ok.code, 0, ok.out);
  const badIp = sh("crm_resource", [...base, "--option", "ip=192.168.122.300", "--output-as=xml"]);
  t.equal(badIp.code, 6);
  t.match(badIp.stdout, /reason="parameter ip is not a valid IPv4 or IPv6 address/);
  const badCount = sh("crm_resource", [...base, "--option", "ip=192.168.122.10", "--option", "arp_count=lots"]);
  t.equal(badCount.code, 6);
});

t.test("pcs -f: typical creation accepted, unknown parameter rejected", async (t) => {
  const cib = join(tmp, "cib.xml");
  sh("bash", ["-c", `cibadmin --empty > ${cib}`]);
  const ok = sh("pcs", ["-f", cib, "resource", "create", "vip", "ocf:tsstor:IPaddr2", "ip=192.168.122.10", "cidr_netmask=24", "nic=eth0", "op", "monitor", "interval=10s"]);
  t.equal(ok.code, 0, ok.out);
  const v6 = sh("pcs", ["-f", cib, "resource", "create", "vip6", "ocf:tsstor:IPaddr2", "ip=2001:db8::10", "cidr_netmask=64", "arp_count=3"]);
  t.equal(v6.code, 0, v6.out);
  const unknown = sh("pcs", ["-f", cib, "resource", "create", "vip2", "ocf:tsstor:IPaddr2", "ip=192.168.122.11", "ipaddr=1"]);
  t.not(unknown.code, 0);
  t.match(unknown.stderr, /invalid resource option 'ipaddr'/);
  const dup = sh("pcs", ["-f", cib, "resource", "create", "vip3", "ocf:tsstor:IPaddr2", "ip=192.168.122.10"]);
  t.not(dup.code, 0, "the same ip twice is refused (unique-group)");
  t.match(sh("pcs", ["-f", cib, "resource", "config", "vip"]).stdout, /class=ocf provider=tsstor type=IPaddr2/);
});

t.test("ocf-tester passes with IPv4 and with IPv6 parameters (in a namespace)", async (t) => {
  const net = new NetPair("tsvo");
  t.teardown(() => net.destroy());
  net.ip(["addr", "add", "10.244.0.1/24", "dev", net.nic]);
  net.ip(["-6", "addr", "add", "fd44::1/64", "dev", net.nic, "nodad"]);
  const tester = (opts: string[]) =>
    sh("ip", ["netns", "exec", net.node, "env", `HA_RSCTMP=${net.rscTmp}`, "ocf-tester", "-n", "vip", ...opts.flatMap((o) => ["-o", o]), "/usr/lib/ocf/resource.d/tsstor/IPaddr2"]);
  const v4 = tester(["ip=10.244.0.10"]);
  t.equal(v4.code, 0, v4.out);
  t.match(v4.out, /passed all tests/);
  const v6 = tester(["ip=fd44::10", "nodad=true", "arp_count=1"]);
  t.equal(v6.code, 0, v6.out);
  t.match(v6.out, /passed all tests/);
});
