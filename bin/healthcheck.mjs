#!/usr/bin/env node
// Container health check (the Dockerfile's HEALTHCHECK, an ECS task's healthCheck): exit 0 when
// the health path answers 200, 1 otherwise (503 while draining, refused, or no answer in 2 s).
// TSWS_HEALTH_URL overrides the URL; the default is the default config's vhost.
const url = process.env.TSWS_HEALTH_URL ?? 'http://127.0.0.1:7681/healthz';
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  process.stdout.write(`${url}: ${res.status} ${(await res.text()).trim()}\n`);
  process.exitCode = res.status === 200 ? 0 : 1;
} catch (err) {
  process.stdout.write(`${url}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
