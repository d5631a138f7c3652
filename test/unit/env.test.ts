import t from "tap";
import { effectiveLevel, isProbe, ocfIsFalse, ocfIsTrue, parseEnv, parseMeta, parseNotify, speaks11, splitList } from "../../lib/ocf/env.js";

t.test("OCF booleans", async (t) => {
  for (const v of ["yes", "YES", "true", "True", "1", "on", "ON", "ja", "Ja", " yes "]) t.ok(ocfIsTrue(v), v);
  for (const v of ["no", "false", "0", "off", "", "nein", "y", "2", "truex"]) t.notOk(ocfIsTrue(v), v);
  t.notOk(ocfIsTrue(undefined));
  for (const v of ["no", "NO", "false", "0", "off", "nein"]) t.ok(ocfIsFalse(v), v);
  t.notOk(ocfIsFalse("maybe"));
});

t.test("meta attributes are numbers, promoted falls back to master", async (t) => {
  const m = parseMeta({
    OCF_RESKEY_CRM_meta_timeout: "20000",
    OCF_RESKEY_CRM_meta_interval: "10000",
    OCF_RESKEY_CRM_meta_clone: "1",
    OCF_RESKEY_CRM_meta_clone_max: "2",
    OCF_RESKEY_CRM_meta_clone_node_max: "1",
    OCF_RESKEY_CRM_meta_master_max: "1",
    OCF_RESKEY_CRM_meta_master_node_max: "1",
    OCF_RESKEY_CRM_meta_notify: "true",
    OCF_RESKEY_CRM_meta_globally_unique: "false",
    OCF_RESKEY_CRM_meta_on_node: "node1",
  });
  t.same(m, {
    timeout: 20000, interval: 10000, name: undefined, onNode: "node1", onNodeUuid: undefined, clone: 1, cloneMax: 2, cloneNodeMax: 1,
    promotedMax: 1, promotedNodeMax: 1, notify: true, globallyUnique: false, isClone: true,
  });
  const m2 = parseMeta({ OCF_RESKEY_CRM_meta_promoted_max: "2", OCF_RESKEY_CRM_meta_master_max: "1" });
  t.equal(m2.promotedMax, 2, "new name wins over legacy");
  t.equal(m2.isClone, false);
  t.equal(parseMeta({}).interval, 0);
  t.equal(parseMeta({ OCF_RESKEY_CRM_meta_timeout: "abc" }).timeout, undefined);
});

t.test("notify lists: single space is empty, legacy names", async (t) => {
  const n = parseNotify({
    OCF_RESKEY_CRM_meta_notify_type: "post",
    OCF_RESKEY_CRM_meta_notify_operation: "promote",
    OCF_RESKEY_CRM_meta_notify_start_resource: " ",
    OCF_RESKEY_CRM_meta_notify_start_uname: " ",
    OCF_RESKEY_CRM_meta_notify_master_resource: "drbd:0 ",
    OCF_RESKEY_CRM_meta_notify_master_uname: "n1",
    OCF_RESKEY_CRM_meta_notify_slave_resource: "drbd:1",
    OCF_RESKEY_CRM_meta_notify_slave_uname: "n2",
    OCF_RESKEY_CRM_meta_notify_active_uname: "n1  n2",
  });
  t.equal(n.type, "post");
  t.equal(n.operation, "promote");
  t.same(n.start, { resource: [], uname: [] });
  t.same(n.promoted, { resource: ["drbd:0"], uname: ["n1"] });
  t.same(n.unpromoted, { resource: ["drbd:1"], uname: ["n2"] });
  t.same(n.active.uname, ["n1", "n2"]);
  const n2 = parseNotify({
    OCF_RESKEY_CRM_meta_notify_promoted_uname: "a",
    OCF_RESKEY_CRM_meta_notify_master_uname: "b",
    OCF_RESKEY_CRM_meta_notify_unpromoted_uname: " ",
    OCF_RESKEY_CRM_meta_notify_slave_uname: "c",
  });
  t.same(n2.promoted.uname, ["a"], "promoted preferred");
  t.same(n2.unpromoted.uname, [], "an empty new-style list is not replaced by the legacy one");
  t.equal(parseNotify({ OCF_RESKEY_CRM_meta_notify_type: "bogus" }).type, "");
  t.same(splitList(" "), []);
  t.same(splitList(undefined), []);
});

t.test("environment, probe, version, check level", async (t) => {
  const e = parseEnv({
    OCF_RESOURCE_INSTANCE: "vip",
    OCF_RESKEY_ip: "10.0.0.1",
    OCF_RESKEY_CRM_meta_timeout: "5000",
    OCF_CHECK_LEVEL: "20",
    OCF_RA_VERSION_MAJOR: "1",
    OCF_RA_VERSION_MINOR: "1",
    HA_RSCTMP: "/tmp/x",
  });
  t.equal(e.instance, "vip");
  t.same(e.reskeys, { ip: "10.0.0.1" }, "meta keys are not parameters");
  t.equal(e.checkLevel, 20);
  t.equal(e.rscTmp, "/tmp/x");
  t.equal(e.exitReasonPrefix, "ocf-exit-reason:");
  t.ok(speaks11(e));
  t.notOk(speaks11(parseEnv({})), "no version: 1.0");
  t.notOk(speaks11(parseEnv({ OCF_RA_VERSION_MAJOR: "1", OCF_RA_VERSION_MINOR: "0" })));
  t.ok(speaks11(parseEnv({ OCF_RA_VERSION_MAJOR: "2" })));
  t.equal(parseEnv({}).rscTmp, "/run/resource-agents");
  t.equal(parseEnv({ OCF_EXIT_REASON_PREFIX: "X:" }).exitReasonPrefix, "X:");
  t.ok(parseEnv({ HA_debug: "1" }).trace);
  t.ok(parseEnv({ OCF_TRACE_RA: "yes" }).trace);
  t.ok(isProbe("monitor", parseMeta({})));
  t.ok(isProbe("monitor", parseMeta({ OCF_RESKEY_CRM_meta_interval: "0" })));
  t.notOk(isProbe("monitor", parseMeta({ OCF_RESKEY_CRM_meta_interval: "10000" })));
  t.notOk(isProbe("start", parseMeta({})));
});

t.test("check level falls back to the highest supported level below", async (t) => {
  t.equal(effectiveLevel(0, [0, 10, 20]), 0);
  t.equal(effectiveLevel(15, [0, 10, 20]), 10);
  t.equal(effectiveLevel(20, [0, 10, 20]), 20);
  t.equal(effectiveLevel(99, [0, 10]), 10);
  t.equal(effectiveLevel(10, [0]), 0);
  t.equal(effectiveLevel(5, [0, 10]), 0);
  t.equal(effectiveLevel(-1, [0, 10]), 0);
});
