import t from "tap";
import { XMLParser } from "fast-xml-parser";
import { defineAgent, p } from "../../lib/ocf/declaration.js";
import { renderMetadata, xmlSafe } from "../../lib/ocf/metadata.js";
import { checkDtd, checkRng } from "../lib/xml.js";

const hostile = `<script>alert("x")</script> & ]]> <!-- --> <![CDATA[ x ]]> ' " \u0001\u0007\u001b[31m \uFFFE é 日本 🙂`;

const decl = defineAgent({
  name: "Hostile",
  version: "1.0\"<>",
  shortdesc: hostile,
  longdesc: `line1\n${hostile}\nline3`,
  params: {
    a: p.string({ shortdesc: hostile, longdesc: hostile, default: hostile, required: true, uniqueGroup: "g&<" }),
    b: p.select(["x<y", "a&b", "q\"q"] as const, { shortdesc: "s", longdesc: "l", default: "a&b", reloadable: true }),
    c: p.integer({ shortdesc: "s", longdesc: "l", default: 3, deprecated: { replacedWith: ["a"], desc: hostile } }),
    d: p.boolean({ shortdesc: "s", longdesc: "l", default: true }),
  },
  actions: [
    { name: "start", timeout: 20 },
    { name: "stop", timeout: 20 },
    { name: "monitor", timeout: 20, interval: 10, depth: 0, role: "Promoted" },
    { name: "monitor", timeout: 20, interval: 11, role: "Unpromoted" },
    { name: "reload-agent", timeout: 20 },
    { name: "meta-data", timeout: 5 },
  ],
});

const parser = new XMLParser({ parseTagValue: false, parseAttributeValue: false, ignoreAttributes: false, attributeNamePrefix: "@_", isArray: (n) => ["parameter", "action", "option"].includes(n) });

t.test("1.1 metadata passes the OCF 1.1 RNG with hostile text, and round-trips", async (t) => {
  const xml = renderMetadata(decl, "1.1");
  const v = checkRng(xml);
  t.ok(v.ok, v.out);
  t.notMatch(xml, /<script>/);
  t.notMatch(xml, /\u0001|\u0007|\u001b|\uFFFE/, "characters XML cannot carry are dropped");
  const doc = parser.parse(xml)["resource-agent"];
  t.equal(doc.version, "1.1");
  t.equal(doc["@_version"], '1.0"<>');
  const a = doc.parameters.parameter[0];
  t.equal(a["@_unique-group"], "g&<");
  t.equal(a["@_unique"], "1", "unique=1 kept beside unique-group");
  t.equal(a["@_required"], "1");
  t.equal(a.content["@_default"], xmlSafe(hostile).replace(/\s+$/, ""));
  const b = doc.parameters.parameter[1];
  t.equal(b["@_reloadable"], "1");
  t.same(b.content.option.map((o: any) => o["@_value"]), ["x<y", "a&b", 'q"q']);
  t.equal(b.content["@_type"], "select");
  const c = doc.parameters.parameter[2];
  t.equal(c.deprecated["replaced-with"]["@_name"], "a");
  t.same(doc.actions.action.map((x: any) => x["@_timeout"]), ["20s", "20s", "20s", "20s", "20s", "5s"], "every action has a timeout in s");
  t.equal(doc.actions.action[2]["@_role"], "Promoted");
  t.match(xml, /<parameter name="a"[^>]*>\s*<longdesc/, "longdesc first, as the schema orders it");
});

t.test("1.0 metadata passes the DTD: 1.1-only parts dropped", async (t) => {
  const xml = renderMetadata(decl, "1.0");
  const v = checkDtd(xml);
  t.ok(v.ok, v.out);
  t.match(xml, /<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">/);
  t.notMatch(xml, /unique-group|reloadable|<deprecated|<option|reload-agent/);
  t.match(xml, /type="string" default="a&amp;b"/, "select shown as string");
  t.match(xml, /Allowed values: x&lt;y, a&amp;b, q&quot;q/);
  t.match(xml, /role="Master"/);
  t.match(xml, /role="Slave"/);
  const doc = parser.parse(xml)["resource-agent"];
  t.equal(doc.parameters.parameter.length, 4, "same parameters");
});
