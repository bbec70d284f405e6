/** The user who acts: an `id` and anything else the application keeps. */
export interface ActionUser {
  /** The user's id; audit entries record it as `String(id)`. */
  readonly id: string | number
  readonly [key: string]: unknown
}

/** What `runAction` is told about the action it runs. */
export interface ActionContext {
  /** The action's name, e.g. `'orders:submit'`. */
  readonly name: string
  /** Who acts; audit entries record `String(user.id)`. */
  readonly user?: ActionUser
  /** The request this action serves (an HTTP request id, a job id). */
  readonly requestId?: string
  /** What the action was asked to do; action event handlers get it as `params`. */
  readonly params?: Readonly<Record<string, unknown>>
  /**
   * The end user's language as a BCP 47 tag (`'ru'`, `'fr-CA'`): handlers
   * read it as `ctx.locale` to localize what they say. The HTTP middleware
   * takes it from `Accept-Language`.
   */
  readonly locale?: string
}
