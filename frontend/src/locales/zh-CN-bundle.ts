// Everything a language other than English needs, loaded only when it is chosen: AutoDB's
// messages and naive-ui's own strings and date names.
import { dateZhCN, zhCN } from 'naive-ui'
import { serverText } from '@/utils/serverText'
import server from './server.zh-CN'
import zh from './zh-CN'

// The server's catalogued refusals (utils/serverText.ts) come with the language: English needs
// none, the server says them in English itself.
const messages = { ...zh, serverErrors: server }

export default { messages, locale: zhCN, dateLocale: dateZhCN, serverText }
