import { describeValue } from '../basics/describe-value'
import { HardError } from '../basics/errors'
import type { JobSettings } from './job-backend'

/** @internal The function whose options are checked, named in each message. */
export type JobBackendMaker = 'pgBossJobs' | 'bullMqJobs'

/** @internal The settings both backends share, checked, with the defaults applied. */
export interface CheckedJobSettings {
  readonly retryLimit: number
  readonly retryDelay: number
  readonly retryBackoff: boolean
  readonly maxPayloadBytes: number
  readonly lostJobSeconds: number
}

/** @internal The error of a bad option, worded alike for both backends. */
export function optionError(maker: JobBackendMaker, option: string, rule: string, value: unknown): HardError {
  return new HardError(`${maker}(): ${option} must be ${rule}, got ${describeValue(value)}`)
}

/** @internal A whole-number option from `min` to `max`, or `fallback` when undefined. */
export function wholeOption(maker: JobBackendMaker, option: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw optionError(maker, option, max === Number.MAX_SAFE_INTEGER ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`, value)
  }
  return value
}

// Far beyond any sensible retry policy; a typo of 100000 is refused rather than retried for weeks.
const MAX_RETRY_LIMIT = 1000

/** @internal Where the rules of the two engines differ. */
export interface EngineLimits {
  /** The default of `lostJobSeconds`, and its ceiling. */
  readonly lostJob: { readonly fallback: number; readonly max?: number }
  /** pg-boss stores retry delays in whole seconds; BullMQ counts milliseconds. */
  readonly wholeRetryDelay: boolean
}

/**
 * @internal Checks the {@link JobSettings} of either backend by the same
 * rules and wording; only the limits of `limits` differ.
 */
export function checkJobSettings(maker: JobBackendMaker, options: JobSettings, limits: EngineLimits): CheckedJobSettings {
  const { retryBackoff = true, retryDelay = 2 } = options
  if (typeof retryBackoff !== 'boolean') throw optionError(maker, 'retryBackoff', 'true or false', retryBackoff)
  if (typeof retryDelay !== 'number' || !Number.isFinite(retryDelay) || retryDelay < 0 || (limits.wholeRetryDelay && !Number.isInteger(retryDelay))) {
    throw optionError(maker, 'retryDelay', limits.wholeRetryDelay ? 'a whole number of seconds, 0 or more' : 'a number of seconds, 0 or more', retryDelay)
  }
  const { lostJob } = limits
  return {
    retryLimit: wholeOption(maker, 'retryLimit', options.retryLimit, 5, 0, MAX_RETRY_LIMIT),
    retryDelay,
    retryBackoff,
    maxPayloadBytes: wholeOption(maker, 'maxPayloadBytes', options.maxPayloadBytes, 65536, 1),
    lostJobSeconds: wholeOption(maker, 'lostJobSeconds', options.lostJobSeconds, lostJob.fallback, 1, lostJob.max),
  }
}
