// Health checking: probes, cached verdicts published as metadata.health, and their schedule.

export { HealthChecker, type HealthCheckerOptions, type HealthCheckerStats } from "./checker.js";
export { HealthScheduler, type HealthSchedulerOptions } from "./scheduler.js";
export { type Check, type Endpoint, endpointOfUrl, isCheckable, type Target, targetOf } from "./target.js";
export { asHealthResult, HEALTH_KEY, HEALTH_STATUSES, type HealthResult, type HealthStatus } from "./types.js";
