import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { DataSource } from 'typeorm'
import { demoEntities } from '../../demo/entities'
import { createExpressApp, createKoaApp, shopEvents } from '../../examples/http-api/app'
import { DB, openDataSource } from '../support/database'
import { RecordingLogger } from '../support/recording-logger'

describe.each(['express', 'koa'] as const)(`%s without a logger option logs to withEventActions' logger (${DB})`, (adapter) => {
  let ds: DataSource
  let server: http.Server
  const logger = new RecordingLogger()

  beforeAll(async () => {
    ds = await openDataSource(demoEntities, { logger })
    const events = shopEvents()
    server = http.createServer(adapter === 'express' ? createExpressApp(ds, events) : createKoaApp(ds, events).callback())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  })

  afterAll(async () => {
    server.closeAllConnections?.()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await ds.destroy()
  })

  it('a client error (malformed JSON, 400) is one warn line there, and nothing goes to console', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    try {
      const port = (server.address() as AddressInfo).port
      const response = await fetch(`http://127.0.0.1:${port}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"customer": ' })
      expect(response.status).toBe(400)
      expect(logger.of('warn')).toEqual([[expect.stringMatching(/^typeorm-event-actions: POST \/orders 400 /)]])
      expect(warn).not.toHaveBeenCalled()
    } finally {
      warn.mockRestore()
    }
  })
})
