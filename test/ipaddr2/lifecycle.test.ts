// IPaddr2 for real: iproute2 in a node namespace joined to a peer namespace by veth, the
// announcements captured on the peer side.
import t from "tap";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { agentPath } from "../lib/harness.js";
import { NetPair } from "../lib/netns.js";

const bin = agentPath("IPaddr2");
const net = new NetPair("tsvl");
t.teardown(() => net.destroy());
net.ip(["addr", "add", "10.241.0.1/24", "dev", net.nic]);
net.ip(["addr", "add", "10.241.0.2/24", "dev", net.peerNic], "peer");
net.ip(["-6", "addr", "add", "fd41::1/64", "dev", net.nic, "nodad"]);
net.ip(["-6", "addr", "add", "fd41::2/64", "dev", net.peerNic, "nodad"], "peer");

const run = (action: string, params: Record<string, string>, meta: Record<string, string | number> = {}, env: Record<string, string> = {}) =>
  net.agent(bin, action, { params, meta: { timeout: 20000, ...meta }, env, instance: "vip" });
const recurring = { interval: 10000 };

t.test("IPv4 lifecycle with discovery, gratuitous ARP seen by the peer", async (t) => {
  const p = { ip: "10.241.0.50" };
  t.equal(run("monitor", p).code, 7, "probe: not running");
  const cap = await net.capture(["arp"]);
  const s = run("start", p);
  t.equal(s.code, 0, s.stderr);
  t.match(net.addrs(4), new RegExp(`inet 10.241.0.50/24 brd 10.241.0.255 .*${net.nic}`), "added with the route's prefix and broadcast on the route's nic");
  await new Promise((r) => setTimeout(r, 1500)); // 5 announcements, 200 ms apart, in the background
  const lines = await cap.stop();
  const mine = lines.filter((l) => /10\.241\.0\.50/.test(l));
  const requests = mine.filter((l) => /Request who-has 10\.241\.0\.50 tell 10\.241\.0\.50/.test(l));
  t.ok(requests.length === 5 || mine.length >= 5, `5 gratuitous ARP announcements (saw ${mine.length} packets: ${requests.length} requests)`);
  t.equal(run("monitor", p, recurring).code, 0);
  t.equal(run("start", p).code, 0, "double start");
  t.equal(run("stop", p).code, 0);
  t.notMatch(net.addrs(4), /10\.241\.0\.50/);
  t.equal(run("stop", p).code, 0, "double stop");
  t.equal(run("monitor", p).code, 7);
});

t.test("arp_count=0 sends nothing; reply mode with -A", async (t) => {
  const cap = await net.capture(["arp"]);
  t.equal(run("start", { ip: "10.241.0.51", arp_count: "0" }).code, 0);
  await new Promise((r) => setTimeout(r, 500));
  t.same((await cap.stop()).filter((l) => /10\.241\.0\.51/.test(l)), [], "no ARP with arp_count=0");
  t.equal(run("stop", { ip: "10.241.0.51" }).code, 0);

  const cap2 = await net.capture(["arp"]);
  const r = run("start", { ip: "10.241.0.52", arp_count: "2", arp_sender: "iputils_arping", send_arp_opts: "-A", arp_bg: "false" });
  t.equal(r.code, 0, r.stderr);
  const l2 = (await cap2.stop()).filter((l) => /10\.241\.0\.52/.test(l));
  t.equal(l2.filter((l) => /Reply 10\.241\.0\.52 is-at/.test(l)).length, 2, "two ARP replies (arping -A), in the foreground");
  t.equal(run("stop", { ip: "10.241.0.52" }).code, 0);
});

t.test("IPv6 lifecycle: DAD waited out, unsolicited NAs seen by the peer, canonical form", async (t) => {
  const p = { ip: "FD41:0:0::0050", arp_count: "3" };
  const cap = await net.capture(["icmp6"]);
  const s = run("start", p);
  t.equal(s.code, 0, s.stderr);
  t.match(net.addrs(6), /inet6 fd41::50\/64 scope global/);
  t.notMatch(net.addrs(6), /fd41::50\/64.*tentative/, "DAD finished before start returned");
  const lines = await cap.stop();
  const na = lines.filter((l) => /neighbor advertisement, .*tgt is fd41::50/.test(l));
  t.equal(na.length, 3, `3 unsolicited NAs (got ${na.length}); agent said: ${s.stderr}`);
  t.match(lines.join("\n"), /fd41::50 > ff02::1: \[icmp6 sum ok\] ICMP6, neighbor advertisement.*Flags \[override\]/s);
  t.equal(run("monitor", p, recurring).code, 0);
  t.equal(run("stop", p).code, 0);
  t.notMatch(net.addrs(6), /fd41::50/);
});

t.test("IPv6 duplicate address: start removes the address and fails with a reason", async (t) => {
  net.ip(["-6", "addr", "add", "fd41::66/64", "dev", net.peerNic, "nodad"], "peer");
  const r = run("start", { ip: "fd41::66" });
  t.equal(r.code, 1);
  t.match(r.reason, /duplicate address detection failed/);
  t.notMatch(net.addrs(6), /fd41::66/, "the dadfailed address was removed");
  t.equal(run("monitor", { ip: "fd41::66" }).code, 7);
  t.equal(run("stop", { ip: "fd41::66" }).code, 0);
});

t.test("label: added with the label; missing label is a partial failure", async (t) => {
  const p = { ip: "10.241.0.53", iflabel: "vip" };
  t.equal(run("start", p).code, 0);
  t.match(net.addrs(4), new RegExp(`10\\.241\\.0\\.53/24 .*${net.nic}:vip`));
  // an operator re-adds it without the label behind the agent's back
  net.ip(["addr", "del", "10.241.0.53/24", "dev", net.nic]);
  net.ip(["addr", "add", "10.241.0.53/24", "dev", net.nic]);
  const m = run("monitor", p, recurring);
  t.equal(m.code, 1);
  t.match(m.reason, /lacks its label/);
  t.equal(run("stop", p).code, 0);
  const long = run("validate-all", { ip: "10.241.0.53", nic: "averyveryverylong", iflabel: "x" });
  t.equal(long.code, 6);
});

t.test("address moved to another NIC is a partial failure; link down is not running", async (t) => {
  net.ip(["link", "add", "tsvl-x", "type", "veth", "peer", "name", "tsvl-y"]);
  t.teardown(() => void net.ip(["link", "del", "tsvl-x"]));
  const p = { ip: "10.241.0.54", nic: net.nic, cidr_netmask: "24" };
  t.equal(run("start", p).code, 0);
  net.ip(["addr", "del", "10.241.0.54/24", "dev", net.nic]);
  net.ip(["addr", "add", "10.241.0.54/24", "dev", "tsvl-x"]);
  const m = run("monitor", p, recurring);
  t.equal(m.code, 1);
  t.match(m.reason, /on tsvl-x instead of/);
  net.ip(["addr", "del", "10.241.0.54/24", "dev", "tsvl-x"]);
  net.ip(["addr", "add", "10.241.0.54/24", "dev", net.nic]);
  t.equal(run("monitor", p, recurring).code, 0);
  net.ip(["link", "set", net.peerNic, "down"], "peer");
  const down = run("monitor", p, recurring);
  t.equal(down.code, 7, "peer down -> our link down");
  t.match(down.reason, /link of .* is down/);
  t.equal(run("monitor", { ...p, check_link_status: "false" }, recurring).code, 0, "check_link_status=false ignores it");
  net.ip(["link", "set", net.peerNic, "up"], "peer");
  t.equal(run("stop", p).code, 0);
});

t.test("nic/netmask discovery: most specific connected route, then lowest metric; proto honoured", async (t) => {
  net.ip(["link", "add", "tsvl-m1", "type", "veth", "peer", "name", "tsvl-m2"]);
  net.ip(["link", "set", "tsvl-m1", "up"]);
  net.ip(["link", "set", "tsvl-m2", "up"]);
  t.teardown(() => void net.ip(["link", "del", "tsvl-m1"]));
  net.ip(["route", "add", "10.242.0.0/16", "dev", net.nic, "metric", "50"]);
  net.ip(["route", "add", "10.242.1.0/24", "dev", "tsvl-m1", "metric", "200"]);
  net.ip(["route", "add", "10.242.1.0/24", "dev", "tsvl-m2", "metric", "100", "proto", "static"]);
  net.ip(["route", "add", "unreachable", "10.242.1.0/25", "metric", "1"]);
  net.ip(["route", "add", "blackhole", "10.243.0.0/24"]);
  const check = (ip: string, params: Record<string, string>, nic: string, prefix: number) => {
    const r = run("start", { ip, ...params });
    t.equal(r.code, 0, `${ip} ${JSON.stringify(params)}: ${r.reason}`);
    t.match(net.addrs(4), new RegExp(`${nic}\\s+inet ${ip.replace(/\./g, "\\.")}/${prefix} `), `${ip} on ${nic}/${prefix}`);
    t.equal(run("stop", { ip }).code, 0);
  };
  check("10.242.1.10", {}, "tsvl-m2", 24); // /24 beats /16; metric 100 beats 200; unreachable ignored
  check("10.242.1.11", { proto: "boot" }, "tsvl-m1", 24); // `ip route add` default proto is boot
  check("10.242.2.10", {}, net.nic, 16);
  check("10.242.1.12", { nic: net.nic }, net.nic, 16); // nic given: its route's prefix
  check("10.242.1.13", { nic: "tsvl-m1", cidr_netmask: "255.255.255.240" }, "tsvl-m1", 28); // both given: no route needed, dotted quad
  const none = run("start", { ip: "10.243.0.5" });
  t.equal(none.code, 5, "only a blackhole route: discovery fails at start with 5");
  t.match(none.reason, /cannot find a connected route to 10\.243\.0\.5/);
  t.equal(run("validate-all", { ip: "10.243.0.5" }, {}, { OCF_CHECK_LEVEL: "10" }).code, 6, "validate-all 6");
  t.equal(run("monitor", { ip: "10.243.0.5" }).code, 7, "probe 7");
  t.equal(run("stop", { ip: "10.243.0.5" }).code, 0, "stop 0");
  for (const r of [["10.242.0.0/16"], ["unreachable", "10.242.1.0/25"], ["blackhole", "10.243.0.0/24"]]) net.ip(["route", "del", ...r]);
});

t.test("ownership: a static address is never adopted nor removed", async (t) => {
  net.ip(["addr", "add", "10.241.0.60/24", "dev", net.nic]);
  const p = { ip: "10.241.0.60" };
  const probe = run("monitor", p);
  t.equal(probe.code, 6, "probe reports the foreign address");
  t.match(probe.reason, /already configured on .* but was not added by the cluster/);
  const s = run("start", p);
  t.equal(s.code, 6, "start refuses to adopt it");
  const st = run("stop", p);
  t.equal(st.code, 0, "stop succeeds");
  t.match(st.stderr, /not added by the cluster: left alone/);
  t.match(net.addrs(4), /10\.241\.0\.60\/24/, "and leaves it in place");
  net.ip(["addr", "del", "10.241.0.60/24", "dev", net.nic]);
});

t.test("crash after the record, before the address: start converges, monitor agrees", async (t) => {
  const p = { ip: "10.241.0.61" };
  const rec = join(net.rscTmp, "tsstor-IPaddr2-10.241.0.61");
  writeFileSync(rec, JSON.stringify({ ip: "10.241.0.61", family: 4, prefix: 24, nic: net.nic, instance: "vip" }));
  t.equal(run("monitor", p).code, 7, "probe: record without address is not running");
  t.equal(run("start", p).code, 0);
  t.equal(run("monitor", p, recurring).code, 0);
  t.equal(run("stop", p).code, 0);
  t.notOk(existsSync(rec), "record removed by stop");
});

t.test("a vanished address is not running for a recurring monitor; a vanished nic is a failure", async (t) => {
  const p = { ip: "10.241.0.62" };
  t.equal(run("start", p).code, 0);
  net.ip(["addr", "del", "10.241.0.62/24", "dev", net.nic]);
  const m = run("monitor", p, recurring);
  t.equal(m.code, 7);
  t.match(m.reason, /no longer on/);
  t.equal(run("stop", p).code, 0);
  t.equal(run("monitor", { ip: "10.241.0.62", nic: "ethVanished" }, recurring).code, 1);
});

t.test("unique_clone_address: clone N manages ip + N (IPv4 and IPv6)", async (t) => {
  const meta = { clone: 2, clone_max: 3, globally_unique: "true" };
  t.equal(run("start", { ip: "10.241.0.70", unique_clone_address: "true" }, meta).code, 0);
  t.match(net.addrs(4), /10\.241\.0\.72\/24/);
  t.equal(run("stop", { ip: "10.241.0.70", unique_clone_address: "true" }, meta).code, 0);
  t.notMatch(net.addrs(4), /10\.241\.0\.72/);
  const r6 = run("start", { ip: "fd41::70", unique_clone_address: "true", nodad: "true", arp_count: "1" }, meta);
  t.equal(r6.code, 0, r6.stderr);
  t.match(net.addrs(6), /fd41::72\/64/);
  t.equal(run("stop", { ip: "fd41::70", unique_clone_address: "true" }, meta).code, 0);
  const nu = run("start", { ip: "10.241.0.70", unique_clone_address: "true" }, { clone: 1, clone_max: 2, globally_unique: "false" });
  t.equal(nu.code, 6);
  t.match(nu.reason, /globally-unique/);
  const cip = run("start", { ip: "10.241.0.70" }, { clone: 0, clone_max: 2 });
  t.equal(cip.code, 6, "load-sharing clone without unique_clone_address: not supported");
  t.match(cip.reason, /CLUSTERIP/);
});

t.test("network_namespace: the address is managed inside the named namespace", async (t) => {
  // the agent runs in the host namespace and re-runs itself in the node namespace
  const p = { ip: "10.241.0.80", network_namespace: net.node };
  const o = { params: p, meta: { timeout: 20000 }, env: { HA_RSCTMP: net.rscTmp }, instance: "nsvip" };
  const { runAgent } = await import("../lib/harness.js");
  const s = runAgent(bin, "start", o);
  t.equal(s.code, 0, s.stderr);
  t.match(net.addrs(4), /10\.241\.0\.80\/24/);
  t.equal(runAgent(bin, "monitor", { ...o, meta: { timeout: 20000, interval: 10000 } }).code, 0);
  t.equal(runAgent(bin, "stop", o).code, 0);
  t.notMatch(net.addrs(4), /10\.241\.0\.80/);
  const bad = runAgent(bin, "validate-all", { ...o, params: { ...p, network_namespace: "no-such-ns" }, env: { ...o.env, OCF_CHECK_LEVEL: "10" } });
  t.equal(bad.code, 5);
  t.equal(runAgent(bin, "validate-all", { ...o, params: { ...p, network_namespace: "../etc" } }).code, 6);
});

t.test("loopback: 127.0.0.x found in the local table", async (t) => {
  const p = { ip: "127.0.0.3" };
  t.equal(run("start", p).code, 0);
  t.match(net.addrs(4), /lo\s+inet 127\.0\.0\.3\/8/);
  t.equal(run("monitor", p, recurring).code, 0);
  t.equal(run("stop", p).code, 0);
});

t.test("run_arping: an IPv4 collision fails start", async (t) => {
  const r = run("start", { ip: "10.241.0.2", run_arping: "true" });
  t.equal(r.code, 1);
  t.match(r.reason, /collision/);
  t.notMatch(net.addrs(4), /10\.241\.0\.2\//);
  t.equal(readFileSync("/proc/self/stat", "utf8").length > 0, true);
});
