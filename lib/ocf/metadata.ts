// Metadata XML from the declaration, built with fast-xml-parser's XMLBuilder (it escapes text and
// attributes; we only strip characters XML 1.0 cannot carry at all).
//
// Two dialects: OCF 1.1 (passes ClusterLabs' ra-api.rng) for callers that set
// OCF_RA_VERSION_MINOR>=1, and OCF 1.0 (passes ra-api-1.dtd, as ocf-tester checks) for everyone
// else: same parameters, 1.1-only attributes and elements dropped, select shown as string.

import { XMLBuilder } from "fast-xml-parser";
import { defaultText, type AgentDecl, type ParamDecl, type ActionDecl } from "./declaration.js";

export type Dialect = "1.1" | "1.0";

// Everything outside XML 1.0's Char production (C0 controls but tab/LF/CR, lone surrogates, FFFE/FFFF).
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
export function xmlSafe(s: string): string {
  return s.replace(NOT_XML_CHAR, "");
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  textNodeName: "#text",
  format: true,
  indentBy: "  ",
  suppressEmptyNode: true,
  // otherwise default="true" is written as a bare `default` attribute
  suppressBooleanAttributes: false,
});

// Action names the 1.0 DTD enumerates.
const DTD_ACTIONS = new Set(["start", "stop", "recover", "monitor", "restart", "migrate_to", "migrate_from", "promote", "demote", "notify", "status", "reload", "meta-data", "usage", "methods", "validate-all"]);

function desc(text: string) {
  return { "@_lang": "en", "#text": xmlSafe(text.trim()) };
}

function paramNode(name: string, d: ParamDecl, dialect: Dialect) {
  const n: Record<string, unknown> = { "@_name": name };
  if (dialect === "1.1" && d.uniqueGroup) n["@_unique-group"] = d.uniqueGroup;
  if (d.uniqueGroup) n["@_unique"] = "1";
  n["@_required"] = d.required ? "1" : "0";
  if (dialect === "1.1") n["@_reloadable"] = d.reloadable ? "1" : "0";

  let longdesc = d.longdesc.trim();
  let shortdesc = d.shortdesc.trim();
  if (d.deprecated) {
    if (dialect === "1.1") {
      const dep: Record<string, unknown> = {};
      if (d.deprecated.replacedWith?.length) dep["replaced-with"] = d.deprecated.replacedWith.map((r) => ({ "@_name": r }));
      if (d.deprecated.desc) dep.desc = desc(d.deprecated.desc);
      n.deprecated = dep;
    } else {
      shortdesc = `${shortdesc} (deprecated)`;
    }
  }
  if (d.type === "select" && dialect === "1.0") {
    longdesc = `${longdesc}\nAllowed values: ${d.options.join(", ")}.`;
  }
  n.longdesc = desc(longdesc);
  n.shortdesc = desc(shortdesc);

  const content: Record<string, unknown> = { "@_type": d.type === "select" && dialect === "1.0" ? "string" : d.type };
  const def = defaultText(d);
  if (def !== undefined) content["@_default"] = xmlSafe(def);
  if (d.type === "select" && dialect === "1.1") content.option = d.options.map((o) => ({ "@_value": xmlSafe(o) }));
  n.content = content;
  return n;
}

function actionNode(a: ActionDecl, dialect: Dialect) {
  const n: Record<string, string> = { "@_name": a.name, "@_timeout": `${a.timeout}s` };
  if (a.interval !== undefined) n["@_interval"] = `${a.interval}s`;
  if (a.depth !== undefined) n["@_depth"] = String(a.depth);
  if (a.role) n["@_role"] = dialect === "1.1" ? a.role : a.role === "Promoted" ? "Master" : "Slave";
  return n;
}

export function renderMetadata(decl: AgentDecl, dialect: Dialect): string {
  const actions = decl.actions.filter((a) => dialect === "1.1" || DTD_ACTIONS.has(a.name));
  const doc = {
    "resource-agent": {
      "@_name": xmlSafe(decl.name),
      "@_version": xmlSafe(decl.version),
      version: dialect,
      longdesc: desc(decl.longdesc),
      shortdesc: desc(decl.shortdesc),
      parameters: { parameter: Object.entries(decl.params).map(([k, d]) => paramNode(k, d, dialect)) },
      actions: { action: actions.map((a) => actionNode(a, dialect)) },
    },
  };
  const head = dialect === "1.0" ? '<?xml version="1.0"?>\n<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">\n' : '<?xml version="1.0"?>\n';
  return head + builder.build(doc);
}
