// Glass-to-glass latency in Chromium, steady against baseline, for docs/benchmarks.md: runs
// browser_test.mjs for each variant in turn (steady, baseline, steady, ... so that load drifts
// hit both alike), for each peer count, and prints per-run figures and the medians over runs
// and peers. Timing figures: printed, never asserted.
//
//   node compare.mjs --server build/tests/examples/steady-webrtc/steady-webrtc \
//        [--peers 1,3] [--reps 3] [--seconds 20] [--codec vp8] [--out DIR]
//        [--churn-peer build/tests/examples/steady-webrtc/steady-webrtc-peer]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const server = opt("server");
if (!server) {
  console.error("compare: --server PATH is required");
  process.exit(2);
}
const peerCounts = opt("peers", "1,3").split(",").map(Number);
const reps = Number(opt("reps", "3"));
const seconds = opt("seconds", "20");
const codec = opt("codec", "vp8");
const churnPeer = opt("churn-peer", "");
const out = opt("out", fs.mkdtempSync(path.join(os.tmpdir(), "steady-webrtc-compare-")));
fs.mkdirSync(out, { recursive: true });
const test = path.join(path.dirname(fileURLToPath(import.meta.url)), "browser_test.mjs");

const median = (values) => {
  const v = values.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};
const load = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ")[0];

const runs = { steady: {}, baseline: {} };
for (const peers of peerCounts) {
  for (let rep = 1; rep <= reps; rep++) {
    for (const variant of ["steady", "baseline"]) {
      const json = path.join(out, `${variant}-${peers}-${rep}.json`);
      const before = load();
      const r = spawnSync(process.execPath, [test, "--server", server, "--variant", variant,
        "--codec", codec, "--peers", String(peers), "--seconds", seconds, "--no-assert",
        "--json", json, ...(churnPeer ? ["--churn-peer", churnPeer] : [])], { stdio: ["ignore", "pipe", "pipe"], timeout: 300000 });
      if (r.status !== 0 || !fs.existsSync(json)) {
        console.log(`compare: ${variant} ${peers} peers run ${rep} failed:\n${r.stdout}${r.stderr}`);
        continue;
      }
      const result = JSON.parse(fs.readFileSync(json, "utf8"));
      (runs[variant][peers] ??= []).push(result);
      for (const p of result.results)
        console.log(`${variant.padEnd(8)} peers=${peers} run=${rep} load=${before} peer=${p.peer} ` +
          `latency p50/p95/p99=${p.latencyMs.p50}/${p.latencyMs.p95}/${p.latencyMs.p99} ` +
          `to-receive p50/p95=${p.toReceiveMs.p50}/${p.toReceiveMs.p95} fps=${p.fps.toFixed(1)} ` +
          `jitter-buffer=${p.browser ? p.browser.jitterBufferDelayMs : "?"} ms ` +
          `freezes=${p.freezes}`);
    }
  }
}

console.log(`\nmedians over runs and peers (${codec}, ${seconds} s per run` +
  `${churnPeer ? ", webrtcbin peers joining and leaving meanwhile" : ""}, per-run JSON in ${out}):`);
console.log("| variant | peers | runs | latency p50 / p95 / p99 (ms) | to packet arrival p50 / p95 (ms) | jitter buffer (ms) | fps shown | freezes per peer |");
console.log("|---|---|---|---|---|---|---|---|");
for (const peers of peerCounts) {
  for (const variant of ["steady", "baseline"]) {
    const rs = runs[variant][peers] || [];
    const ps = rs.flatMap((r) => r.results);
    const m = (f) => median(ps.map(f));
    console.log(`| ${variant} | ${peers} | ${rs.length} | ${m((p) => p.latencyMs.p50)} / ` +
      `${m((p) => p.latencyMs.p95)} / ${m((p) => p.latencyMs.p99)} | ` +
      `${m((p) => p.toReceiveMs.p50)} / ${m((p) => p.toReceiveMs.p95)} | ` +
      `${m((p) => (p.browser ? p.browser.jitterBufferDelayMs : null))} | ` +
      `${(m((p) => p.fps) ?? 0).toFixed(1)} | ${m((p) => p.freezes)} |`);
  }
}
