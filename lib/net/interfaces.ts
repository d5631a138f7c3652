// Network interface facts straight from /sys/class/net (no fork on the monitor path).
import { readFileSync, existsSync } from "node:fs";

const read = (nic: string, f: string): string | undefined => {
  try {
    return readFileSync(`/sys/class/net/${nic}/${f}`, "utf8").trim();
  } catch {
    return undefined;
  }
};

/** A safe interface name (as the kernel's dev_valid_name, max 15 chars). */
export function validIfName(n: string): boolean {
  return n.length > 0 && n.length <= 15 && n !== "." && n !== ".." && !/[/:\s]/.test(n) && !n.startsWith("-");
}

export function nicExists(nic: string): boolean {
  return validIfName(nic) && existsSync(`/sys/class/net/${nic}`);
}

export function ifIndex(nic: string): number | undefined {
  const v = validIfName(nic) ? read(nic, "ifindex") : undefined;
  return v === undefined ? undefined : Number(v);
}

/** operstate: up, down, lowerlayerdown, dormant, unknown (lo), notpresent. */
export function operState(nic: string): string | undefined {
  return validIfName(nic) ? read(nic, "operstate") : undefined;
}

/**
 * No carrier, or administratively down. `carrier` changes at once; `operstate` follows it only
 * after the kernel's link watch delay (~1 s), and reading `carrier` fails on an admin-down link.
 */
export function linkDown(nic: string): boolean {
  const carrier = validIfName(nic) ? read(nic, "carrier") : undefined;
  if (carrier === "0") return true;
  if (carrier === "1") return false;
  const s = operState(nic);
  return s === undefined || s === "down" || s === "lowerlayerdown" || s === "notpresent";
}

export function macAddress(nic: string): string | undefined {
  return validIfName(nic) ? read(nic, "address") : undefined;
}

/** ARPHRD type: 1 ethernet, 772 loopback, 32 infiniband. */
export function linkType(nic: string): number | undefined {
  const v = validIfName(nic) ? read(nic, "type") : undefined;
  return v === undefined ? undefined : Number(v);
}
