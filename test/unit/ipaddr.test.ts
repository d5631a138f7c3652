import t from "tap";
import { addOffset, broadcast4, formatIPv6, isLinkLocal6, parseIP, parseIPv6, parsePrefix } from "../../lib/net/address.js";

t.test("IPv4 strict syntax", async (t) => {
  t.equal(parseIP("10.0.0.1")?.text, "10.0.0.1");
  for (const bad of ["10.0.0", "10.0.0.256", "010.0.0.1", "10.0.0.1 ", "1.2.3.4.5", "", "a.b.c.d", "10.0.0.-1", "10.0.0.1/24"]) {
    t.equal(parseIP(bad), undefined, bad);
  }
});

t.test("IPv6 parsing and RFC 5952 canonical form", async (t) => {
  const cases: Array<[string, string]> = [
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["::", "::"],
    ["::1", "::1"],
    ["fe80::0001", "fe80::1"],
    ["2001:db8::0:1", "2001:db8::1"],
    ["::ffff:192.0.2.1", "::ffff:c000:201"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
  ];
  for (const [i, o] of cases) t.equal(parseIP(i)?.text, o, i);
  for (const bad of ["1::2::3", "12345::", "g::1", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":::", "1::2:3:4:5:6:7:8", "fe80::1%eth0"]) {
    t.equal(parseIPv6(bad), undefined, bad);
  }
  t.equal(formatIPv6(0n), "::");
  t.ok(isLinkLocal6(parseIP("fe80::1")!));
  t.ok(isLinkLocal6(parseIP("febf::1")!));
  t.notOk(isLinkLocal6(parseIP("fec0::1")!));
});

t.test("netmasks: CIDR and dotted quad", async (t) => {
  t.equal(parsePrefix("24", 4), 24);
  t.equal(parsePrefix("255.255.255.0", 4), 24);
  t.equal(parsePrefix("255.255.255.255", 4), 32);
  t.equal(parsePrefix("255.0.255.0", 4), undefined, "non-contiguous");
  t.equal(parsePrefix("0", 4), undefined);
  t.equal(parsePrefix("33", 4), undefined);
  t.equal(parsePrefix("64", 6), 64);
  t.equal(parsePrefix("129", 6), undefined);
  t.equal(parsePrefix("255.255.255.0", 6), undefined);
  t.equal(parsePrefix("24x", 4), undefined);
});

t.test("clone offsets and broadcast", async (t) => {
  t.equal(addOffset(parseIP("10.0.0.10")!, 2)?.text, "10.0.0.12");
  t.equal(addOffset(parseIP("10.0.0.255")!, 1), undefined);
  t.equal(addOffset(parseIP("2001:db8::ffff")!, 1)?.text, "2001:db8::1:0");
  t.equal(broadcast4(parseIP("10.1.2.3")!, 24), "10.1.2.255");
  t.equal(broadcast4(parseIP("10.1.2.3")!, 16), "10.1.255.255");
});
