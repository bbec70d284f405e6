/** `npm run example:http`: the shop on Express and embedded SQLite, at http://127.0.0.1:3000 (PORT to change). */
import 'reflect-metadata'
import { dataSource } from '../../ormconfig'
import { setTranslator } from '../../src'
import { shopTranslator } from '../../demo/messages'
import { createExpressApp, shopEvents, warehouseLog } from './app'

async function main(): Promise<void> {
  // Error bodies speak the client's language (Accept-Language: ru or en).
  setTranslator(shopTranslator)
  await dataSource.initialize()
  const port = Number(process.env.PORT ?? 3000)
  const server = createExpressApp(dataSource, shopEvents()).listen(port, '127.0.0.1', () => {
    console.log(`shop listening on http://127.0.0.1:${port} (SQLite in memory)`)
  })
  setInterval(() => {
    while (warehouseLog.length) console.log(`warehouse: ${warehouseLog.shift()}`)
  }, 200).unref()
  process.on('SIGINT', () => server.close(() => void dataSource.destroy()))
}

void main()
